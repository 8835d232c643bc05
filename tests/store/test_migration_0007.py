"""Migration 0007 on SQLite and PostgreSQL: chains written before the audit key existed (plain
SHA-256) still verify after the upgrade; keyed hashing starts at the entry after the old head,
on both chains; a chain recomputed without the key past that point is broken; downgrading
removes the marker."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, MetaData, Table, insert, text

from oathdesk.store import AuditKey, AuditKeyError, Database, UnitOfWork, downgrade, upgrade
from oathdesk.store.audit import AuditLog
from oathdesk.store.chain import entry_hash
from oathdesk.store.models import GENESIS_HASH

AT = datetime(2026, 11, 1, 9, tzinfo=UTC)
TABLES = {
    "inventory": ("audit_entries", "audit_head"),
    "delivery": ("delivery_audit", "delivery_audit_head"),
}


def _legacy_entries(db: Database, entries: str, head: str, tenant: str, count: int) -> None:
    """Entries as the version before 0007 wrote them: unkeyed SHA-256, head moved along."""
    prev = GENESIS_HASH
    with db.engine.begin() as conn:
        for seq in range(1, count + 1):
            row = {
                "seq": seq,
                "at": AT,
                "tenant": tenant,
                "actor": "local:old",
                "action": "token.assign",
                "subject": f"SN{seq}",
                "reason": "",
                "details": "{}",
            }
            digest = entry_hash(prev_hash=prev, **row)  # type: ignore[arg-type]
            table = db_table(conn, entries)
            conn.execute(insert(table).values(**row, prev_hash=prev, hash=digest))
            prev = digest
        conn.execute(text(f"UPDATE {head} SET seq = :s, hash = :h"), {"s": count, "h": prev})  # noqa: S608


def db_table(conn: Connection, name: str) -> Table:
    return Table(name, MetaData(), autoload_with=conn)


@pytest.fixture(params=sorted(TABLES))
def chain(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _log(uow: UnitOfWork, chain: str) -> AuditLog:
    return uow.audit if chain == "inventory" else uow.delivery_audit


def test_old_entries_verify_and_keyed_hashing_starts_after_them(
    db_url: str, audit_key: AuditKey, chain: str
) -> None:
    upgrade(db_url, "0006")
    db = Database(db_url, audit_key=audit_key)
    try:
        entries, head = TABLES[chain]
        _legacy_entries(db, entries, head, "delivery" if chain == "delivery" else "default", 3)
        upgrade(db)
        with db.engine.connect() as conn:
            marks = {
                t: conn.execute(text(f"SELECT keyed_from FROM {h}")).scalar_one()  # noqa: S608
                for t, (_, h) in TABLES.items()
            }
        assert marks[chain] == 4 and marks[next(c for c in TABLES if c != chain)] == 1
        with UnitOfWork(db, write=False) as uow:
            report = _log(uow, chain).verify()
        assert (report.ok, report.checked, report.keyed_from) == (True, 3, 4)
        with UnitOfWork(db) as uow:
            new = _log(uow, chain).append("token.assign", actor="local:new", subject="SN4")
            assert new.hash != entry_hash(
                prev_hash=new.prev_hash,
                seq=4,
                at=new.at,
                tenant=new.tenant,
                actor=new.actor,
                action=new.action,
                subject=new.subject,
                reason=new.reason,
                details=new.details,
            )  # keyed: not the plain SHA-256 of its content
        with UnitOfWork(db, write=False) as uow:
            assert _log(uow, chain).verify().checked == 4
        keyless = Database(db_url)  # the old entries alone need no key; the new one does
        try:
            with pytest.raises(AuditKeyError), UnitOfWork(keyless, write=False) as uow:
                _log(uow, chain).verify()
        finally:
            keyless.dispose()
    finally:
        db.dispose()


def test_an_upgraded_empty_chain_is_keyed_from_the_start(db_url: str, audit_key: AuditKey) -> None:
    upgrade(db_url, "0006")
    upgrade(db_url)
    db = Database(db_url, audit_key=audit_key)
    try:
        with UnitOfWork(db) as uow:
            uow.audit.append("a", actor="x")
        with UnitOfWork(db, write=False) as uow:
            assert uow.audit.verify().keyed_from == 1
        downgrade(db, "0006")
        with db.engine.connect() as conn:
            columns = conn.execute(text("SELECT * FROM audit_head")).keys()
        assert "keyed_from" not in columns
        upgrade(db)
    finally:
        db.dispose()
