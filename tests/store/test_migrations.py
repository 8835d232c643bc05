"""Migrations build the schema on both backends and match the models; engines are set up right."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from oathdesk.store import (
    Database,
    StoreError,
    current_revision,
    default_url,
    downgrade,
    upgrade,
)
from oathdesk.store.models import Base

HEAD = "0010"
TABLES = {
    "accounts",
    "api_tokens",
    "alembic_version",
    "audit_entries",
    "audit_head",
    "batches",
    "delivery_audit",
    "delivery_audit_head",
    "delivery_customers",
    "delivery_files",
    "delivery_orders",
    "delivery_requests",
    "delivery_shipments",
    "delivery_tokens",
    "delivery_visits",
    "held_uploads",
    "import_jobs",
    "job_items",
    "jobs",
    "signin_throttle",
    "tokens",
    "web_sessions",
}


def test_upgrade_to_head_creates_every_table(db_url: str) -> None:
    db = Database(db_url)
    try:
        assert current_revision(db) is None
        upgrade(db_url)
        assert current_revision(db) == HEAD
        assert set(inspect(db.engine).get_table_names()) == TABLES
        upgrade(db_url)  # a second run is a no-op, not an error
        assert current_revision(db) == HEAD
    finally:
        db.dispose()


def test_downgrade_and_upgrade_again(db: Database) -> None:
    downgrade(db, "0001")
    assert current_revision(db) == "0001"
    with db.engine.begin() as conn:  # without 0002 the log is not protected by the database
        conn.exec_driver_sql("DELETE FROM audit_entries")
    downgrade(db, "base")
    assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
    upgrade(db)
    assert current_revision(db) == HEAD


def test_models_match_the_migrated_schema(db: Database) -> None:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, Base.metadata) == []


def test_indexes_for_fast_listing_exist(db: Database) -> None:
    names = {ix["name"] for ix in inspect(db.engine).get_indexes("tokens")}
    assert {"ix_tokens_tenant_state_serial", "ix_tokens_tenant_created"} <= names


def test_chain_head_starts_at_genesis(db: Database) -> None:
    with db.engine.connect() as conn:
        row = conn.execute(text("SELECT id, seq, hash FROM audit_head")).one()
    assert tuple(row) == (1, 0, "0" * 64)


@pytest.mark.parametrize(
    ("column", "value"),
    [("state", "'stolen'"), ("digits", "9"), ("kind", "'motp'"), ("period", "0")],
)
def test_check_constraints_hold_in_the_database(db: Database, column: str, value: str) -> None:
    values = {
        "tenant": "'default'",
        "serial": "'X1'",
        "state": "'in_stock'",
        "kind": "'totp'",
        "period": "30",
        "digits": "6",
        "algorithm": "'sha1'",
        "t0": "0",
        "counter": "0",
        "manufacturer": "''",
        "model": "''",
        "display_name": "''",
        "created_at": "CURRENT_TIMESTAMP",
        "updated_at": "CURRENT_TIMESTAMP",
        "state_changed_at": "CURRENT_TIMESTAMP",
        "otp_drift": "0",
        "version": "1",
    }
    ok_sql = f"INSERT INTO tokens ({', '.join(values)}) VALUES ({', '.join(values.values())})"  # noqa: S608
    with db.engine.begin() as conn:
        conn.execute(text(ok_sql))  # the baseline row is accepted
    values.update({column: value, "serial": "'X2'"})
    bad_sql = f"INSERT INTO tokens ({', '.join(values)}) VALUES ({', '.join(values.values())})"  # noqa: S608
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(text(bad_sql))


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path: Path) -> None:
    url = default_url(tmp_path / "data")
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700
    upgrade(url)
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        db.dispose()
    assert (tmp_path / "data" / "oathdesk.db").is_file()


def test_postgres_url_spellings_use_psycopg() -> None:
    db = Database("postgres://someone@127.0.0.1:1/x")
    assert db.engine.dialect.driver == "psycopg"
    db.dispose()


def test_unreachable_server_is_a_typed_error_without_the_password() -> None:
    url = "postgresql+psycopg://someone:hunter2@127.0.0.1:1/x?connect_timeout=2"
    with pytest.raises(StoreError) as caught:
        upgrade(url)
    assert caught.value.code == "store.unreachable"
    assert "127.0.0.1:1" in str(caught.value) and "hunter2" not in str(caught.value)
    db = Database(url)
    assert "hunter2" not in repr(db) and "someone" in repr(db)
    db.dispose()


@pytest.mark.parametrize("url", ["nonsense", "mysql://u@127.0.0.1/x"])
def test_bad_or_unsupported_url_is_a_typed_error(url: str) -> None:
    with pytest.raises(StoreError) as caught:
        Database(url)
    assert caught.value.code in {"store.bad_url", "store.unsupported_database"}
