"""The delivery service's orders side: customers, orders, shipments, their sealed tokens, and the
customers' wizard visits.

Why a repository: the delivery use cases (loading a manifest, finding an order, proving
possession, building a file) ask these questions inside the store's unit of work, so their
queries live beside the inventory's and nothing above the store holds a session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, inspect, or_, select
from sqlalchemy.orm import Session

from oathdesk.store.delivery_models import Customer, Order, Shipment, ShipmentToken, Visit


@dataclass(frozen=True, slots=True)
class ShipmentSummary:
    """A shipment as the customer sees it before proving possession: no serials."""

    id: int
    number: str
    tokens: int
    model: str  # every model it holds, with counts when several: "C200 ×3, C301 ×2"


def models_text(counts: Sequence[tuple[str, int]]) -> str:
    """The models of one shipment as a person reads them: ``C200`` when all its tokens are one
    model (the count is in its own column), ``C200 ×3, C301 ×2`` when they are several (a
    shipment is not always one model; naming one hid the others). A token whose file named no
    model counts as "model not given"."""
    named = [(model or "model not given", count) for model, count in counts]
    if len(named) == 1:
        return "" if not counts[0][0] else named[0][0]
    return ", ".join(f"{model} \u00d7{count}" for model, count in named)


class OrderRepository:
    """Customers, orders, shipments, shipment tokens and visits through one session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def schema_ready(self) -> bool:
        """Whether migration ``0006_delivery`` has made the delivery tables here."""
        return inspect(self.session.connection()).has_table("delivery_audit_head")

    # customers and orders
    def customer(self, customer_id: int) -> Customer | None:
        return self.session.get(Customer, customer_id)

    def customer_by_domain(self, email_domain: str) -> Customer | None:
        query = select(Customer).where(Customer.email_domain == email_domain)
        return self.session.scalars(query).one_or_none()

    def add_customer(self, name: str, email_domain: str, account_manager: str) -> Customer:
        customer = Customer(name=name, email_domain=email_domain, account_manager=account_manager)
        self.session.add(customer)
        self.session.flush()
        return customer

    def order(self, order_id: int) -> Order | None:
        return self.session.get(Order, order_id)

    def order_by_number(self, number: str) -> Order | None:
        """The order whose PO or invoice number is ``number``, else the one holding the shipment
        of that number."""
        by_order = select(Order).where(
            or_(Order.po_number == number, Order.invoice_number == number)
        )
        found = self.session.scalars(by_order).first()
        if found is not None:
            return found
        by_shipment = (
            select(Order)
            .join(Shipment, Shipment.order_id == Order.id)
            .where(Shipment.number == number)
        )
        return self.session.scalars(by_shipment).first()

    def taken_number(self, po_number: str | None, invoice_number: str | None) -> str | None:
        """The first of these order numbers some loaded order already has, or None."""
        for column, value in ((Order.po_number, po_number), (Order.invoice_number, invoice_number)):
            if value and self.session.scalars(select(Order.id).where(column == value)).first():
                return value
        return None

    def add_order(
        self, customer: Customer, po_number: str | None, invoice_number: str | None, at: datetime
    ) -> Order:
        order = Order(
            customer_id=customer.id,
            po_number=po_number,
            invoice_number=invoice_number,
            created_at=at,
        )
        self.session.add(order)
        self.session.flush()
        return order

    # shipments and their tokens
    def shipment_exists(self, number: str) -> bool:
        query = select(Shipment.id).where(Shipment.number == number)
        return self.session.scalars(query).first() is not None

    def add_shipment(self, order: Order, number: str) -> Shipment:
        shipment = Shipment(order_id=order.id, number=number)
        self.session.add(shipment)
        self.session.flush()
        return shipment

    def add_token(self, token: ShipmentToken) -> None:
        self.session.add(token)

    def loaded_serial(self, serials: Sequence[str]) -> str | None:
        """One of ``serials`` that is already loaded, or None."""
        query = select(ShipmentToken.serial).where(ShipmentToken.serial.in_(list(serials)))
        return self.session.scalars(query).first()

    def summaries(self, order: Order) -> list[ShipmentSummary]:
        """The order's shipments by number, with their token counts and every model in them."""
        rows = self.session.execute(
            select(
                Shipment.id,
                Shipment.number,
                ShipmentToken.model,
                func.count(ShipmentToken.id),
            )
            .join(ShipmentToken, ShipmentToken.shipment_id == Shipment.id)
            .where(Shipment.order_id == order.id)
            .group_by(Shipment.id, Shipment.number, ShipmentToken.model)
            .order_by(Shipment.number, ShipmentToken.model)
        ).all()
        grouped: dict[tuple[int, str], list[tuple[str, int]]] = {}
        for sid, number, model, count in rows:
            grouped.setdefault((sid, number), []).append((model or "", count))
        return [
            ShipmentSummary(sid, number, sum(c for _m, c in counts), models_text(counts))
            for (sid, number), counts in grouped.items()
        ]

    def shipment_numbers(self, shipment_ids: Sequence[int]) -> list[str]:
        query = select(Shipment.number).where(Shipment.id.in_(list(shipment_ids)))
        return list(self.session.scalars(query.order_by(Shipment.number)))

    def holds_serial(self, shipment_id: int, serial: str) -> bool:
        """Whether ``serial`` is a token of that shipment (proof of possession)."""
        query = select(ShipmentToken.id).where(
            ShipmentToken.shipment_id == shipment_id, ShipmentToken.serial == serial
        )
        return self.session.scalars(query).first() is not None

    def sealed_tokens(self, shipment_ids: Sequence[int]) -> list[tuple[str, ShipmentToken]]:
        """(shipment number, token) for every token of the shipments, by number then serial."""
        rows = self.session.execute(
            select(Shipment.number, ShipmentToken)
            .join(ShipmentToken, ShipmentToken.shipment_id == Shipment.id)
            .where(Shipment.id.in_(list(shipment_ids)))
            .order_by(Shipment.number, ShipmentToken.serial)
        ).all()
        return [(number, token) for number, token in rows]

    # visits
    def add_visit(self, visit: Visit) -> Visit:
        self.session.add(visit)
        self.session.flush()
        return visit

    def visit(self, id_hash: str) -> Visit | None:
        return self.session.get(Visit, id_hash)

    def end_visit(self, id_hash: str) -> None:
        self.session.execute(delete(Visit).where(Visit.id == id_hash))

    def end_visits_before(self, now: datetime) -> None:
        self.session.execute(delete(Visit).where(Visit.expires_at <= now))
