"""Approval: build and encrypt the file(s), store them, mail the links to the request's one
address.

Why links hold only a random token whose SHA-256 is stored: a database copy gives no working
link. Built files are already encrypted for the customer and are kept sealed in the database.
The customer's side of a link (download, confirmation, expiry) is ``links``.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from email.message import EmailMessage

from oathdesk.delivery import mail
from oathdesk.delivery.addresses import parse_address, same_domain
from oathdesk.delivery.building import (
    CustomLayout,
    envelope,
    plain_name,
    records_by_shipment,
    render,
)
from oathdesk.delivery.context import Delivery, DeliveryError, sha256_hex
from oathdesk.delivery.links import seal_file
from oathdesk.delivery.requesting import RequestView, get_request, locked_request, move
from oathdesk.domain import OathdeskError
from oathdesk.domain.wording import clause
from oathdesk.store import (
    DELIVERY_TENANT,
    DeliveryFile,
    DeliveryRequest,
    RequestState,
    SealedValue,
    UnitOfWork,
)

STALE = timedelta(minutes=10)  # an approval still unmailed after this was interrupted
R = RequestState


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
) -> list[tuple[str, str]]:
    """Build, encrypt and store (sealed, in the same transaction) a pending request's files;
    the sealed password is erased. Returns (file name, URL) links."""
    try:
        built = _build(dl, uow, row)
    except DeliveryError:
        raise
    except OathdeskError as exc:
        raise DeliveryError(
            f"The file cannot be built: {clause(exc.message)}.",
            code="delivery.not_buildable",
            details={"cause": exc.code},
        ) from None
    links = []
    for label, name, data in built:
        storage = secrets.token_hex(16)
        sealed = seal_file(dl, storage, data)
        link_hash, url = _link(dl)
        uow.delivery_requests.add_file(
            DeliveryFile(
                request_id=row.id,
                label=label,
                file_name=name,
                storage_name=storage,
                size=len(data),
                data_key_id=sealed.key_id,
                sealed_data=sealed.blob,
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


def _recipient(uow: UnitOfWork, row: DeliveryRequest) -> str:
    """The request's address, parsed again and checked against the customer's domain (a row
    stored before addresses were parsed must not reach anyone else), or ``invalid_email``."""
    order = uow.delivery_orders.order(row.order_id)
    customer = uow.delivery_orders.customer(order.customer_id) if order else None
    try:
        recipient = parse_address(row.email)
    except DeliveryError:
        recipient = ""
    if not recipient or customer is None or not same_domain(recipient, customer.email_domain):
        raise DeliveryError(
            f"Request {row.id}'s address is not at the customer's domain; reject it.",
            code="delivery.invalid_email",
        )
    return recipient


def _prepare(dl: Delivery, request_id: int, actor: str) -> tuple[EmailMessage, str, int]:
    """The approval's transaction: files built (or links renewed); the mail to send, its one
    recipient and how many links it holds."""
    expires = dl.now() + dl.settings.link_lifetime
    with dl.uow() as uow:
        row = locked_request(uow, request_id)
        stale = row.decided_at is not None and dl.now() - row.decided_at > STALE
        if not (row.state in (R.PENDING, R.MAIL_FAILED) or (row.state is R.APPROVED and stale)):
            raise DeliveryError(
                f"Request {request_id} is {row.state.value}; only pending requests are approved.",
                code="delivery.state_conflict",
            )
        recipient = _recipient(uow, row)
        if row.state is R.PENDING:
            links = _store_files(dl, uow, row, actor=actor, expires=expires)
        else:
            links = _fresh_links(dl, uow, row, expires=expires)
        order = uow.delivery_orders.order(row.order_id)
        message = mail.link_message(
            dl.settings.smtp,
            recipient,
            order.reference if order else str(row.order_id),
            links,
            expires.strftime("%Y-%m-%d %H:%M"),
            row.password_hash is not None,
        )
        return message, recipient, len(links)


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
    message, recipient, links = _prepare(dl, request_id, actor)
    try:
        mail.send(dl.settings.smtp, message, recipient)
    except DeliveryError as exc:
        _mailed(dl, request_id, actor=actor, links=links, error=exc)
        raise
    _mailed(dl, request_id, actor=actor, links=links, error=None)
    return get_request(dl, request_id)
