"""Approval: build and encrypt the file(s), store them, mail single-use links; then the customer's
download, confirmation (deletes at once) and expiry.

Why links hold only a random token whose SHA-256 is stored: a database copy gives no working
link; a link works until confirmed or expired, and a refused link gets one answer whatever the
reason, so links cannot be probed. Files on disk are already encrypted for the customer.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from oathdesk.delivery import mail
from oathdesk.delivery.building import (
    CustomLayout,
    envelope,
    plain_name,
    records_by_shipment,
    render,
)
from oathdesk.delivery.context import SEAL_TENANT, Delivery, DeliveryError, sha256_hex
from oathdesk.delivery.models import DeliveryFile, DeliveryRequest, Order, Visit
from oathdesk.delivery.requesting import RequestView, get_request
from oathdesk.domain import OathdeskError, Secret
from oathdesk.service.accounts import HASHER
from oathdesk.store.sealing import SealedValue

GONE = (
    "this download link is no longer valid (used up, confirmed or expired); "
    "ask your account manager"
)


STALE = timedelta(minutes=10)  # an approval still unmailed after this was interrupted


@dataclass(frozen=True)
class LinkView:
    file_id: int
    request_id: int
    file_name: str
    size: int
    needs_password: bool
    expires_at: datetime
    downloads: int


def _path(dl: Delivery, storage_name: str) -> Path:
    return dl.settings.storage_dir / storage_name


def _build(dl: Delivery, session: Session, row: DeliveryRequest) -> list[tuple[str, str, bytes]]:
    """(label, file name, encrypted bytes) for each file the request asks for."""
    password = None
    if row.sealed_password is not None and row.password_key_id is not None:
        password = dl.inv.sealer.open(
            SealedValue(row.password_key_id, row.sealed_password),
            serial=f"request:{row.id}",
            tenant=SEAL_TENANT,
        )
    grouped = records_by_shipment(session, dl.inv.sealer, row.shipment_ids)
    layout = CustomLayout.from_dict(row.options["layout"]) if row.options.get("layout") else None
    order = session.get(Order, row.order_id)
    reference = (order.po_number or order.invoice_number or str(order.id)) if order else "order"
    if row.packaging == "combined":
        parts = [(reference, [r for rs in grouped.values() for r in rs])]
    else:
        parts = list(grouped.items())
    built = []
    for label, records in parts:
        plain = render(records, row.format, layout)
        data, name = envelope(
            plain, plain_name(label, row.format), row.encryption, password, row.pgp_key
        )
        built.append((label, name, data))
    return built


def approve(dl: Delivery, request_id: int, *, actor: str) -> RequestView:
    """Build, encrypt, store, mail. A request whose mail failed (``mail_failed``, or ``approved``
    for longer than ``STALE`` after a crash) is mailed again with fresh links; the files are not
    rebuilt (the password is gone by then). Two reviewers at once: the second gets a conflict."""
    written: list[Path] = []
    links: list[tuple[str, str]] = []
    try:
        with dl.tx() as session:
            row = session.get(DeliveryRequest, request_id, with_for_update=True)
            if row is None:
                raise DeliveryError(f"there is no request {request_id}", code="delivery.not_found")
            stale = row.decided_at is not None and dl.now() - row.decided_at > STALE
            if not (row.state in ("pending", "mail_failed") or (row.state == "approved" and stale)):
                raise DeliveryError(
                    f"request {request_id} is {row.state}; only pending requests are approved",
                    code="delivery.state_conflict",
                )
            now, expires = dl.now(), dl.now() + dl.settings.link_lifetime
            if row.state == "pending":
                try:
                    built = _build(dl, session, row)
                except DeliveryError:
                    raise
                except OathdeskError as exc:
                    raise DeliveryError(
                        f"the file cannot be built: {exc.message}",
                        code="delivery.not_buildable",
                        details={"cause": exc.code},
                    ) from None
                for label, name, data in built:
                    token, storage = secrets.token_urlsafe(32), secrets.token_hex(16)
                    path = _path(dl, storage)
                    with open(path, "xb") as fh:
                        fh.write(data)
                    path.chmod(0o600)
                    written.append(path)
                    session.add(
                        DeliveryFile(
                            request_id=row.id,
                            label=label,
                            file_name=name,
                            storage_name=storage,
                            size=len(data),
                            link_hash=sha256_hex(token),
                            created_at=now,
                            expires_at=expires,
                        )
                    )
                    links.append((name, f"{dl.settings.base_url}/d/{token}"))
                    dl.audit(
                        session,
                        "delivery.file_built",
                        actor=actor,
                        subject=f"request:{row.id}",
                        details={"file": name, "bytes": len(data), "label": label},
                    )
                row.sealed_password = row.password_key_id = None  # built: the password is gone
                row.state, row.decided_by, row.decided_at = "approved", actor, now
                dl.audit(
                    session, "delivery.request_approved", actor=actor, subject=f"request:{row.id}"
                )
            else:
                files = session.scalars(
                    select(DeliveryFile).where(
                        DeliveryFile.request_id == row.id, DeliveryFile.deleted_at.is_(None)
                    )
                ).all()
                for f in files:
                    token = secrets.token_urlsafe(32)
                    f.link_hash, f.expires_at = sha256_hex(token), expires
                    links.append((f.file_name, f"{dl.settings.base_url}/d/{token}"))
            order = session.get(Order, row.order_id)
            reference = (order.po_number or order.invoice_number) if order else None
            message = mail.link_message(
                dl.settings.smtp,
                row.email,
                reference or str(row.order_id),
                links,
                expires.strftime("%Y-%m-%d %H:%M"),
                row.password_hash is not None,
            )
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    try:
        mail.send(dl.settings.smtp, message)
    except DeliveryError as exc:
        with dl.tx() as session:
            failed = session.get(DeliveryRequest, request_id, with_for_update=True)
            if failed is not None:
                failed.state = "mail_failed"
            dl.audit(
                session,
                "delivery.mail_failed",
                actor=actor,
                subject=f"request:{request_id}",
                reason=exc.message,
            )
        raise
    with dl.tx() as session:
        row = session.get(DeliveryRequest, request_id, with_for_update=True)
        assert row is not None
        row.state = "sent"
        dl.audit(
            session,
            "delivery.mail_sent",
            actor=actor,
            subject=f"request:{request_id}",
            details={"to": row.email, "links": len(links)},
        )
    return get_request(dl, request_id)


def _gone() -> DeliveryError:
    return DeliveryError(GONE, code="delivery.link_gone")


def _live_file(dl: Delivery, session: Session, token: str) -> DeliveryFile:
    """The file behind a link; an expired one is deleted on the spot; any refusal says GONE."""
    row = session.scalars(
        select(DeliveryFile).where(DeliveryFile.link_hash == sha256_hex(token)).with_for_update()
    ).one_or_none()
    if row is None or row.deleted_at is not None:
        raise _gone()
    if row.expires_at <= dl.now():
        _delete(dl, session, row, "delivery.expired", actor="system:expiry")
        raise _gone()
    return row


def _delete(dl: Delivery, session: Session, row: DeliveryFile, action: str, *, actor: str) -> None:
    _path(dl, row.storage_name).unlink(missing_ok=True)
    row.deleted_at = dl.now()
    if action == "delivery.confirmed":
        row.confirmed_at = row.deleted_at
    dl.audit(
        session,
        action,
        actor=actor,
        subject=f"request:{row.request_id}",
        details={"file": row.file_name},
    )
    session.flush()
    files = session.scalars(
        select(DeliveryFile).where(DeliveryFile.request_id == row.request_id)
    ).all()
    if all(f.deleted_at is not None for f in files):
        request = session.get(DeliveryRequest, row.request_id)
        if request is not None:
            request.state = "confirmed" if all(f.confirmed_at for f in files) else "expired"


def open_link(dl: Delivery, token: str) -> LinkView:
    error: DeliveryError | None = None
    with dl.tx() as session:  # write: an expired link is deleted when it is opened
        try:
            row = _live_file(dl, session, token)
        except DeliveryError as exc:
            error = exc
        else:
            request = session.get(DeliveryRequest, row.request_id)
            assert request is not None
            return LinkView(
                row.id,
                row.request_id,
                row.file_name,
                row.size,
                request.password_hash is not None,
                row.expires_at,
                row.downloads,
            )
    raise error


def download(
    dl: Delivery, token: str, password: Secret | None, *, address: str
) -> tuple[bytes, str]:
    """The file's bytes and name, after the password when one was chosen."""
    error: DeliveryError | None = None
    with dl.tx() as session:
        try:
            row = _live_file(dl, session, token)
            request = session.get(DeliveryRequest, row.request_id)
            assert request is not None
            if row.password_failures >= dl.settings.password_attempts:
                raise DeliveryError(
                    "too many wrong passwords: this link is locked; ask your account manager",
                    code="delivery.link_forbidden",
                )
            if request.password_hash is not None and not _password_ok(
                request.password_hash, password
            ):
                row.password_failures += 1
                dl.audit(
                    session,
                    "delivery.download_refused",
                    actor=f"address:{address}",
                    subject=f"request:{row.request_id}",
                    details={"file": row.file_name, "failures": row.password_failures},
                )
                raise DeliveryError(
                    "the password is not the one chosen for this file",
                    code="delivery.wrong_password",
                    details={
                        "attempts_left": dl.settings.password_attempts - row.password_failures
                    },
                )
            data = _path(dl, row.storage_name).read_bytes()
            row.downloads += 1
            dl.audit(
                session,
                "delivery.downloaded",
                actor=f"customer:{request.email}",
                subject=f"request:{row.request_id}",
                details={"file": row.file_name, "address": address},
            )
            return data, row.file_name
        except DeliveryError as exc:
            error = exc
    raise error


def _password_ok(stored: str, password: Secret | None) -> bool:
    if password is None:
        return False
    with contextlib.suppress(VerificationError, InvalidHashError):
        return bool(HASHER.verify(stored, password.reveal()))
    return False


def confirm(dl: Delivery, token: str, *, address: str) -> str:
    """The customer has the file: delete it from storage now; the link stops working."""
    error: DeliveryError | None = None
    with dl.tx() as session:
        try:
            row = _live_file(dl, session, token)
            request = session.get(DeliveryRequest, row.request_id)
            actor = f"customer:{request.email}" if request else f"address:{address}"
            _delete(dl, session, row, "delivery.confirmed", actor=actor)
            return row.file_name
        except DeliveryError as exc:
            error = exc
    raise error


def purge_expired(dl: Delivery, *, actor: str) -> int:
    """Delete every stored file whose link has expired (and ended visits); returns how many."""
    with dl.tx() as session:
        session.execute(delete(Visit).where(Visit.expires_at <= dl.now()))
        rows = session.scalars(
            select(DeliveryFile).where(
                DeliveryFile.deleted_at.is_(None), DeliveryFile.expires_at <= dl.now()
            )
        ).all()
        for row in rows:
            _delete(dl, session, row, "delivery.expired", actor=actor)
        return len(rows)
