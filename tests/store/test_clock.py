"""Every time the store writes comes from the unit of work's clock: rows are created, moved,
changed and finished at the clock's time, never at the machine's."""

from __future__ import annotations

from datetime import timedelta

from oathdesk.domain import FixedClock
from oathdesk.domain.clock import utc
from oathdesk.store import Database, Sealer, TokenState, UnitOfWork
from oathdesk.store.tokens import NewBatch
from tests.store.support import make_records

T0 = 1_000_000_000.0  # 2001-09-09, far from the machine's clock


def test_token_times_follow_the_unit_of_work_clock(db: Database, sealer: Sealer) -> None:
    clock = FixedClock(T0)
    with UnitOfWork(db, clock=clock) as uow:
        result = uow.tokens.add_batch(
            NewBatch("a.csv", "entra-csv", "c" * 64), make_records(2), sealer, actor="t"
        )
        batch_id = result.batch.id
    clock.advance(60)
    with UnitOfWork(db, clock=clock) as uow:
        token = uow.tokens.get_for_update("SN000000")
        uow.tokens.move(token, TokenState.AVAILABLE)
    clock.advance(60)
    with UnitOfWork(db, clock=clock) as uow:
        uow.tokens.get_for_update("SN000000").display_name = "Desk 7"  # any change
        uow.tokens.destroy_seed(uow.tokens.get_for_update("SN000001"), actor="t", reason="test")
    with UnitOfWork(db, write=False) as uow:
        changed, destroyed = uow.tokens.get("SN000000"), uow.tokens.get("SN000001")
        assert uow.batches.get(batch_id).created_at == utc(T0)
        entries = list(uow.audit.entries())
    assert changed.created_at == utc(T0)
    assert changed.state_changed_at == utc(T0 + 60)
    assert changed.updated_at == utc(T0 + 120)
    assert destroyed.seed_destroyed_at == destroyed.updated_at == utc(T0 + 120)
    assert destroyed.state_changed_at == utc(T0)
    assert [e.at for e in entries] == [utc(T0), utc(T0 + 120)]


def test_a_time_set_by_the_caller_is_kept(db: Database, sealer: Sealer) -> None:
    clock = FixedClock(T0)
    with UnitOfWork(db, clock=clock) as uow:
        uow.tokens.add_batch(
            NewBatch("b", "entra-csv", "d" * 64), make_records(1), sealer, actor="t"
        )
    clock.advance(30)
    with UnitOfWork(db, clock=clock) as uow:
        token = uow.tokens.get_for_update("SN000000")
        token.display_name = "Spare"
        token.updated_at = utc(T0) + timedelta(days=1)
    with UnitOfWork(db, write=False) as uow:
        assert uow.tokens.get("SN000000").updated_at == utc(T0) + timedelta(days=1)


def test_job_times_follow_the_unit_of_work_clock(db: Database) -> None:
    clock = FixedClock(T0)
    with UnitOfWork(db, clock=clock) as uow:
        job_id = uow.jobs.create("sync.push", ["A", "B"], actor="t").id
    clock.advance(10)
    with UnitOfWork(db, clock=clock) as uow:
        job = uow.jobs.get(job_id, lock=True)
        uow.jobs.start(job)
        first = uow.jobs.pending(job, limit=1)[0]
        uow.jobs.mark(first, "done", entra_id="e1")
    clock.advance(10)
    with UnitOfWork(db, clock=clock) as uow:
        uow.jobs.finish(uow.jobs.get(job_id, lock=True), "done")
    with UnitOfWork(db, write=False) as uow:
        job = uow.jobs.get(job_id)
        items = {i.serial: i for i in uow.jobs.pending(job, limit=10)}
        assert (job.created_at, job.finished_at, job.updated_at) == (
            utc(T0),
            utc(T0 + 20),
            utc(T0 + 20),
        )
        assert items["B"].updated_at == utc(T0)  # untouched since it was created
        done = uow.session.get(type(items["B"]), first.id)
        assert done is not None and done.updated_at == utc(T0 + 10)
