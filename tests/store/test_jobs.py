"""Resumable jobs: progress is per serial and committed item by item, so a resume never repeats."""

from __future__ import annotations

import pytest

from oathdesk.store import Database, StateConflict, UnitOfWork

SERIALS = [f"SN{i:03d}" for i in range(10)]


def _new_job(db: Database) -> int:
    with UnitOfWork(db) as uow:
        job = uow.jobs.create("sync.push", [*SERIALS, SERIALS[0]], actor="admin", params={"n": 1})
        return job.id


def test_a_job_killed_half_way_resumes_without_repeats(db: Database) -> None:
    job_id = _new_job(db)
    sent: list[str] = []  # what "Entra" received

    def push_some(limit: int, *, die_after: int | None = None) -> None:
        with UnitOfWork(db) as uow:
            job = uow.jobs.get(job_id, lock=True)
            uow.jobs.start(job)
            items = uow.jobs.pending(job, limit=limit)
        for n, item in enumerate(items):
            if die_after is not None and n == die_after:
                with pytest.raises(KeyboardInterrupt), UnitOfWork(db) as uow:
                    uow.jobs.mark(uow.session.merge(item), "done", entra_id="lost")
                    raise KeyboardInterrupt  # killed before the commit
                return
            sent.append(item.serial)
            with UnitOfWork(db) as uow:
                uow.jobs.mark(uow.session.merge(item), "done", entra_id=f"id-{item.serial}")

    push_some(6, die_after=4)
    with UnitOfWork(db, write=False) as uow:
        job = uow.jobs.get(job_id)
        assert uow.jobs.progress(job) == {
            "pending": 6,
            "done": 4,
            "failed": 0,
            "skipped": 0,
            "total": 10,
        }
        assert uow.jobs.find_open("sync.push") is not None
    push_some(100)
    assert sorted(sent) == SERIALS  # every serial exactly once
    with UnitOfWork(db) as uow:
        job = uow.jobs.get(job_id)
        assert uow.jobs.progress(job)["done"] == 10
        assert uow.jobs.pending(job) == []
        uow.jobs.finish(job, "done")
    with UnitOfWork(db) as uow:
        job = uow.jobs.get(job_id)
        assert job.state == "done" and job.finished_at is not None and job.params == {"n": 1}
        assert uow.jobs.find_open("sync.push") is None
        with pytest.raises(StateConflict) as caught:
            uow.jobs.start(job)
        assert caught.value.code == "inventory.job_finished"


def test_failed_items_are_retried_only_when_asked(db: Database) -> None:
    job_id = _new_job(db)
    with UnitOfWork(db) as uow:
        job = uow.jobs.get(job_id)
        first = uow.jobs.pending(job, limit=1)[0]
        uow.jobs.mark(first, "failed", error_code="graph.throttled", error_message="429")
    with UnitOfWork(db) as uow:
        job = uow.jobs.get(job_id)
        assert first.serial not in [i.serial for i in uow.jobs.pending(job, limit=100)]
        retry = uow.jobs.pending(job, limit=100, retry_failed=True)
        assert retry[0].serial == first.serial
        assert (retry[0].attempts, retry[0].error_code) == (1, "graph.throttled")
