"""The audit chains: verify passes on honest history and names the first tampered entry; the
database refuses to change entries. Every chain test runs on both chains the one implementation
serves: the inventory's (``audit_entries``) and the delivery service's (``delivery_audit``)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from sqlalchemy.exc import DBAPIError

from oathdesk.domain import FixedClock, Secret
from oathdesk.store import (
    AuditChainBroken,
    AuditKey,
    Database,
    StoreError,
    UnitOfWork,
    upgrade,
    verify_export,
)
from oathdesk.store.audit import AuditLog, ChainReport
from oathdesk.store.delivery_models import DeliveryAuditHead
from oathdesk.store.models import AuditHead, ChainHead
from tests.postgres import fresh_schema

COLUMNS = "at, tenant, actor, action, subject, reason, details, prev_hash, hash"


@dataclass(frozen=True)
class Log:
    """One chain as a test reaches it: its tables and its place in the unit of work."""

    entries: str
    head: str
    head_model: type[ChainHead]
    chain: str

    def of(self, uow: UnitOfWork) -> AuditLog:
        return uow.audit if self.entries == "audit_entries" else uow.delivery_audit

    def sql(self, statement: str) -> str:
        return statement.replace("audit_entries", self.entries).replace("audit_head", self.head)


LOGS = {
    "inventory": Log("audit_entries", "audit_head", AuditHead, "inventory"),
    "delivery": Log("delivery_audit", "delivery_audit_head", DeliveryAuditHead, "delivery"),
}


@pytest.fixture(params=sorted(LOGS))
def log(request: pytest.FixtureRequest) -> Log:
    return LOGS[request.param]


def _fill(db: Database, log: Log, n: int = 6) -> None:
    for i in range(1, n + 1):
        with UnitOfWork(db) as uow:
            log.of(uow).append(
                "token.assign",
                actor=f"agent{i}",
                subject=f"SN{i:04d}",
                reason=f"ticket {i}",
                details={"user": f"user{i}@example.com", "n": i},
            )


def _verify(db: Database, log: Log) -> ChainReport:
    with UnitOfWork(db, write=False) as uow:
        return log.of(uow).verify()


def _sql(db: Database, log: Log, *statements: str) -> None:
    """Tamper as someone with owner rights would: drop the append-only triggers first."""
    table = log.entries
    if db.dialect == "postgresql":
        unprotect = [f"DROP TRIGGER {table}_append_only ON {table}"]
    else:
        unprotect = [f"DROP TRIGGER {table}_no_update", f"DROP TRIGGER {table}_no_delete"]
    with db.engine.begin() as conn:
        for statement in [*unprotect, *map(log.sql, statements)]:
            conn.exec_driver_sql(statement)


def test_honest_chain_verifies(db: Database, log: Log) -> None:
    assert _verify(db, log).ok and _verify(db, log).checked == 0  # an empty log is a valid chain
    _fill(db, log)
    report = _verify(db, log)
    assert report.ok and report.checked == 6 and report.head_seq == 6
    report.raise_if_broken()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET reason = 'nothing to see' WHERE seq = 2",
        "DELETE FROM audit_entries WHERE seq = 3",
        "DELETE FROM audit_entries",
    ],
)
def test_the_database_refuses_changes_to_the_log(db: Database, log: Log, statement: str) -> None:
    _fill(db, log, 3)
    with pytest.raises(DBAPIError) as caught, db.engine.begin() as conn:
        conn.exec_driver_sql(log.sql(statement))
    assert "append-only" in str(caught.value)
    assert _verify(db, log).ok and _verify(db, log).checked == 3


def test_the_database_refuses_truncation_on_postgresql(
    pg_database: str, log: Log, audit_key: AuditKey
) -> None:
    url = fresh_schema(pg_database)  # SQLite has no TRUNCATE
    upgrade(url)
    db = Database(url, audit_key=audit_key)
    try:
        _fill(db, log, 1)
        with pytest.raises(DBAPIError) as caught, db.engine.begin() as conn:
            conn.exec_driver_sql(log.sql("TRUNCATE audit_entries"))
        assert "append-only" in str(caught.value)
        assert _verify(db, log).checked == 1
    finally:
        db.dispose()


def test_entries_link_each_to_the_previous_one(db: Database, log: Log) -> None:
    _fill(db, log, 3)
    with UnitOfWork(db, write=False) as uow:
        entries = list(log.of(uow).entries())
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == "0" * 64
    assert entries[1].prev_hash == entries[0].hash and entries[2].prev_hash == entries[1].hash
    assert entries[2].details_dict == {"n": 3, "user": "user3@example.com"}


def test_edited_entry_is_found(db: Database, log: Log) -> None:
    _fill(db, log)
    _sql(db, log, "UPDATE audit_entries SET reason = 'nothing to see' WHERE seq = 4")
    report = _verify(db, log)
    assert (report.ok, report.seq, report.problem) == (False, 4, "altered")
    with pytest.raises(AuditChainBroken) as caught:
        report.raise_if_broken()
    assert caught.value.code == "store.audit_broken" and caught.value.details["seq"] == 4


def test_edited_details_are_found(db: Database, log: Log) -> None:
    _fill(db, log)
    _sql(db, log, """UPDATE audit_entries SET details = '{"n":2,"user":"mallory"}' WHERE seq = 2""")
    assert (_verify(db, log).seq, _verify(db, log).problem) == (2, "altered")


def test_deleted_entry_is_found(db: Database, log: Log) -> None:
    _fill(db, log)
    _sql(db, log, "DELETE FROM audit_entries WHERE seq = 3")
    report = _verify(db, log)
    assert (report.ok, report.seq, report.problem) == (False, 3, "missing")


def test_reordered_entries_are_found(db: Database, log: Log) -> None:
    _fill(db, log)
    # swap everything but the sequence numbers of entries 3 and 4
    _sql(
        db,
        log,
        f"CREATE TABLE swap AS SELECT seq, {COLUMNS} FROM audit_entries WHERE seq IN (3, 4)",  # noqa: S608
        "UPDATE audit_entries SET hash = 'x' || substr(hash, 2) WHERE seq IN (3, 4)",
        *[
            f"UPDATE audit_entries SET {col} = (SELECT {col} FROM swap WHERE swap.seq = "  # noqa: S608
            f"7 - audit_entries.seq) WHERE seq IN (3, 4)"
            for col in COLUMNS.split(", ")
        ],
        "DROP TABLE swap",
    )
    report = _verify(db, log)
    assert (report.ok, report.seq, report.problem) == (False, 3, "unlinked")


def test_inserted_entry_is_found(db: Database, log: Log) -> None:
    _fill(db, log)
    _sql(
        db,
        log,
        "UPDATE audit_entries SET seq = seq + 100 WHERE seq >= 3",
        "UPDATE audit_entries SET seq = seq - 99 WHERE seq >= 100",
        f"INSERT INTO audit_entries (seq, {COLUMNS}) SELECT 3, at, tenant, 'mallory', action, "  # noqa: S608
        f"subject, reason, details, hash, 'forged' FROM audit_entries WHERE seq = 2",
        "UPDATE audit_head SET seq = 7",
    )
    report = _verify(db, log)
    assert (report.ok, report.seq, report.problem) == (False, 3, "altered")


def test_cut_off_end_is_found(db: Database, log: Log) -> None:
    _fill(db, log)
    _sql(db, log, "DELETE FROM audit_entries WHERE seq >= 5")
    report = _verify(db, log)
    assert (report.ok, report.seq, report.problem) == (False, 5, "truncated")


def test_entry_appended_behind_oathdesk_is_found(db: Database, log: Log) -> None:
    _fill(db, log, 2)
    _sql(
        db,
        log,
        f"INSERT INTO audit_entries (seq, {COLUMNS}) SELECT 4, at, tenant, actor, action, "  # noqa: S608
        "subject, reason, details, hash, 'z' || substr(hash, 2) FROM audit_entries WHERE seq = 2",
    )
    report = _verify(db, log)
    assert (report.ok, report.seq, report.problem) == (False, 4, "extra")


def test_edited_head_is_found(db: Database, log: Log) -> None:
    _fill(db, log, 3)
    _sql(db, log, "UPDATE audit_head SET hash = (SELECT hash FROM audit_entries WHERE seq = 2)")
    report = _verify(db, log)
    assert (report.ok, report.seq, report.problem) == (False, 3, "extra")


def test_append_committed_during_verify_is_not_tampering(db: Database, log: Log) -> None:
    _fill(db, log, 2)
    with UnitOfWork(db, write=False) as reader:
        head = reader.session.get(log.head_model, 1)  # the head is read (seq 2) and kept ...
        _fill(db, log, 1)  # ... then entry 3 commits; read committed lets the reader see it
        report = log.of(reader).verify()
    assert head is not None and head.seq == 2
    assert report.ok and report.head_seq == 2


def test_append_rolls_back_with_its_transaction(db: Database, log: Log) -> None:
    _fill(db, log, 2)
    with pytest.raises(RuntimeError), UnitOfWork(db) as uow:
        log.of(uow).append("token.assign", actor="a", subject="SN9")
        raise RuntimeError("the change it records failed")
    report = _verify(db, log)
    assert report.ok and report.head_seq == 2
    _fill(db, log, 1)
    assert _verify(db, log).head_seq == 3


def test_secrets_and_odd_values_are_refused(db: Database, log: Log) -> None:
    with pytest.raises(StoreError) as caught, UnitOfWork(db) as uow:
        log.of(uow).append("seed.export", actor="a", details={"seed": Secret(b"0123456789")})
    assert caught.value.code == "store.audit_secret"
    assert "0123456789" not in str(caught.value)
    with pytest.raises(StoreError) as odd, UnitOfWork(db) as uow:
        log.of(uow).append("x", actor="a", details={"when": object()})
    assert odd.value.code == "store.audit_bad_details"
    assert _verify(db, log).head_seq == 0


def test_export_is_json_lines_that_verify_offline(db: Database, log: Log) -> None:
    clock = FixedClock(1_800_000_000.25)
    with UnitOfWork(db, clock=clock) as uow:
        log.of(uow).append("token.import", actor="admin", reason="é ✓", details={"k": [1, 2]})
        log.of(uow).append("token.assign", actor="helpdesk", subject="SN1", tenant="other")
    with UnitOfWork(db, write=False) as uow:
        lines = list(log.of(uow).export())
        only_other = list(log.of(uow).export(tenant="other"))
        after_first = list(log.of(uow).export(after=1))
    first = json.loads(lines[0])
    assert first["at"] == "2027-01-15T08:00:00.250000+00:00"
    assert first["details"] == {"k": [1, 2]} and first["reason"] == "é ✓"
    assert verify_export(lines, key=db.audit_key) == 2
    with pytest.raises(AuditChainBroken):
        verify_export(lines)  # checked as plain SHA-256, a keyed export does not verify
    assert len(only_other) == 1 and json.loads(only_other[0])["tenant"] == "other"
    assert after_first == lines[1:]
    forged = json.loads(lines[1])
    forged["actor"] = "someone else"
    with pytest.raises(AuditChainBroken) as caught:
        verify_export([lines[0], json.dumps(forged)], key=db.audit_key)
    assert caught.value.details["seq"] == 2


def test_a_read_only_unit_of_work_cannot_append(db: Database, log: Log) -> None:
    with pytest.raises(StoreError) as caught, UnitOfWork(db, write=False) as uow:
        log.of(uow).append("token.assign", actor="a")
    assert caught.value.code == "store.read_only"
    assert _verify(db, log).head_seq == 0
