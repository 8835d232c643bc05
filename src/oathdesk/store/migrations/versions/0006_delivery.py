"""The seed delivery service's tables join the main migration line; its audit log is append-only.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08

Until now the delivery service made its ``delivery_`` tables itself (``create_all``) on first
use. This revision creates each of them only if it is missing, so a database where that already
happened keeps every row; then it brings both kinds of database to one schema:

- ``delivery_audit`` gets the ``tenant`` column every hash-chained log has (``'delivery'``, the
  tenant its entries were always hashed with), and the triggers ``0002`` gave ``audit_entries``:
  UPDATE and DELETE (and TRUNCATE on PostgreSQL) are refused by the database;
- ``delivery_throttle`` is folded into ``signin_throttle`` (keys prefixed ``delivery:``), the one
  table every failure counter uses;
- the delivery chain's head row exists.

Downgrading removes the delivery tables and their rows (and the ``delivery:`` counters).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

GENESIS = "0" * 64
MESSAGE = "audit entries are append-only"
PG_UP = [
    """CREATE TRIGGER delivery_audit_append_only BEFORE UPDATE OR DELETE ON delivery_audit
    FOR EACH ROW EXECUTE FUNCTION oathdesk_audit_append_only()""",
    """CREATE TRIGGER delivery_audit_no_truncate BEFORE TRUNCATE ON delivery_audit
    FOR EACH STATEMENT EXECUTE FUNCTION oathdesk_audit_append_only()""",
]
PG_DOWN = [
    "DROP TRIGGER delivery_audit_no_truncate ON delivery_audit",
    "DROP TRIGGER delivery_audit_append_only ON delivery_audit",
]
SQLITE_UP = [
    f"""CREATE TRIGGER delivery_audit_no_{verb.lower()} BEFORE {verb} ON delivery_audit
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"""
    for verb in ("UPDATE", "DELETE")
]
SQLITE_DOWN = [f"DROP TRIGGER delivery_audit_no_{verb}" for verb in ("update", "delete")]


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, length: int | None = None, *, nullable: bool = False) -> sa.Column[object]:
    kind = sa.String(length) if length else sa.Text()
    return sa.Column(name, kind, nullable=nullable)


def _int(name: str, *, big: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.BigInteger() if big else sa.Integer(), nullable=False)


def _fk(name: str, target: str) -> sa.Column[object]:
    return sa.Column(name, sa.Integer(), sa.ForeignKey(target), nullable=False)


def _tables() -> dict[str, tuple[list[sa.schema.SchemaItem], dict[str, list[str]]]]:
    """Each delivery table as ``create_all`` made it (columns; indexes), parents first."""
    return {
        "delivery_customers": (
            [
                sa.Column("id", sa.Integer(), primary_key=True),
                _text("name", 200),
                sa.Column("email_domain", sa.String(200), nullable=False, unique=True),
                _text("account_manager", 200),
            ],
            {},
        ),
        "delivery_orders": (
            [
                sa.Column("id", sa.Integer(), primary_key=True),
                _fk("customer_id", "delivery_customers.id"),
                sa.Column("po_number", sa.String(100), nullable=True, unique=True),
                sa.Column("invoice_number", sa.String(100), nullable=True, unique=True),
                _ts("created_at"),
            ],
            {},
        ),
        "delivery_shipments": (
            [
                sa.Column("id", sa.Integer(), primary_key=True),
                _fk("order_id", "delivery_orders.id"),
                sa.Column("number", sa.String(100), nullable=False, unique=True),
            ],
            {"ix_delivery_shipments_order": ["order_id"]},
        ),
        "delivery_tokens": (
            [
                sa.Column("id", sa.Integer(), primary_key=True),
                _fk("shipment_id", "delivery_shipments.id"),
                sa.Column("serial", sa.String(100), nullable=False, unique=True),
                _text("key_id", 32),
                sa.Column("sealed", sa.LargeBinary(), nullable=False),
                _text("kind", 8),
                _int("period"),
                _int("t0", big=True),
                _int("digits"),
                _text("algorithm", 8),
                _int("counter", big=True),
                _text("manufacturer", 200),
                _text("model", 200),
            ],
            {"ix_delivery_tokens_shipment": ["shipment_id"]},
        ),
        "delivery_visits": (
            [
                sa.Column("id", sa.String(64), primary_key=True),
                _fk("order_id", "delivery_orders.id"),
                _text("email", 320),
                sa.Column("verified", sa.JSON(), nullable=False),
                _text("address", 64),
                _ts("created_at"),
                _ts("expires_at"),
            ],
            {},
        ),
        "delivery_requests": (
            [
                sa.Column("id", sa.Integer(), primary_key=True),
                _fk("order_id", "delivery_orders.id"),
                _text("email", 320),
                sa.Column("shipment_ids", sa.JSON(), nullable=False),
                _text("packaging", 16),
                _text("format", 32),
                sa.Column("options", sa.JSON(), nullable=False),
                _text("encryption", 16),
                _text("password_hash", 400, nullable=True),
                _text("password_key_id", 32, nullable=True),
                sa.Column("sealed_password", sa.LargeBinary(), nullable=True),
                _text("pgp_key", nullable=True),
                sa.Column("pgp_fingerprints", sa.JSON(), nullable=False),
                _text("state", 16),
                _text("reason"),
                _text("decided_by", 200, nullable=True),
                _ts("created_at"),
                _ts("decided_at", nullable=True),
            ],
            {"ix_delivery_requests_state": ["state"]},
        ),
        "delivery_files": (
            [
                sa.Column("id", sa.Integer(), primary_key=True),
                _fk("request_id", "delivery_requests.id"),
                _text("label", 200),
                _text("file_name", 200),
                _text("storage_name", 64),
                _int("size"),
                sa.Column("link_hash", sa.String(64), nullable=False, unique=True),
                _ts("created_at"),
                _ts("expires_at"),
                _int("downloads"),
                _int("password_failures"),
                _ts("confirmed_at", nullable=True),
                _ts("deleted_at", nullable=True),
            ],
            {"ix_delivery_files_request": ["request_id"]},
        ),
        "delivery_audit": (  # with the tenant column create_all never made
            [
                sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
                _ts("at"),
                _text("tenant", 64),
                _text("actor", 200),
                _text("action", 80),
                _text("subject", 200, nullable=True),
                _text("reason"),
                _text("details"),
                _text("prev_hash", 64),
                sa.Column("hash", sa.String(64), nullable=False, unique=True),
            ],
            {},
        ),
        "delivery_audit_head": (
            [
                sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
                sa.Column("seq", sa.BigInteger(), nullable=False),
                _text("hash", 64),
            ],
            {},
        ),
    }


def _tenant_column() -> None:
    """``create_all`` made the log without ``tenant``: add it, filled with ``'delivery'``."""
    with op.batch_alter_table("delivery_audit") as batch:
        batch.add_column(
            sa.Column("tenant", sa.String(64), nullable=False, server_default="delivery")
        )
    with op.batch_alter_table("delivery_audit") as batch:
        batch.alter_column("tenant", existing_type=sa.String(64), server_default=None)


def _fold_throttle() -> None:
    op.execute(
        'INSERT INTO signin_throttle ("key", failures, window_started_at, locked_until) '
        "SELECT substr('delivery:' || \"key\", 1, 300), failures, window_started_at, "
        "locked_until FROM delivery_throttle"
    )
    op.drop_table("delivery_throttle")


def upgrade() -> None:
    bind = op.get_bind()
    found = set(sa.inspect(bind).get_table_names())
    for table, (items, indexes) in _tables().items():
        if table in found:
            continue
        op.create_table(table, *items)
        for index, indexed in indexes.items():
            op.create_index(index, table, indexed)
    if "delivery_audit" in found:
        columns = {c["name"] for c in sa.inspect(bind).get_columns("delivery_audit")}
        if "tenant" not in columns:
            _tenant_column()
    if "delivery_throttle" in found:
        _fold_throttle()
    if not bind.execute(sa.text("SELECT count(*) FROM delivery_audit_head")).scalar():
        op.execute(
            sa.text(
                "INSERT INTO delivery_audit_head (id, seq, hash) VALUES (1, 0, :genesis)"
            ).bindparams(genesis=GENESIS)
        )
    for statement in PG_UP if bind.dialect.name == "postgresql" else SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    for statement in PG_DOWN if bind.dialect.name == "postgresql" else SQLITE_DOWN:
        op.execute(statement)
    for table in reversed(_tables()):
        op.drop_table(table)
    op.execute("DELETE FROM signin_throttle WHERE \"key\" LIKE 'delivery:%'")
