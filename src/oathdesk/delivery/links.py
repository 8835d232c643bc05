"""The customer's side of a mailed link: open it, download the file (``[delivery] downloads``
times, default once), confirm (deletes at once), or let it expire.

Why so strict: the link and its password are all that stand between a forwarded or intercepted
mail and the seeds. A link serves its downloads, counted under the row's lock, then answers
``delivery.link_forbidden``; deleting needs a receipt that only a download hands out and that
lasts one visit, so someone holding the link alone can neither take a second copy nor delete the
customer's file. A refused link gets one answer whatever the reason (``delivery.link_gone``),
so links cannot be probed.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from argon2.exceptions import InvalidHashError, VerificationError

from oathdesk.delivery.context import Delivery, DeliveryError, sha256_hex
from oathdesk.delivery.requesting import move
from oathdesk.domain import Secret
from oathdesk.service.accounts import HASHER
from oathdesk.store import (
    DELIVERY_TENANT,
    DeliveryFile,
    DeliveryRequest,
    RequestState,
    SealedValue,
    UnitOfWork,
)

R = RequestState

GONE = (
    "This download link is no longer valid (used up, confirmed or expired); "
    "ask your account manager."
)


@dataclass(frozen=True)
class LinkView:
    file_id: int
    request_id: int
    file_name: str
    size: int
    needs_password: bool
    expires_at: datetime
    downloads: int
    downloads_left: int

    @property
    def used_up(self) -> bool:
        """The link served its downloads: it only confirms now."""
        return self.downloads_left <= 0


@dataclass(frozen=True)
class Download:
    """A served download: the file, and the receipt that lets this visit confirm it."""

    data: bytes = field(repr=False)
    file_name: str
    receipt: str = field(repr=False)


def _purpose(storage_name: str) -> str:
    return f"delivery-file:{storage_name}"


def seal_file(dl: Delivery, storage_name: str, data: bytes) -> SealedValue:
    """A built file sealed with the inventory's key ring (AES-GCM, bound to its row's storage
    name), as the database keeps it until the download: any node can serve it, none needs a
    shared folder, and a database copy alone opens nothing."""
    return dl.inv.sealer.seal(Secret(data), serial=_purpose(storage_name), tenant=DELIVERY_TENANT)


def _open_file(dl: Delivery, row: DeliveryFile) -> bytes:
    if row.sealed_data is None or row.data_key_id is None:
        raise _gone()
    sealed = SealedValue(row.data_key_id, row.sealed_data)
    opened = dl.inv.sealer.open(sealed, serial=_purpose(row.storage_name), tenant=DELIVERY_TENANT)
    return opened.reveal()


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
    row.sealed_data = row.data_key_id = None
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
                max(dl.settings.downloads - row.downloads, 0),
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
        "The password is not the one chosen for this file.",
        code="delivery.wrong_password",
        details={"attempts_left": dl.settings.password_attempts - row.password_failures},
    )


def download(dl: Delivery, token: str, password: Secret | None, *, address: str) -> Download:
    """The file, after the password when one was chosen, while the link has downloads left
    (``[delivery] downloads``, counted under the row's lock so racing requests cannot both
    take the last one); with it a receipt for confirming in the same visit."""
    error: DeliveryError | None = None
    with dl.uow() as uow:
        try:
            row = _live_file(dl, uow, token)
            request = _request_of(uow, row)
            if row.downloads >= dl.settings.downloads:
                raise _forbidden(
                    "This link has been used for its download; confirm on the page where you "
                    "downloaded, or ask your account manager."
                )
            if row.password_failures >= dl.settings.password_attempts:
                raise _forbidden(
                    "Too many wrong passwords: this link is locked; ask your account manager."
                )
            if request.password_hash is not None and not _password_ok(
                request.password_hash, password
            ):
                raise _refuse_password(dl, uow, row, address=address)
            data = _open_file(dl, row)
            row.downloads += 1
            uow.delivery_audit.append(
                "delivery.downloaded",
                actor=f"customer:{request.email}",
                subject=f"request:{row.request_id}",
                details={"file": row.file_name, "address": address, "download": row.downloads},
            )
            return Download(data, row.file_name, _receipt(dl, row.link_hash))
        except DeliveryError as exc:
            error = exc
    raise error


def _forbidden(message: str) -> DeliveryError:
    return DeliveryError(message, code="delivery.link_forbidden")


def _receipt_mac(dl: Delivery, link_hash: str, issued: str, nonce: str) -> str:
    text = f"oathdesk.delivery.receipt|{link_hash}|{issued}|{nonce}".encode()
    return hmac.new(dl.settings.secret_key.reveal(), text, hashlib.sha256).hexdigest()


def _receipt(dl: Delivery, link_hash: str) -> str:
    """Proof of one download of this link at this time: ``issued.nonce.mac``."""
    issued, nonce = str(int(dl.now().timestamp())), secrets.token_hex(8)
    return f"{issued}.{nonce}.{_receipt_mac(dl, link_hash, issued, nonce)}"


def _receipt_ok(dl: Delivery, link_hash: str, receipt: str | None) -> bool:
    """Whether ``receipt`` came from a download of this link within one visit's lifetime."""
    issued, _dot, rest = (receipt or "").partition(".")
    nonce, _dot, mac = rest.partition(".")
    if not (issued.isdigit() and nonce and mac):
        return False
    age = dl.now().timestamp() - int(issued)
    fresh = -60 <= age <= dl.settings.visit_lifetime.total_seconds()
    return fresh and hmac.compare_digest(mac, _receipt_mac(dl, link_hash, issued, nonce))


def _password_ok(stored: str, password: Secret | None) -> bool:
    if password is None:
        return False
    with contextlib.suppress(VerificationError, InvalidHashError):
        return bool(HASHER.verify(stored, password.reveal()))
    return False


def check_receipt(dl: Delivery, token: str, receipt: str | None) -> LinkView:
    """The link, when ``receipt`` proves a download of it in this visit; else
    ``delivery.not_downloaded`` (or ``link_gone``). The confirmation page asks this first."""
    link = open_link(dl, token)
    if not _receipt_ok(dl, sha256_hex(token), receipt):
        raise _not_downloaded()
    return link


def _not_downloaded() -> DeliveryError:
    return DeliveryError(
        "Download the file on this page first: only the visit that downloaded it can delete it.",
        code="delivery.not_downloaded",
    )


def confirm(dl: Delivery, token: str, *, receipt: str | None, address: str) -> str:
    """The customer has the file (``receipt`` from :func:`download` in this visit): delete it
    from storage now; the link stops working."""
    error: DeliveryError | None = None
    with dl.uow() as uow:
        try:
            row = _live_file(dl, uow, token)
            if row.downloads < 1 or not _receipt_ok(dl, row.link_hash, receipt):
                raise _not_downloaded()
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
