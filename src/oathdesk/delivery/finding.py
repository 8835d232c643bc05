"""The customer's first steps: find an order, see its shipments, prove possession by a serial.

Why so guarded: order numbers are short and often sequential, so this is where someone would
enumerate orders. A wrong e-mail gets the very answer an unknown number gets, every failure is
counted per client address and per number (checked before anything is looked up) and audited.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from oathdesk.delivery.context import Delivery, DeliveryError, sha256_hex
from oathdesk.delivery.models import (
    Customer,
    DeliveryThrottle,
    Order,
    Shipment,
    ShipmentToken,
    Visit,
)
from oathdesk.delivery.settings import FindPolicy

log = logging.getLogger("oathdesk.delivery")
NOT_FOUND = "no order matches this number and e-mail address; check both and try again"


@dataclass(frozen=True)
class ShipmentView:
    id: int
    number: str
    tokens: int
    models: str
    verified: bool


@dataclass(frozen=True)
class OrderView:
    id: int
    po_number: str | None
    invoice_number: str | None
    customer: str
    account_manager: str
    shipments: tuple[ShipmentView, ...]

    @property
    def reference(self) -> str:
        return self.po_number or self.invoice_number or str(self.id)


@dataclass(frozen=True)
class VisitView:
    id_hash: str
    order: OrderView
    email: str
    verified: tuple[int, ...]


def _locked_until(session: Session, keys: list[str], now: datetime) -> datetime | None:
    rows = [session.get(DeliveryThrottle, k) for k in keys]
    until = [r.locked_until for r in rows if r and r.locked_until and r.locked_until > now]
    return max(until) if until else None


def _fail(session: Session, key: str, limit: int, policy: FindPolicy, now: datetime) -> None:
    row = session.get(DeliveryThrottle, key, with_for_update=True)
    if row is None:
        row = DeliveryThrottle(key=key, failures=0, window_started_at=now)
        session.add(row)
    if now - row.window_started_at > policy.window:
        row.failures, row.window_started_at, row.locked_until = 0, now, None
    row.failures += 1
    if row.failures >= limit:
        row.locked_until = now + policy.lockout
    session.flush()


def throttled(until: datetime, now: datetime) -> DeliveryError:
    wait = max(1, int((until - now).total_seconds() + 0.999))
    return DeliveryError(
        f"too many attempts; try again in {wait} seconds or ask your account manager",
        code="delivery.throttled",
        details={"retry_after": wait},
    )


def _order_for(session: Session, number: str) -> Order | None:
    order = session.scalars(
        select(Order).where(or_(Order.po_number == number, Order.invoice_number == number))
    ).first()
    if order is not None:
        return order
    return session.scalars(
        select(Order).join(Shipment, Shipment.order_id == Order.id).where(Shipment.number == number)
    ).first()


def order_view(session: Session, order: Order, verified: tuple[int, ...] = ()) -> OrderView:
    customer = session.get(Customer, order.customer_id)
    assert customer is not None
    rows = session.execute(
        select(
            Shipment.id,
            Shipment.number,
            func.count(ShipmentToken.id),
            func.max(ShipmentToken.model),
        )
        .join(ShipmentToken, ShipmentToken.shipment_id == Shipment.id)
        .where(Shipment.order_id == order.id)
        .group_by(Shipment.id, Shipment.number)
        .order_by(Shipment.number)
    ).all()
    return OrderView(
        id=order.id,
        po_number=order.po_number,
        invoice_number=order.invoice_number,
        customer=customer.name,
        account_manager=customer.account_manager,
        shipments=tuple(
            ShipmentView(sid, num, count, model or "", sid in verified)
            for sid, num, count, model in rows
        ),
    )


def find_order(dl: Delivery, number: str, email: str, *, address: str) -> tuple[str, VisitView]:
    """A new wizard visit for the order, or ``delivery.order_not_found`` for any mismatch."""
    number, email = number.strip()[:100], email.strip().lower()[:320]
    policy, now = dl.settings.find, dl.now()
    keys = [f"address:{address}"[:300], f"number:{number.lower()}"[:300]]
    error: DeliveryError
    with dl.tx() as session:
        until = _locked_until(session, keys, now)
        if until is not None:
            log.warning("order look-up refused while throttled from %s", address)
            dl.audit(
                session,
                "delivery.find_throttled",
                actor=f"address:{address}",
                subject=f"number:{number}",
            )
            error = throttled(until, now)
        else:
            order = _order_for(session, number) if number else None
            customer = session.get(Customer, order.customer_id) if order else None
            domain = email.rpartition("@")[2]
            if (
                order is not None
                and customer is not None
                and "@" in email
                and domain == customer.email_domain
            ):
                session.execute(delete(DeliveryThrottle).where(DeliveryThrottle.key == keys[1]))
                token = secrets.token_urlsafe(32)
                visit = Visit(
                    id=sha256_hex(token),
                    order_id=order.id,
                    email=email,
                    verified=[],
                    address=address[:64],
                    created_at=now,
                    expires_at=now + dl.settings.visit_lifetime,
                )
                session.add(visit)
                dl.audit(
                    session,
                    "delivery.order_found",
                    actor=f"customer:{email}",
                    subject=f"order:{order.po_number or order.invoice_number}",
                    details={"address": address, "number": number},
                )
                return token, VisitView(visit.id, order_view(session, order), email, ())
            _fail(session, keys[0], policy.address_failures, policy, now)
            _fail(session, keys[1], policy.number_failures, policy, now)
            log.warning("order look-up failed from %s", address)
            dl.audit(
                session,
                "delivery.find_failed",
                actor=f"address:{address}",
                subject=f"number:{number}",
                details={"address": address, "email_domain": email.rpartition("@")[2]},
            )
            error = DeliveryError(NOT_FOUND, code="delivery.order_not_found")
    raise error  # outside the transaction: the failure counts are committed


def resolve_visit(dl: Delivery, token: str | None) -> VisitView | None:
    """The live visit behind a cookie's id, or None."""
    if not token:
        return None
    with dl.tx(write=False) as session:
        visit = session.get(Visit, sha256_hex(token))
        if visit is None or visit.expires_at <= dl.now():
            return None
        order = session.get(Order, visit.order_id)
        assert order is not None
        verified = tuple(visit.verified)
        return VisitView(visit.id, order_view(session, order, verified), visit.email, verified)


def verify_possession(
    dl: Delivery, visit: VisitView, answers: dict[int, str], *, address: str
) -> VisitView:
    """Mark each picked shipment verified when the serial typed is one of its tokens."""
    if not answers:
        raise DeliveryError("pick at least one shipment", code="delivery.nothing_picked")
    policy, now = dl.settings.find, dl.now()
    keys = [f"address:{address}"[:300]]
    error: DeliveryError
    with dl.tx() as session:
        until = _locked_until(session, keys, now)
        if until is not None:
            error = throttled(until, now)
        else:
            row = session.get(Visit, visit.id_hash)
            if row is None:
                raise DeliveryError(
                    "this visit has ended; find the order again", code="delivery.visit_gone"
                )
            ours = {s.id: s.number for s in visit.order.shipments}
            wrong = []
            for shipment_id, serial in answers.items():
                found = session.scalars(
                    select(ShipmentToken.id).where(
                        ShipmentToken.shipment_id == shipment_id,
                        ShipmentToken.serial == serial.strip(),
                    )
                ).first()
                if shipment_id not in ours or found is None:
                    wrong.append(ours.get(shipment_id, "?"))
            if not wrong:
                row.verified = sorted(set(row.verified) | set(answers))
                dl.audit(
                    session,
                    "delivery.possession_verified",
                    actor=f"customer:{visit.email}",
                    subject=f"order:{visit.order.reference}",
                    details={"shipments": sorted(ours[i] for i in answers)},
                )
                order = session.get(Order, row.order_id)
                assert order is not None
                verified = tuple(row.verified)
                return VisitView(row.id, order_view(session, order, verified), row.email, verified)
            _fail(session, keys[0], policy.address_failures, policy, now)
            dl.audit(
                session,
                "delivery.possession_failed",
                actor=f"customer:{visit.email}",
                subject=f"order:{visit.order.reference}",
                details={"shipments": wrong, "address": address},
            )
            error = DeliveryError(
                f"the serial typed for shipment {', '.join(wrong)} is not one of its tokens; "
                "type the serial printed on any token of that shipment",
                code="delivery.serial_mismatch",
                details={"shipments": wrong},
            )
    raise error
