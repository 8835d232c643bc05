"""The customer's first steps: find an order, see its shipments, prove possession by a serial.

Why so guarded: order numbers are short and often sequential, so this is where someone would
enumerate orders. A wrong e-mail gets the very answer an unknown number gets, every failure is
counted (checked before anything is looked up) and audited. Counts are kept per client network
and per (number, network), so wrong look-ups from elsewhere never lock the real customer out,
plus a high count per number over all networks that still bounds the guesses on one order. A
wrong serial counts per visit, per network and per order (``FindPolicy`` has the figures).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from oathdesk.delivery.addresses import domain_of, parse_address, same_domain
from oathdesk.delivery.context import Delivery, DeliveryError, sha256_hex
from oathdesk.delivery.settings import FindPolicy
from oathdesk.store import Order, UnitOfWork, Visit, retry_after
from oathdesk.store.throttle import network_key, pair

log = logging.getLogger("oathdesk.delivery")
NOT_FOUND = "No order matches this number and e-mail address; check both and try again."


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


def find_limits(policy: FindPolicy, address: str, number: str) -> list[tuple[str, int]]:
    """A look-up's throttle keys and limits: the client network's, the (number, network)
    pair's, and the number's over all networks."""
    subject = f"delivery:number:{number.lower()}"
    return [
        (network_key("delivery", address), policy.address_failures),
        (pair(subject, address), policy.number_failures),
        (subject[:300], policy.number_total),
    ]


def serial_limits(policy: FindPolicy, address: str, visit: VisitView) -> list[tuple[str, int]]:
    """A serial check's throttle keys and limits: the client network's, the visit's, and the
    order's over all visits (a new visit does not give new guesses)."""
    return [
        (network_key("delivery", address), policy.address_failures),
        (f"delivery:visit:{visit.id_hash}"[:300], policy.visit_failures),
        (f"delivery:order:{visit.order.id}", policy.serial_total),
    ]


def _reserve(
    dl: Delivery, limits: list[tuple[str, int]], policy: FindPolicy, now: datetime
) -> datetime | None:
    """Count this attempt before anything is looked up (committed at once), or the running
    lock; a right answer gives the count back. See ``store.throttle``."""
    with dl.uow() as uow:
        return uow.throttle.reserve(
            limits,
            window=policy.window,
            lockout=policy.lockout,
            now=now,
            first_lockout=policy.first_lockout,
        )


def _give_back(uow: UnitOfWork, limits: list[tuple[str, int]]) -> None:
    for key, limit in limits:
        uow.throttle.release(key, limit)


def throttled(until: datetime, now: datetime) -> DeliveryError:
    wait = retry_after(until, now)
    return DeliveryError(
        f"Too many attempts; try again in {wait} seconds or ask your account manager.",
        code="delivery.throttled",
        details={"retry_after": wait},
    )


def order_view(uow: UnitOfWork, order: Order, verified: tuple[int, ...] = ()) -> OrderView:
    customer = uow.delivery_orders.customer(order.customer_id)
    assert customer is not None
    return OrderView(
        id=order.id,
        po_number=order.po_number,
        invoice_number=order.invoice_number,
        customer=customer.name,
        account_manager=customer.account_manager,
        shipments=tuple(
            ShipmentView(s.id, s.number, s.tokens, s.model, s.id in verified)
            for s in uow.delivery_orders.summaries(order)
        ),
    )


def _open_visit(
    dl: Delivery, uow: UnitOfWork, order: Order, email: str, *, address: str, number: str
) -> tuple[str, VisitView]:
    """A new visit for a right answer: this network's failures on the number are forgotten,
    the other counts get this attempt back, the find is audited."""
    now = dl.now()
    network, mine, everyone = find_limits(dl.settings.find, address, number)
    uow.throttle.clear(mine[0])
    _give_back(uow, [network, everyone])
    token = secrets.token_urlsafe(32)
    visit = uow.delivery_orders.add_visit(
        Visit(
            id=sha256_hex(token),
            order_id=order.id,
            email=email,
            verified=[],
            address=address[:64],
            created_at=now,
            expires_at=now + dl.settings.visit_lifetime,
        )
    )
    uow.delivery_audit.append(
        "delivery.order_found",
        actor=f"customer:{email}",
        subject=f"order:{order.po_number or order.invoice_number}",
        details={"address": address, "number": number},
    )
    return token, VisitView(visit.id, order_view(uow, order), email, ())


def find_order(dl: Delivery, number: str, email: str, *, address: str) -> tuple[str, VisitView]:
    """A new wizard visit for the order, or ``delivery.order_not_found`` for any mismatch
    (``delivery.invalid_email`` when ``email`` is not one plain address: that says nothing of
    orders). The visit keeps the normalised address; the link will go there alone."""
    number, email = number.strip()[:100], parse_address(email[:320])
    policy, now = dl.settings.find, dl.now()
    until = _reserve(dl, find_limits(policy, address, number), policy, now)
    error: DeliveryError
    with dl.uow() as uow:
        if until is not None:
            log.warning("order look-up refused while throttled from %s", address)
            uow.delivery_audit.append(
                "delivery.find_throttled", actor=f"address:{address}", subject=f"number:{number}"
            )
            error = throttled(until, now)
        else:
            order = uow.delivery_orders.order_by_number(number) if number else None
            customer = uow.delivery_orders.customer(order.customer_id) if order else None
            domain = domain_of(email)
            if order and customer and same_domain(email, customer.email_domain):
                return _open_visit(dl, uow, order, email, address=address, number=number)
            # the reservation stays counted as this failure
            log.warning("order look-up failed from %s", address)
            uow.delivery_audit.append(
                "delivery.find_failed",
                actor=f"address:{address}",
                subject=f"number:{number}",
                details={"address": address, "email_domain": domain},
            )
            error = DeliveryError(NOT_FOUND, code="delivery.order_not_found")
    raise error  # outside the transaction: the failure counts are committed


def resolve_visit(dl: Delivery, token: str | None) -> VisitView | None:
    """The live visit behind a cookie's id, or None."""
    if not token:
        return None
    with dl.uow(write=False) as uow:
        visit = uow.delivery_orders.visit(sha256_hex(token))
        if visit is None or visit.expires_at <= dl.now():
            return None
        order = uow.delivery_orders.order(visit.order_id)
        assert order is not None
        verified = tuple(visit.verified)
        return VisitView(visit.id, order_view(uow, order, verified), visit.email, verified)


def verify_possession(
    dl: Delivery, visit: VisitView, answers: dict[int, str], *, address: str
) -> VisitView:
    """Mark each picked shipment verified when the serial typed is one of its tokens."""
    verified = _verify(dl, visit, answers, address=address)
    if verified is None:
        ended = "This visit has ended; find the order again."
        raise DeliveryError(ended, code="delivery.visit_gone")
    return verified


def _verify(
    dl: Delivery, visit: VisitView, answers: dict[int, str], *, address: str
) -> VisitView | None:
    if not answers:
        raise DeliveryError("Pick at least one shipment.", code="delivery.nothing_picked")
    policy, now = dl.settings.find, dl.now()
    limits = serial_limits(policy, address, visit)
    until = _reserve(dl, limits, policy, now)
    if until is not None:
        raise throttled(until, now)
    error: DeliveryError
    with dl.uow() as uow:
        row = uow.delivery_orders.visit(visit.id_hash)
        if row is None:
            _give_back(uow, limits)
            return None  # committed: the caller answers delivery.visit_gone
        ours = {s.id: s.number for s in visit.order.shipments}
        wrong = [
            ours.get(shipment_id, "?")
            for shipment_id, serial in answers.items()
            if shipment_id not in ours
            or not uow.delivery_orders.holds_serial(shipment_id, serial.strip())
        ]
        actor, subject = f"customer:{visit.email}", f"order:{visit.order.reference}"
        if not wrong:
            _give_back(uow, limits)
            row.verified = sorted(set(row.verified) | set(answers))
            uow.delivery_audit.append(
                "delivery.possession_verified",
                actor=actor,
                subject=subject,
                details={"shipments": sorted(ours[i] for i in answers)},
            )
            order = uow.delivery_orders.order(row.order_id)
            assert order is not None
            verified = tuple(row.verified)
            return VisitView(row.id, order_view(uow, order, verified), row.email, verified)
        uow.delivery_audit.append(
            "delivery.possession_failed",
            actor=actor,
            subject=subject,
            details={"shipments": wrong, "address": address},
        )
        error = DeliveryError(
            f"The serial typed for shipment {', '.join(wrong)} is not one of its tokens; "
            "type the serial printed on any token of that shipment.",
            code="delivery.serial_mismatch",
            details={"shipments": wrong},
        )
    raise error
