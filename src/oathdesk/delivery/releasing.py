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
from email.message import EmailMessage
from pathlib import Path

from argon2.exceptions import InvalidHashError, VerificationError

from oathdesk.delivery import mail
from oathdesk.delivery.building import (
    CustomLayout,
    envelope,
    plain_name,
    records_by_shipment,
    render,
)
from oathdesk.delivery.context import Delivery, DeliveryError, sha256_hex
from oathdesk.delivery.requesting import RequestView, get_request, locked_request, move
from oathdesk.domain import OathdeskError, Secret
from oathdesk.service.accounts import HASHER
from oathdesk.store import (
    DELIVERY_TENANT,
    DeliveryFile,
    DeliveryRequest,
    RequestState,
    SealedValue,
    UnitOfWork,
)

GONE = (
    "this download link is no longer valid (used up, confirmed or expired); "
    "ask your account manager"
)
STALE = timedelta(minutes=10)  # an approval still unmailed after this was interrupted
R = RequestState


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


def _build(dl: Delivery, uow: UnitOfWork, row: DeliveryRequest) -> list[tuple[str, str, bytes]]:
    """(label, file name, encrypted bytes) for each file the request asks for."""
    password = None
    if row.sealed_password is not None and row.password_key_id is not None:
        password = dl.inv.sealer.open(
            SealedValue(row.password_key_id, row.sealed_password),
            serial=f"request:{row.id}",
            tenant=DELIVERY_TENANT,
        )
    grouped = records_by_shipment(uow.delivery_orders, dl.inv.sealer, row.shipment_ids)
    layout = CustomLayout.from_dict(row.options["layout"]) if row.options.get("layout") else None
    order = uow.delivery_orders.order(row.order_id)
    reference = order.reference if order else "order"
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


def _link(dl: Delivery) -> tuple[str, str]:
    """A fresh link: (the SHA-256 kept, the URL mailed)."""
    token = secrets.token_urlsafe(32)
    return sha256_hex(token), f"{dl.settings.base_url}/d/{token}"


def _store_files(
    dl: Delivery,
    uow: UnitOfWork,
    row: DeliveryRequest,
    *,
    actor: str,
    expires: datetime,
    written: list[Path],
) -> list[tuple[str, str]]:
    """Build, encrypt and store a pending request's files (``written`` collects the paths so a
    failure removes them); the sealed password is erased. Returns (file name, URL) links."""
    try:
        built = _build(dl, uow, row)
    except DeliveryError:
        raise
    except OathdeskError as exc:
        raise DeliveryError(
            f"the file cannot be built: {exc.message}",
            code="delivery.not_buildable",
            details={"cause": exc.code},
        ) from None
    links = []
    for label, name, data in built:
        storage = secrets.token_hex(16)
        path = _path(dl, storage)
        with open(path, "xb") as fh:
            fh.write(data)
        path.chmod(0o600)
        written.append(path)
        link_hash, url = _link(dl)
        uow.delivery_requests.add_file(
            DeliveryFile(
                request_id=row.id,
                label=label,
                file_name=name,
                storage_name=storage,
                size=len(data),
                link_hash=link_hash,
                created_at=dl.now(),
                expires_at=expires,
            )
        )
        links.append((name, url))
        uow.delivery_audit.append(
            "delivery.file_built",
            actor=actor,
            subject=f"request:{row.id}",
            details={"file": name, "bytes": len(data), "label": label},
        )
    row.sealed_password = row.password_key_id = None  # built: the password is gone
    move(uow, row, R.APPROVED)
    row.decided_by, row.decided_at = actor, dl.now()
    uow.delivery_audit.append("delivery.request_approved", actor=actor, subject=f"request:{row.id}")
    return links


def _fresh_links(
    dl: Delivery, uow: UnitOfWork, row: DeliveryRequest, *, expires: datetime
) -> list[tuple[str, str]]:
    """New links for a request's stored files (the old ones stop working)."""
    links = []
    for f in uow.delivery_requests.files(row.id, live=True):
        f.link_hash, url = _link(dl)
        f.expires_at = expires
        links.append((f.file_name, url))
    return links


def _prepare(
    dl: Delivery, request_id: int, actor: str, written: list[Path]
) -> tuple[EmailMessage, int]:
    """The approval's transaction: files built (or links renewed); the mail to send and how
    many links it holds."""
    expires = dl.now() + dl.settings.link_lifetime
    with dl.uow() as uow:
        row = locked_request(uow, request_id)
        stale = row.decided_at is not None and dl.now() - row.decided_at > STALE
        if not (row.state in (R.PENDING, R.MAIL_FAILED) or (row.state is R.APPROVED and stale)):
            raise DeliveryError(
                f"request {request_id} is {row.state.value}; only pending requests are approved",
                code="delivery.state_conflict",
            )
        if row.state is R.PENDING:
            links = _store_files(dl, uow, row, actor=actor, expires=expires, written=written)
        else:
            links = _fresh_links(dl, uow, row, expires=expires)
        order = uow.delivery_orders.order(row.order_id)
        message = mail.link_message(
            dl.settings.smtp,
            row.email,
            order.reference if order else str(row.order_id),
            links,
            expires.strftime("%Y-%m-%d %H:%M"),
            row.password_hash is not None,
        )
        return message, len(links)


def _mailed(
    dl: Delivery, request_id: int, *, actor: str, links: int, error: DeliveryError | None
) -> None:
    """Record the mail's outcome: ``sent``, or ``mail_failed`` with the relay's answer (a link
    confirmed or expired in the meantime keeps its request's final state)."""
    with dl.uow() as uow:
        row = locked_request(uow, request_id)
        if row.state not in (R.CONFIRMED, R.EXPIRED):
            move(uow, row, R.SENT if error is None else R.MAIL_FAILED)
        if error is None:
            uow.delivery_audit.append(
                "delivery.mail_sent",
                actor=actor,
                subject=f"request:{request_id}",
                details={"to": row.email, "links": links},
            )
        else:
            uow.delivery_audit.append(
                "delivery.mail_failed",
                actor=actor,
                subject=f"request:{request_id}",
                reason=error.message,
            )


def approve(dl: Delivery, request_id: int, *, actor: str) -> RequestView:
    """Build, encrypt, store, mail. A request whose mail failed (``mail_failed``, or ``approved``
    for longer than ``STALE`` after a crash) is mailed again with fresh links; the files are not
    rebuilt (the password is gone by then). Two reviewers at once: the second gets a conflict."""
    written: list[Path] = []
    try:
        message, links = _prepare(dl, request_id, actor, written)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    try:
        mail.send(dl.settings.smtp, message)
    except DeliveryError as exc:
        _mailed(dl, request_id, actor=actor, links=links, error=exc)
        raise
    _mailed(dl, request_id, actor=actor, links=links, error=None)
    return get_request(dl, request_id)


def _gone() -> DeliveryError:
    return DeliveryError(GONE, code="delivery.link_gone")


def _live_file(dl: Delivery, uow: UnitOfWork, token: str) -> DeliveryFile:
    """The file behind a link; an expired one is deleted on the spot; any refusal says GONE."""
    row = uow.delivery_requests.file_by_link(sha256_hex(token))
    if row is None or row.deleted_at is not None:
        raise _gone()
    if row.expires_at <= dl.now():
        _delete(dl, uow, row, "delivery.expired", actor="system:expiry")
        raise _gone()
    return row


def _request_of(uow: UnitOfWork, row: DeliveryFile) -> DeliveryRequest:
    request = uow.delivery_requests.get(row.request_id)
    assert request is not None
    return request


def _delete(dl: Delivery, uow: UnitOfWork, row: DeliveryFile, action: str, *, actor: str) -> None:
    """Remove a stored file (confirmed or expired); the request ends with its last file."""
    _path(dl, row.storage_name).unlink(missing_ok=True)
    row.deleted_at = dl.now()
    if action == "delivery.confirmed":
        row.confirmed_at = row.deleted_at
    uow.delivery_audit.append(
        action, actor=actor, subject=f"request:{row.request_id}", details={"file": row.file_name}
    )
    files = uow.delivery_requests.files(row.request_id)
    if all(f.deleted_at is not None for f in files):
        done = all(f.confirmed_at for f in files)
        move(uow, _request_of(uow, row), R.CONFIRMED if done else R.EXPIRED)


def open_link(dl: Delivery, token: str) -> LinkView:
    error: DeliveryError | None = None
    with dl.uow() as uow:  # write: an expired link is deleted when it is opened
        try:
            row = _live_file(dl, uow, token)
        except DeliveryError as exc:
            error = exc
        else:
            return LinkView(
                row.id,
                row.request_id,
                row.file_name,
                row.size,
                _request_of(uow, row).password_hash is not None,
                row.expires_at,
                row.downloads,
            )
    raise error


def _refuse_password(
    dl: Delivery, uow: UnitOfWork, row: DeliveryFile, *, address: str
) -> DeliveryError:
    """Count a wrong download password on the link (audited); the answer to give."""
    row.password_failures += 1
    uow.delivery_audit.append(
        "delivery.download_refused",
        actor=f"address:{address}",
        subject=f"request:{row.request_id}",
        details={"file": row.file_name, "failures": row.password_failures},
    )
    return DeliveryError(
        "the password is not the one chosen for this file",
        code="delivery.wrong_password",
        details={"attempts_left": dl.settings.password_attempts - row.password_failures},
    )


def download(
    dl: Delivery, token: str, password: Secret | None, *, address: str
) -> tuple[bytes, str]:
    """The file's bytes and name, after the password when one was chosen."""
    error: DeliveryError | None = None
    with dl.uow() as uow:
        try:
            row = _live_file(dl, uow, token)
            request = _request_of(uow, row)
            if row.password_failures >= dl.settings.password_attempts:
                raise DeliveryError(
                    "too many wrong passwords: this link is locked; ask your account manager",
                    code="delivery.link_forbidden",
                )
            if request.password_hash is not None and not _password_ok(
                request.password_hash, password
            ):
                raise _refuse_password(dl, uow, row, address=address)
            data = _path(dl, row.storage_name).read_bytes()
            row.downloads += 1
            uow.delivery_audit.append(
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
    with dl.uow() as uow:
        try:
            row = _live_file(dl, uow, token)
            request = uow.delivery_requests.get(row.request_id)
            actor = f"customer:{request.email}" if request else f"address:{address}"
            _delete(dl, uow, row, "delivery.confirmed", actor=actor)
            return row.file_name
        except DeliveryError as exc:
            error = exc
    raise error


def purge_expired(dl: Delivery, *, actor: str) -> int:
    """Delete every stored file whose link has expired (and ended visits); returns how many."""
    with dl.uow() as uow:
        uow.delivery_orders.end_visits_before(dl.now())
        rows = uow.delivery_requests.expired_files(dl.now())
        for row in rows:
            _delete(dl, uow, row, "delivery.expired", actor=actor)
        return len(rows)
