"""The customer's request (shipments, packaging, format, encryption) and the team's view of it.

Why the password is sealed, not hashed only: the file is built and encrypted when the delivery
team approves, later than the customer types the password, so until then it is kept sealed with
the same AES-GCM keys as the seeds (outside the database); the build erases it and only an
argon2 hash stays, so the download page can ask for it before handing the file over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from oathdesk.delivery.building import (
    ENCRYPTIONS,
    PACKAGINGS,
    CustomLayout,
    check_format,
    envelope,
    records_by_shipment,
    render,
)
from oathdesk.delivery.context import Delivery, DeliveryError
from oathdesk.delivery.finding import VisitView
from oathdesk.domain import OathdeskError, Secret, SeedRecord
from oathdesk.domain.wording import clause
from oathdesk.service.accounts import HASHER
from oathdesk.store import (
    DELIVERY_TENANT,
    DeliveryFile,
    DeliveryRequest,
    RequestState,
    StateConflict,
    UnitOfWork,
)

MIN_PASSWORD = 12
_COMMON = ("password", "passwort", "123456", "qwerty", "letmein", "welcome", "azerty", "secret")


@dataclass(frozen=True)
class RequestSpec:
    """What the customer chose in the wizard."""

    shipment_ids: tuple[int, ...]
    packaging: str
    format: str
    encryption: str
    password: Secret | None = field(default=None, repr=False)
    pgp_key: str | None = None
    layout: CustomLayout | None = None


@dataclass(frozen=True)
class FileView:
    id: int
    label: str
    file_name: str
    size: int
    expires_at: datetime
    downloads: int
    confirmed: bool
    deleted: bool


@dataclass(frozen=True)
class RequestView:
    id: int
    state: str
    customer: str
    email: str
    order: str
    shipments: tuple[str, ...]
    packaging: str
    format: str
    layout: dict[str, Any] | None
    encryption: str
    reason: str
    decided_by: str | None
    created_at: datetime
    files: tuple[FileView, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "customer": self.customer,
            "email": self.email,
            "order": self.order,
            "shipments": list(self.shipments),
            "packaging": self.packaging,
            "format": self.format,
            "encryption": self.encryption,
            "reason": self.reason,
            "decided_by": self.decided_by,
            "created_at": self.created_at.isoformat(),
        }


def check_password(password: str, context: list[str]) -> None:
    """Refuse passwords a guesser tries first; the message says how to make a better one."""

    def weak(why: str) -> DeliveryError:
        return DeliveryError(f"Choose a stronger password: {why}.", code="delivery.weak_password")

    if len(password) < MIN_PASSWORD:
        raise weak(f"use at least {MIN_PASSWORD} characters")
    classes = sum(
        (
            bool(re.search(r"[a-z]", password)),
            bool(re.search(r"[A-Z]", password)),
            bool(re.search(r"\d", password)),
            bool(re.search(r"[^A-Za-z0-9]", password)),
        )
    )
    if len(password) < 20 and classes < 3:
        raise weak("mix three of lower case, upper case, digits and symbols, or use 20+ characters")
    if len(set(password)) < 6:
        raise weak("it repeats too few different characters")
    lowered = password.lower()
    for word in (*_COMMON, *(c.lower() for c in context if len(c) >= 4)):
        if word in lowered:
            raise weak("it contains a common word, the order number or your e-mail address")


def _check_buildable(
    grouped: dict[str, list[SeedRecord]], spec: RequestSpec, key: str | None
) -> None:
    """What the team will build must be buildable: the format (per file) and the key now."""
    parts = (
        [[r for rs in grouped.values() for r in rs]]
        if spec.packaging == "combined"
        else list(grouped.values())
    )
    try:
        for records in parts:
            render(records, spec.format, spec.layout)
    except DeliveryError:
        raise
    except OathdeskError as exc:
        raise DeliveryError(
            f"This format cannot hold these tokens: {clause(exc.message)}.",
            code="delivery.not_buildable",
            details={"cause": exc.code},
        ) from None
    if key:
        try:
            envelope(b"check", "check.csv", "pgp", None, key)
        except OathdeskError as exc:
            raise DeliveryError(
                f"The PGP public key cannot be used: {clause(exc.message)}.",
                code="delivery.pgp_key_invalid",
                details={"cause": exc.code},
            ) from None


def create_request(dl: Delivery, visit: VisitView, spec: RequestSpec) -> int:
    """Check every choice, then queue the request for the delivery team."""
    if not spec.shipment_ids:
        raise DeliveryError("Pick at least one shipment.", code="delivery.nothing_picked")
    unverified = set(spec.shipment_ids) - set(visit.verified)
    if unverified:
        raise DeliveryError(
            "Prove possession of every picked shipment first (type one of its serials).",
            code="delivery.not_verified",
        )
    if spec.packaging not in PACKAGINGS:
        raise DeliveryError(
            "Choose one file or one file per shipment.", code="delivery.invalid_packaging"
        )
    if spec.encryption not in ENCRYPTIONS:
        raise DeliveryError("Choose password, PGP or both.", code="delivery.invalid_encryption")
    check_format(spec.format)
    password = spec.password if spec.encryption in ("password", "both") else None
    if spec.encryption in ("password", "both"):
        if password is None:
            raise DeliveryError("Type a password for the file.", code="delivery.password_missing")
        context = [visit.email, visit.email.partition("@")[0], visit.order.reference]
        check_password(password.reveal().decode("utf-8", "replace"), context)
    key = (spec.pgp_key or "").strip() if spec.encryption in ("pgp", "both") else None
    if spec.encryption in ("pgp", "both") and not key:
        raise DeliveryError("Paste or upload a PGP public key.", code="delivery.pgp_key_missing")
    with dl.uow(write=False) as uow:
        grouped = records_by_shipment(uow.delivery_orders, dl.inv.sealer, spec.shipment_ids)
    _check_buildable(grouped, spec, key)
    with dl.uow() as uow:
        row = uow.delivery_requests.add(
            DeliveryRequest(
                order_id=visit.order.id,
                email=visit.email,
                shipment_ids=sorted(spec.shipment_ids),
                packaging=spec.packaging,
                format=spec.format,
                options={"layout": spec.layout.to_dict()}
                if spec.layout and spec.format == "custom-csv"
                else {},
                encryption=spec.encryption,
                password_hash=HASHER.hash(password.reveal()) if password else None,
                pgp_key=key,
                state=RequestState.PENDING,
                created_at=dl.now(),
            )
        )
        if password is not None:
            sealed = dl.inv.sealer.seal(
                password, serial=f"request:{row.id}", tenant=DELIVERY_TENANT
            )
            row.password_key_id, row.sealed_password = sealed.key_id, sealed.blob
        # one request per visit: the next one finds the order again
        uow.delivery_orders.end_visit(visit.id_hash)
        uow.delivery_audit.append(
            "delivery.request_created",
            actor=f"customer:{visit.email}",
            subject=f"request:{row.id}",
            details={
                "order": visit.order.reference,
                "shipments": sorted(grouped),
                "packaging": spec.packaging,
                "format": spec.format,
                "encryption": spec.encryption,
            },
        )
        return row.id


def file_view(f: DeliveryFile) -> FileView:
    return FileView(
        f.id,
        f.label,
        f.file_name,
        f.size,
        f.expires_at,
        f.downloads,
        f.confirmed_at is not None,
        f.deleted_at is not None,
    )


def request_view(uow: UnitOfWork, row: DeliveryRequest, *, files: bool = False) -> RequestView:
    """What the team sees of a request (never its password material)."""
    orders = uow.delivery_orders
    order = orders.order(row.order_id)
    assert order is not None
    customer = orders.customer(order.customer_id)
    return RequestView(
        id=row.id,
        state=row.state.value,
        customer=customer.name if customer else "?",
        email=row.email,
        order=order.reference,
        shipments=tuple(orders.shipment_numbers(row.shipment_ids)),
        packaging=row.packaging,
        format=row.format,
        layout=row.options.get("layout"),
        encryption=row.encryption,
        reason=row.reason,
        decided_by=row.decided_by,
        created_at=row.created_at,
        files=tuple(file_view(f) for f in uow.delivery_requests.files(row.id)) if files else (),
    )


def list_requests(dl: Delivery, state: str | None = None) -> list[RequestView]:
    names = [s.value for s in RequestState]
    if state is not None and state not in names:
        raise DeliveryError(
            f"Unknown state {state!r}; states are {', '.join(names)}.", code="delivery.bad_state"
        )
    with dl.uow(write=False) as uow:
        rows = uow.delivery_requests.by_state(RequestState(state) if state else None)
        return [request_view(uow, r) for r in rows]


def get_request(dl: Delivery, request_id: int) -> RequestView:
    with dl.uow(write=False) as uow:
        row = uow.delivery_requests.get(request_id)
        if row is None:
            raise DeliveryError(f"There is no request {request_id}.", code="delivery.not_found")
        return request_view(uow, row, files=True)


def locked_request(uow: UnitOfWork, request_id: int) -> DeliveryRequest:
    """The request, locked for a change, or ``delivery.not_found``."""
    row = uow.delivery_requests.get(request_id, for_update=True)
    if row is None:
        raise DeliveryError(f"There is no request {request_id}.", code="delivery.not_found")
    return row


def move(uow: UnitOfWork, row: DeliveryRequest, target: RequestState) -> None:
    """The one way a use case changes a request's state (a refused move keeps its code)."""
    try:
        uow.delivery_requests.move(row, target)
    except StateConflict as exc:
        raise DeliveryError(exc.message, code=exc.code, details=exc.details) from None


def reject(dl: Delivery, request_id: int, reason: str, *, actor: str) -> RequestView:
    """Refuse a pending request with a reason; its sealed password is erased at once."""
    if not reason.strip():
        raise DeliveryError("Say why the request is rejected.", code="delivery.reason_required")
    with dl.uow() as uow:
        row = locked_request(uow, request_id)
        if row.state is not RequestState.PENDING:
            raise DeliveryError(
                f"Request {request_id} is {row.state.value}, not pending.",
                code="delivery.state_conflict",
            )
        move(uow, row, RequestState.REJECTED)
        row.reason = reason.strip()[:2000]
        row.decided_by, row.decided_at = actor, dl.now()
        row.sealed_password = row.password_key_id = None
        uow.delivery_audit.append(
            "delivery.request_rejected",
            actor=actor,
            subject=f"request:{row.id}",
            reason=row.reason,
        )
        return request_view(uow, row, files=True)
