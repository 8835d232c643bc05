"""Batches and resumable jobs: the bookkeeping that lets a killed sync start again where it stopped.

Why: pushing thousands of tokens to Entra takes minutes and can be interrupted by throttling, a
crash or a kill. A job records one item per serial; each item is marked done (with Entra's id) in
its own transaction right after Entra accepts it, so a resumed job sends only what is still
pending and never creates a token twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from oathdesk.domain import Clock
from oathdesk.domain.clock import utc_now
from oathdesk.store.errors import NotFound, StateConflict
from oathdesk.store.models import Batch, Job, JobItem

JobState = Literal["pending", "running", "done", "failed", "cancelled"]
ItemState = Literal["pending", "sending", "done", "failed", "skipped"]
OPEN_STATES = ("pending", "running")
_CHUNK = 1000


class BatchRepository:
    def __init__(self, session: Session, tenant: str) -> None:
        self.session = session
        self.tenant = tenant

    def get(self, batch_id: int) -> Batch:
        batch = self.session.get(Batch, batch_id)
        if batch is None or batch.tenant != self.tenant:
            raise NotFound(f"No import batch {batch_id}.", details={"batch_id": batch_id})
        return batch

    def find_by_hash(self, content_hash: str) -> Batch | None:
        query = select(Batch).where(Batch.tenant == self.tenant, Batch.content_hash == content_hash)
        return self.session.execute(query).scalar_one_or_none()

    def list(self, *, limit: int = 100) -> list[Batch]:
        query = select(Batch).where(Batch.tenant == self.tenant).order_by(Batch.id.desc())
        return list(self.session.scalars(query.limit(limit)))


class JobRepository:
    def __init__(self, session: Session, tenant: str, *, clock: Clock) -> None:
        self.session = session
        self.tenant = tenant
        self.clock = clock

    def create(
        self,
        kind: str,
        serials: Iterable[str],
        *,
        actor: str,
        params: Mapping[str, Any] | None = None,
        items: Iterable[Mapping[str, Any]] = (),
    ) -> Job:
        """A pending job with one pending item per serial (repeats are ignored), or with
        ``items``: one per mapping of ``serial`` and the hand-out columns (``user``,
        ``user_id``, ``display_name``, ``line``), where the database refuses a repeat."""
        now = utc_now(self.clock)
        job = Job(
            tenant=self.tenant,
            kind=kind,
            actor=actor,
            params=dict(params or {}),
            created_at=now,
            updated_at=now,
        )
        self.session.add(job)
        self.session.flush()
        unique = list(dict.fromkeys(serials))
        base = {"job_id": job.id, "state": "pending", "updated_at": now}
        listed = [{**base, **item} for item in items] + [{**base, "serial": s} for s in unique]
        for i in range(0, len(listed), _CHUNK):
            self.session.execute(insert(JobItem), listed[i : i + _CHUNK])
        return job

    def get(self, job_id: int, *, lock: bool = False) -> Job:
        query = select(Job).where(Job.id == job_id, Job.tenant == self.tenant)
        if lock:
            query = query.with_for_update()
        job = self.session.execute(query).scalar_one_or_none()
        if job is None:
            raise NotFound(f"No job {job_id}.", details={"job_id": job_id})
        return job

    def find_open(self, kind: str) -> Job | None:
        """The oldest job of this kind that is not finished (to resume it rather than start one)."""
        query = (
            select(Job)
            .where(Job.tenant == self.tenant, Job.kind == kind, Job.state.in_(OPEN_STATES))
            .order_by(Job.id)
            .limit(1)
        )
        return self.session.execute(query).scalar_one_or_none()

    def start(self, job: Job) -> None:
        if job.state not in OPEN_STATES:
            raise StateConflict(
                f"Job {job.id} is {job.state}; start a new one.",
                code="inventory.job_finished",
                details={"job_id": job.id, "state": job.state},
            )
        job.state = "running"

    def pending(self, job: Job, *, limit: int = 100, retry_failed: bool = False) -> list[JobItem]:
        """The next items still to do, in the order they were added."""
        states = ("pending", "failed") if retry_failed else ("pending",)
        query = (
            select(JobItem)
            .where(JobItem.job_id == job.id, JobItem.state.in_(states))
            .order_by(JobItem.id)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def mark(
        self,
        item: JobItem,
        state: ItemState,
        *,
        entra_id: str | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> None:
        item.state = state
        item.attempts += 1
        if entra_id is not None:
            item.entra_id = entra_id
        item.error_code = error_code
        item.error_message = error_message

    def progress(self, job: Job) -> dict[str, int]:
        """Item counts by state, always with all four keys and a total."""
        query = (
            select(JobItem.state, func.count())
            .where(JobItem.job_id == job.id)
            .group_by(JobItem.state)
        )
        out = {"pending": 0, "done": 0, "failed": 0, "skipped": 0}
        for state, n in self.session.execute(query):
            out[str(state)] = int(n)
        out["total"] = sum(out.values())
        return out

    def finish(self, job: Job, state: JobState, *, error: str | None = None) -> None:
        job.state = state
        job.error = error
        job.finished_at = utc_now(self.clock)
