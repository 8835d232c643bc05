"""The audit chain: verify passes on honest history and names the first tampered entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from oathdesk.domain import FixedClock, Secret
from oathdesk.store import (
    AuditChainBroken,
    Database,
    StoreError,
    UnitOfWork,
    upgrade,
    verify_export,
)
from oathdesk.store.audit import ChainReport
from oathdesk.store.models import AuditHead
from tests.store.support import fresh_url

COLUMNS = "at, tenant, actor, action, subject, reason, details, prev_hash, hash"


def _fill(db: Database, n: int = 6) -> None:
    for i in range(1, n + 1):
        with UnitOfWork(db) as uow:
            uow.audit.append(
                "token.assign",
                actor=f"agent{i}",
                subject=f"SN{i:04d}",
                reason=f"ticket {i}",
                details={"user": f"user{i}@example.com", "n": i},
            )


def _verify(db: Database) -> ChainReport:
    with UnitOfWork(db, write=False) as uow:
        return uow.audit.verify()


def _sql(db: Database, *statements: str) -> None:
    """Tamper as someone with owner rights would: drop the append-only triggers first."""
    if db.dialect == "postgresql":
        unprotect = ["DROP TRIGGER audit_entries_append_only ON audit_entries"]
    else:
        unprotect = ["DROP TRIGGER audit_entries_no_update", "DROP TRIGGER audit_entries_no_delete"]
    with db.engine.begin() as conn:
        for statement in [*unprotect, *statements]:
            conn.exec_driver_sql(statement)


def test_honest_chain_verifies(db: Database) -> None:
    assert _verify(db).ok and _verify(db).checked == 0  # an empty log is a valid chain
    _fill(db)
    report = _verify(db)
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
def test_the_database_refuses_changes_to_the_log(db: Database, statement: str) -> None:
    _fill(db, 3)
    with pytest.raises(DBAPIError) as caught, db.engine.begin() as conn:
        conn.exec_driver_sql(statement)
    assert "append-only" in str(caught.value)
    assert _verify(db).ok and _verify(db).checked == 3


def test_the_database_refuses_truncation_on_postgresql(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = fresh_url("postgresql", tmp_path, request)  # SQLite has no TRUNCATE
    upgrade(url)
    db = Database(url)
    try:
        _fill(db, 1)
        with pytest.raises(DBAPIError) as caught, db.engine.begin() as conn:
            conn.exec_driver_sql("TRUNCATE audit_entries")
        assert "append-only" in str(caught.value)
        assert _verify(db).checked == 1
    finally:
        db.dispose()


def test_entries_link_each_to_the_previous_one(db: Database) -> None:
    _fill(db, 3)
    with UnitOfWork(db, write=False) as uow:
        entries = list(uow.audit.entries())
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == "0" * 64
    assert entries[1].prev_hash == entries[0].hash and entries[2].prev_hash == entries[1].hash
    assert entries[2].details_dict == {"n": 3, "user": "user3@example.com"}


def test_edited_entry_is_found(db: Database) -> None:
    _fill(db)
    _sql(db, "UPDATE audit_entries SET reason = 'nothing to see' WHERE seq = 4")
    report = _verify(db)
    assert (report.ok, report.seq, report.problem) == (False, 4, "altered")
    with pytest.raises(AuditChainBroken) as caught:
        report.raise_if_broken()
    assert caught.value.code == "store.audit_broken" and caught.value.details["seq"] == 4


def test_edited_details_are_found(db: Database) -> None:
    _fill(db)
    _sql(db, """UPDATE audit_entries SET details = '{"n":2,"user":"mallory"}' WHERE seq = 2""")
    assert (_verify(db).seq, _verify(db).problem) == (2, "altered")


def test_deleted_entry_is_found(db: Database) -> None:
    _fill(db)
    _sql(db, "DELETE FROM audit_entries WHERE seq = 3")
    report = _verify(db)
    assert (report.ok, report.seq, report.problem) == (False, 3, "missing")


def test_reordered_entries_are_found(db: Database) -> None:
    _fill(db)
    # swap everything but the sequence numbers of entries 3 and 4
    _sql(
        db,
        f"CREATE TABLE swap AS SELECT seq, {COLUMNS} FROM audit_entries WHERE seq IN (3, 4)",  # noqa: S608
        "UPDATE audit_entries SET hash = 'x' || substr(hash, 2) WHERE seq IN (3, 4)",
        *[
            f"UPDATE audit_entries SET {col} = (SELECT {col} FROM swap WHERE swap.seq = "  # noqa: S608
            f"7 - audit_entries.seq) WHERE seq IN (3, 4)"
            for col in COLUMNS.split(", ")
        ],
        "DROP TABLE swap",
    )
    report = _verify(db)
    assert (report.ok, report.seq, report.problem) == (False, 3, "unlinked")


def test_inserted_entry_is_found(db: Database) -> None:
    _fill(db)
    _sql(
        db,
        "UPDATE audit_entries SET seq = seq + 100 WHERE seq >= 3",
        "UPDATE audit_entries SET seq = seq - 99 WHERE seq >= 100",
        f"INSERT INTO audit_entries (seq, {COLUMNS}) SELECT 3, at, tenant, 'mallory', action, "  # noqa: S608
        f"subject, reason, details, hash, 'forged' FROM audit_entries WHERE seq = 2",
        "UPDATE audit_head SET seq = 7",
    )
    report = _verify(db)
    assert (report.ok, report.seq, report.problem) == (False, 3, "altered")


def test_cut_off_end_is_found(db: Database) -> None:
    _fill(db)
    _sql(db, "DELETE FROM audit_entries WHERE seq >= 5")
    report = _verify(db)
    assert (report.ok, report.seq, report.problem) == (False, 5, "truncated")


def test_entry_appended_behind_oathdesk_is_found(db: Database) -> None:
    _fill(db, 2)
    _sql(
        db,
        f"INSERT INTO audit_entries (seq, {COLUMNS}) SELECT 4, at, tenant, actor, action, "  # noqa: S608
        "subject, reason, details, hash, 'z' || substr(hash, 2) FROM audit_entries WHERE seq = 2",
    )
    report = _verify(db)
    assert (report.ok, report.seq, report.problem) == (False, 4, "extra")


def test_edited_head_is_found(db: Database) -> None:
    _fill(db, 3)
    _sql(db, "UPDATE audit_head SET hash = (SELECT hash FROM audit_entries WHERE seq = 2)")
    report = _verify(db)
    assert (report.ok, report.seq, report.problem) == (False, 3, "extra")


def test_append_committed_during_verify_is_not_tampering(db: Database) -> None:
    _fill(db, 2)
    with UnitOfWork(db, write=False) as reader:
        head = reader.session.get(AuditHead, 1)  # the head is read (seq 2) and kept ...
        _fill(db, 1)  # ... then entry 3 commits; PostgreSQL's read committed lets the reader see it
        report = reader.audit.verify()
    assert head is not None and head.seq == 2
    assert report.ok and report.head_seq == 2


def test_append_rolls_back_with_its_transaction(db: Database) -> None:
    _fill(db, 2)
    with pytest.raises(RuntimeError), UnitOfWork(db) as uow:
        uow.audit.append("token.assign", actor="a", subject="SN9")
        raise RuntimeError("the change it records failed")
    report = _verify(db)
    assert report.ok and report.head_seq == 2
    _fill(db, 1)
    assert _verify(db).head_seq == 3


def test_secrets_and_odd_values_are_refused(db: Database) -> None:
    with pytest.raises(StoreError) as caught, UnitOfWork(db) as uow:
        uow.audit.append("seed.export", actor="a", details={"seed": Secret(b"0123456789")})
    assert caught.value.code == "store.audit_secret"
    assert "0123456789" not in str(caught.value)
    with pytest.raises(StoreError) as odd, UnitOfWork(db) as uow:
        uow.audit.append("x", actor="a", details={"when": object()})
    assert odd.value.code == "store.audit_bad_details"
    assert _verify(db).head_seq == 0


def test_export_is_json_lines_that_verify_offline(db: Database) -> None:
    clock = FixedClock(1_800_000_000.25)
    with UnitOfWork(db, clock=clock) as uow:
        uow.audit.append("token.import", actor="admin", reason="é ✓", details={"k": [1, 2]})
        uow.audit.append("token.assign", actor="helpdesk", subject="SN1", tenant="other")
    with UnitOfWork(db, write=False) as uow:
        lines = list(uow.audit.export())
        only_other = list(uow.audit.export(tenant="other"))
        after_first = list(uow.audit.export(after=1))
    first = json.loads(lines[0])
    assert first["at"] == "2027-01-15T08:00:00.250000+00:00"
    assert first["details"] == {"k": [1, 2]} and first["reason"] == "é ✓"
    assert verify_export(lines) == 2
    assert len(only_other) == 1 and json.loads(only_other[0])["tenant"] == "other"
    assert after_first == lines[1:]
    forged = json.loads(lines[1])
    forged["actor"] = "someone else"
    with pytest.raises(AuditChainBroken) as caught:
        verify_export([lines[0], json.dumps(forged)])
    assert caught.value.details["seq"] == 2


def test_a_read_only_unit_of_work_cannot_append(db: Database) -> None:
    with pytest.raises(StoreError) as caught, UnitOfWork(db, write=False) as uow:
        uow.audit.append("token.assign", actor="a")
    assert caught.value.code == "store.read_only"
    assert _verify(db).head_seq == 0
