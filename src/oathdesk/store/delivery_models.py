"""The seed delivery service's tables (prefix ``delivery_``), on the inventory's metadata.

Why here: one database, one migration line (``0006_delivery``), one unit of work; a database
that never serves deliveries just has empty ``delivery_`` tables. Seeds are sealed with the
inventory's ``Sealer``; a customer's password is never kept in clear (sealed until the file is
built, then erased; only an argon2 hash stays for the download gate); visits and links keep
only the SHA-256 of their random ids.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Enum, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON

from oathdesk.store.delivery_states import RequestState
from oathdesk.store.models import AuditRecord, Base, ChainHead, UTCDateTime

DELIVERY_TENANT = "delivery"  # the tenant of every delivery audit entry and sealed value


class Customer(Base):
    """A business customer: who may ask (its e-mail domain) and who looks after it."""

    __tablename__ = "delivery_customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email_domain: Mapped[str] = mapped_column(String(200), unique=True)
    account_manager: Mapped[str] = mapped_column(String(200), default="")


class Order(Base):
    __tablename__ = "delivery_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("delivery_customers.id"))
    po_number: Mapped[str | None] = mapped_column(String(100), unique=True)
    invoice_number: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def reference(self) -> str:
        return self.po_number or self.invoice_number or str(self.id)


class Shipment(Base):
    __tablename__ = "delivery_shipments"
    __table_args__ = (Index("ix_delivery_shipments_order", "order_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("delivery_orders.id"))
    number: Mapped[str] = mapped_column(String(100), unique=True)


class ShipmentToken(Base):
    """One token of a shipment; the seed is sealed (AES-GCM, key outside the database)."""

    __tablename__ = "delivery_tokens"
    __table_args__ = (Index("ix_delivery_tokens_shipment", "shipment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("delivery_shipments.id"))
    serial: Mapped[str] = mapped_column(String(100), unique=True)
    key_id: Mapped[str] = mapped_column(String(32))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    kind: Mapped[str] = mapped_column(String(8))
    period: Mapped[int] = mapped_column(Integer)
    t0: Mapped[int] = mapped_column(BigInteger, default=0)
    digits: Mapped[int] = mapped_column(Integer)
    algorithm: Mapped[str] = mapped_column(String(8))
    counter: Mapped[int] = mapped_column(BigInteger, default=0)
    manufacturer: Mapped[str] = mapped_column(String(200), default="")
    model: Mapped[str] = mapped_column(String(200), default="")

    def __repr__(self) -> str:  # never the sealed bytes
        return f"ShipmentToken(serial={self.serial!r})"


class Visit(Base):
    """A customer's wizard session after finding an order: only the SHA-256 of its id is kept."""

    __tablename__ = "delivery_visits"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("delivery_orders.id"))
    email: Mapped[str] = mapped_column(String(320))
    verified: Mapped[list[int]] = mapped_column(JSON, default=list)
    address: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


_STATE = Enum(
    RequestState,
    name="delivery_request_state",
    native_enum=False,
    create_constraint=False,
    length=16,
    values_callable=lambda members: [m.value for m in members],
    validate_strings=True,
)


class DeliveryRequest(Base):
    """What a customer asked for; reviewed by the delivery team. ``state`` changes only through
    ``RequestRepository.move`` (see ``delivery_states``)."""

    __tablename__ = "delivery_requests"
    __table_args__ = (Index("ix_delivery_requests_state", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("delivery_orders.id"))
    email: Mapped[str] = mapped_column(String(320))
    shipment_ids: Mapped[list[int]] = mapped_column(JSON)
    packaging: Mapped[str] = mapped_column(String(16))  # combined | per_shipment
    format: Mapped[str] = mapped_column(String(32))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # custom CSV layout
    encryption: Mapped[str] = mapped_column(String(16))  # password | pgp | both
    password_hash: Mapped[str | None] = mapped_column(String(400))
    password_key_id: Mapped[str | None] = mapped_column(String(32))
    sealed_password: Mapped[bytes | None] = mapped_column(LargeBinary)  # erased once built
    pgp_key: Mapped[str | None] = mapped_column(Text)
    pgp_fingerprints: Mapped[list[str]] = mapped_column(JSON, default=list)
    state: Mapped[RequestState] = mapped_column(_STATE, default=RequestState.PENDING)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:  # never the password material
        return f"DeliveryRequest(id={self.id}, state={self.state.value!r})"


class DeliveryFile(Base):
    """One built file, sealed, and its download link (only the SHA-256 of the link's token is
    kept). The bytes live here, not in a node's folder, so any node can serve the download."""

    __tablename__ = "delivery_files"
    __table_args__ = (Index("ix_delivery_files_request", "request_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("delivery_requests.id"))
    label: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(200))
    storage_name: Mapped[str] = mapped_column(String(64))  # the seal's associated data
    size: Mapped[int] = mapped_column(Integer)
    data_key_id: Mapped[str | None] = mapped_column(String(32), default=None)
    sealed_data: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)  # gone: None
    link_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    password_failures: Mapped[int] = mapped_column(Integer, default=0)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DeliveryAuditEntry(AuditRecord, Base):
    """One audited delivery step, in a chain of its own (``store.audit.DELIVERY``)."""

    __tablename__ = "delivery_audit"


class DeliveryAuditHead(ChainHead, Base):
    """The head of the delivery chain."""

    __tablename__ = "delivery_audit_head"
