"""Migration 0006 on SQLite and PostgreSQL: a database where the delivery service had already made
its tables with ``create_all`` (and used them) is upgraded keeping every row; afterwards its schema
is the models', the old audit chain verifies and grows, the append-only triggers hold, and the
look-up counters live on in the one throttle table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from oathdesk.domain import FixedClock
from oathdesk.store import (
    AuditKey,
    Database,
    RequestState,
    UnitOfWork,
    current_revision,
    downgrade,
    upgrade,
)
from oathdesk.store.models import Base
from tests.store import legacy_delivery as legacy

COUNTS = {
    "delivery_customers": 1,
    "delivery_orders": 1,
    "delivery_shipments": 1,
    "delivery_tokens": 1,
    "delivery_visits": 1,
    "delivery_requests": 1,
    "delivery_files": 1,
    "delivery_audit": 2,
}


@pytest.fixture
def legacy_db(db_url: str, audit_key: AuditKey) -> Database:
    """Head 0005 plus the delivery tables today's service made, with rows in every one."""
    upgrade(db_url, "0005")
    db = Database(db_url, audit_key=audit_key)
    legacy.create_legacy(db.engine)
    with db.engine.begin() as conn:
        legacy.fill_legacy(conn)
    return db


def _count(db: Database, table: str) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608


def test_upgrade_keeps_the_rows_and_matches_the_models(legacy_db: Database) -> None:
    db = legacy_db
    try:
        upgrade(db)
        assert current_revision(db) == "0010"
        assert {table: _count(db, table) for table in COUNTS} == COUNTS
        assert "delivery_throttle" not in inspect(db.engine).get_table_names()
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, Base.metadata) == []
        with UnitOfWork(db, write=False) as uow:
            request = uow.delivery_requests.get(1)
            assert request is not None and request.state is RequestState.SENT
            found = uow.delivery_requests.file_by_link(legacy.link_hash())
            assert found is not None and found.file_name == "seeds-PO-1001.zip"
            order = uow.delivery_orders.order_by_number("SH-1")
            assert order is not None and order.reference == "PO-1001"
            assert uow.delivery_orders.holds_serial(1, "AC000101")
    finally:
        db.dispose()


def test_the_old_chain_verifies_grows_and_is_append_only(legacy_db: Database) -> None:
    db = legacy_db
    try:
        upgrade(db)
        with UnitOfWork(db, write=False) as uow:
            report = uow.delivery_audit.verify()
            tenants = {e.tenant for e in uow.delivery_audit.entries()}
        assert (report.ok, report.checked) == (True, 2) and tenants == {"delivery"}
        with UnitOfWork(db, clock=FixedClock(1_800_000_000)) as uow:
            uow.delivery_audit.append("delivery.mail_sent", actor="local:dora", subject="request:1")
        with UnitOfWork(db, write=False) as uow:
            assert uow.delivery_audit.verify().checked == 3
            assert uow.audit.verify().checked == 0  # the inventory's chain is another chain
        for statement in (
            "UPDATE delivery_audit SET actor = 'mallory' WHERE seq = 1",
            "DELETE FROM delivery_audit WHERE seq = 2",
        ):
            with pytest.raises(DBAPIError) as refused, db.engine.begin() as conn:
                conn.exec_driver_sql(statement)
            assert "append-only" in str(refused.value)
        assert _count(db, "delivery_audit") == 3
    finally:
        db.dispose()


def test_look_up_counters_move_into_the_one_throttle_table(legacy_db: Database) -> None:
    db = legacy_db
    try:
        upgrade(db)
        now = datetime(2026, 12, 1, 10, tzinfo=UTC)
        with UnitOfWork(db, write=False) as uow:
            locked = uow.throttle.locked_until(["delivery:address:203.0.113.9"], now)
            free = uow.throttle.locked_until(["delivery:number:po-4040"], now)
            assert uow.throttle.locked_until(["address:203.0.113.9"], now) is None  # sign-in's
        assert locked == datetime(2099, 1, 1, tzinfo=UTC) and free is None
        with db.engine.connect() as conn:
            keys = conn.execute(text('SELECT "key", failures FROM signin_throttle')).all()
        assert sorted(map(tuple, keys)) == [
            ("delivery:address:203.0.113.9", 10),
            ("delivery:number:po-4040", 2),
        ]
    finally:
        db.dispose()


def test_downgrade_removes_the_delivery_tables_and_upgrade_makes_them_again(
    legacy_db: Database,
) -> None:
    db = legacy_db
    try:
        upgrade(db)
        downgrade(db, "0005")
        assert current_revision(db) == "0005"
        assert not {t for t in inspect(db.engine).get_table_names() if t.startswith("delivery_")}
        assert _count(db, "signin_throttle") == 0
        upgrade(db)
        assert _count(db, "delivery_audit_head") == 1
        with UnitOfWork(db, write=False) as uow:
            assert uow.delivery_audit.verify().ok
    finally:
        db.dispose()
