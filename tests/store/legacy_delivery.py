"""The delivery tables exactly as the delivery service made them with ``create_all`` before
migration ``0006`` (a frozen copy of its old metadata), and a little history to put in them."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    insert,
)

from oathdesk.store.chain import entry_hash

AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
LINK_TOKEN = "legacy-link-token"
GENESIS = "0" * 64

legacy = MetaData()


def _ts(name: str, *, nullable: bool = False) -> Column[datetime]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


customers = Table(
    "delivery_customers",
    legacy,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email_domain", String(200), nullable=False, unique=True),
    Column("account_manager", String(200), nullable=False),
)
orders = Table(
    "delivery_orders",
    legacy,
    Column("id", Integer, primary_key=True),
    Column("customer_id", ForeignKey("delivery_customers.id"), nullable=False),
    Column("po_number", String(100), unique=True),
    Column("invoice_number", String(100), unique=True),
    _ts("created_at"),
)
shipments = Table(
    "delivery_shipments",
    legacy,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("delivery_orders.id"), nullable=False),
    Column("number", String(100), nullable=False, unique=True),
    Index("ix_delivery_shipments_order", "order_id"),
)
tokens = Table(
    "delivery_tokens",
    legacy,
    Column("id", Integer, primary_key=True),
    Column("shipment_id", ForeignKey("delivery_shipments.id"), nullable=False),
    Column("serial", String(100), nullable=False, unique=True),
    Column("key_id", String(32), nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("period", Integer, nullable=False),
    Column("t0", BigInteger, nullable=False),
    Column("digits", Integer, nullable=False),
    Column("algorithm", String(8), nullable=False),
    Column("counter", BigInteger, nullable=False),
    Column("manufacturer", String(200), nullable=False),
    Column("model", String(200), nullable=False),
    Index("ix_delivery_tokens_shipment", "shipment_id"),
)
visits = Table(
    "delivery_visits",
    legacy,
    Column("id", String(64), primary_key=True),
    Column("order_id", ForeignKey("delivery_orders.id"), nullable=False),
    Column("email", String(320), nullable=False),
    Column("verified", JSON, nullable=False),
    Column("address", String(64), nullable=False),
    _ts("created_at"),
    _ts("expires_at"),
)
requests = Table(
    "delivery_requests",
    legacy,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("delivery_orders.id"), nullable=False),
    Column("email", String(320), nullable=False),
    Column("shipment_ids", JSON, nullable=False),
    Column("packaging", String(16), nullable=False),
    Column("format", String(32), nullable=False),
    Column("options", JSON, nullable=False),
    Column("encryption", String(16), nullable=False),
    Column("password_hash", String(400)),
    Column("password_key_id", String(32)),
    Column("sealed_password", LargeBinary),
    Column("pgp_key", Text),
    Column("pgp_fingerprints", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("decided_by", String(200)),
    _ts("created_at"),
    _ts("decided_at", nullable=True),
    Index("ix_delivery_requests_state", "state"),
)
files = Table(
    "delivery_files",
    legacy,
    Column("id", Integer, primary_key=True),
    Column("request_id", ForeignKey("delivery_requests.id"), nullable=False),
    Column("label", String(200), nullable=False),
    Column("file_name", String(200), nullable=False),
    Column("storage_name", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("link_hash", String(64), nullable=False, unique=True),
    _ts("created_at"),
    _ts("expires_at"),
    Column("downloads", Integer, nullable=False),
    Column("password_failures", Integer, nullable=False),
    _ts("confirmed_at", nullable=True),
    _ts("deleted_at", nullable=True),
    Index("ix_delivery_files_request", "request_id"),
)
throttle = Table(
    "delivery_throttle",
    legacy,
    Column("key", String(300), primary_key=True),
    Column("failures", Integer, nullable=False),
    _ts("window_started_at"),
    _ts("locked_until", nullable=True),
)
audit = Table(
    "delivery_audit",
    legacy,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    _ts("at"),
    Column("actor", String(200), nullable=False),
    Column("action", String(80), nullable=False),
    Column("subject", String(200)),
    Column("reason", Text, nullable=False),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
)
audit_head = Table(
    "delivery_audit_head",
    legacy,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

# what the old service audited: hashed with tenant "delivery", which it never stored
HISTORY = [
    ("local:vendor", "delivery.order_loaded", "order:PO-1001", '{"tokens":1}'),
    ("customer:it@contoso.example", "delivery.order_found", "order:PO-1001", "{}"),
]


def create_legacy(engine: Engine) -> None:
    """What ``create_all`` plus the old head insert made."""
    legacy.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(audit_head).values(id=1, seq=0, hash=GENESIS))


def link_hash() -> str:
    return hashlib.sha256(LINK_TOKEN.encode()).hexdigest()


def fill_legacy(conn: Connection) -> None:
    """One customer's order, shipment, token, open visit, sent request with its file, two
    throttle counters (one locked) and a two-entry audit chain, as the old service wrote them."""
    conn.execute(
        insert(customers).values(
            id=1, name="Contoso", email_domain="contoso.example", account_manager="Mia"
        )
    )
    conn.execute(
        insert(orders).values(
            id=1, customer_id=1, po_number="PO-1001", invoice_number=None, created_at=AT
        )
    )
    conn.execute(insert(shipments).values(id=1, order_id=1, number="SH-1"))
    conn.execute(
        insert(tokens).values(
            id=1,
            shipment_id=1,
            serial="AC000101",
            key_id="k1",
            sealed=b"\x01sealed",
            kind="totp",
            period=30,
            t0=0,
            digits=6,
            algorithm="sha1",
            counter=0,
            manufacturer="Acme",
            model="AT-6",
        )
    )
    conn.execute(
        insert(visits).values(
            id="v" * 64,
            order_id=1,
            email="it@contoso.example",
            verified=[1],
            address="192.0.2.7",
            created_at=AT,
            expires_at=AT,
        )
    )
    conn.execute(
        insert(requests).values(
            id=1,
            order_id=1,
            email="it@contoso.example",
            shipment_ids=[1],
            packaging="combined",
            format="entra-csv",
            options={},
            encryption="password",
            password_hash="$argon2id$x",
            password_key_id=None,
            sealed_password=None,
            pgp_key=None,
            pgp_fingerprints=[],
            state="sent",
            reason="",
            decided_by="local:dora",
            created_at=AT,
            decided_at=AT,
        )
    )
    conn.execute(
        insert(files).values(
            id=1,
            request_id=1,
            label="PO-1001",
            file_name="seeds-PO-1001.zip",
            storage_name="f" * 32,
            size=123,
            link_hash=link_hash(),
            created_at=AT,
            expires_at=AT,
            downloads=1,
            password_failures=0,
            confirmed_at=None,
            deleted_at=None,
        )
    )
    conn.execute(
        insert(throttle),
        [
            {
                "key": "address:203.0.113.9",
                "failures": 10,
                "window_started_at": AT,
                "locked_until": datetime(2099, 1, 1, tzinfo=UTC),
            },
            {"key": "number:po-4040", "failures": 2, "window_started_at": AT, "locked_until": None},
        ],
    )
    prev = GENESIS
    for seq, (actor, action, subject, details) in enumerate(HISTORY, start=1):
        digest = entry_hash(
            prev_hash=prev,
            seq=seq,
            at=AT,
            tenant="delivery",
            actor=actor,
            action=action,
            subject=subject,
            reason="",
            details=details,
        )
        conn.execute(
            insert(audit).values(
                seq=seq,
                at=AT,
                actor=actor,
                action=action,
                subject=subject,
                reason="",
                details=details,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    conn.execute(audit_head.update().values(seq=len(HISTORY), hash=prev))
