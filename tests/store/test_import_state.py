"""The console's held uploads and import jobs as rows (SQLite and PostgreSQL): purge by expiry,
the waiting bytes, a removal that only one of two callers wins; jobs whose progress only moves
forward while running, that end with their counts and error, stay in their tenant, and are kept
to the newest ``KEEP``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from oathdesk.domain import FixedClock
from oathdesk.store import Database, HeldUploadRow, UnitOfWork
from oathdesk.store.import_jobs import KEEP

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _row(key: str, size: int, expires: datetime, owner: str = "o" * 64) -> HeldUploadRow:
    return HeldUploadRow(
        key_hash=key * 64,
        tenant="default",
        owner_hash=owner,
        name="delivery.zip",
        fmt=None,
        use_pgp=False,
        size=size,
        data_key_id="k1",
        sealed_data=b"\x01sealed",
        created_at=T0,
        expires_at=expires,
    )


def test_held_uploads_are_counted_purged_by_expiry_and_removed_once(db: Database) -> None:
    with UnitOfWork(db) as uow:
        uow.held_uploads.lock()
        uow.held_uploads.add(_row("a", 100, T0 + timedelta(minutes=1)))
        uow.held_uploads.add(_row("b", 50, T0 + timedelta(minutes=15)))
        assert uow.held_uploads.waiting_bytes() == 150
    with UnitOfWork(db) as uow:
        assert uow.held_uploads.purge(T0 + timedelta(minutes=1)) == 0  # its last moment
        assert uow.held_uploads.purge(T0 + timedelta(minutes=2)) == 1
        assert uow.held_uploads.waiting_bytes() == 50
        assert uow.held_uploads.get("a" * 64) is None
    with UnitOfWork(db) as uow:
        row = uow.held_uploads.get("b" * 64, lock=True)
        assert row is not None and row.size == 50 and row.sealed_data == b"\x01sealed"
        assert not uow.held_uploads.remove("b" * 64, "p" * 64)  # not its owner
        assert uow.held_uploads.remove("b" * 64, "o" * 64)
        assert not uow.held_uploads.remove("b" * 64, "o" * 64)
    with UnitOfWork(db, write=False) as uow:
        assert uow.held_uploads.waiting_bytes() == 0


def test_a_job_moves_forward_while_running_then_ends(db: Database) -> None:
    clock = FixedClock(T0.timestamp())
    with UnitOfWork(db, clock=clock) as uow:
        job = uow.import_jobs.add(
            "job-1", actor="web:ada", report={"added": 5}, total=5, state="running"
        )
        assert (job.state, job.done, job.finished_at) == ("running", 0, None)
    clock.advance(10)
    for done in (2, 1, 4):  # a late, smaller count never moves it back
        with UnitOfWork(db, clock=clock) as uow:
            uow.import_jobs.progress("job-1", done)
    with UnitOfWork(db, write=False) as uow:
        row = uow.import_jobs.get("job-1")
        assert row is not None and row.done == 4
        assert row.updated_at == T0 + timedelta(seconds=10) and row.created_at == T0
    with UnitOfWork(db, clock=clock) as uow:
        uow.import_jobs.finish(
            "job-1",
            "failed",
            total=5,
            done=4,
            push={"created": 4},
            error="1 token(s) were not accepted by Entra",
            error_code="graph.bad_request",
        )
        uow.import_jobs.progress("job-1", 5)  # after its end: ignored
    with UnitOfWork(db, tenant="other", write=False) as uow:
        assert uow.import_jobs.get("job-1") is None  # another tenant's job is not found
    with UnitOfWork(db, write=False) as uow:
        row = uow.import_jobs.get("job-1")
        assert row is not None
        assert (row.state, row.done, row.total, row.push) == ("failed", 4, 5, {"created": 4})
        assert (row.error_code, row.report) == ("graph.bad_request", {"added": 5})
        assert row.finished_at == T0 + timedelta(seconds=10)
        assert "web:ada" not in repr(row) and "job-1" in repr(row)


def test_only_the_newest_jobs_are_kept(db: Database) -> None:
    clock = FixedClock(T0.timestamp())
    for n in range(KEEP + 3):
        clock.advance(1)
        with UnitOfWork(db, clock=clock) as uow:
            uow.import_jobs.add(f"job-{n:03d}", actor="web:ada", report={}, total=0, state="done")
    with UnitOfWork(db, tenant="other", clock=clock) as uow:
        uow.import_jobs.add("elsewhere", actor="web:bob", report={}, total=0, state="done")
    with UnitOfWork(db, write=False) as uow:
        assert [uow.import_jobs.get(f"job-{n:03d}") for n in range(3)] == [None, None, None]
        assert uow.import_jobs.get("job-003") is not None
        assert uow.import_jobs.get(f"job-{KEEP + 2:03d}") is not None
    with UnitOfWork(db, tenant="other", write=False) as uow:
        assert uow.import_jobs.get("elsewhere") is not None
