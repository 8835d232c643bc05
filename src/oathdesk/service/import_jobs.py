"""Console import jobs: an import and the push to Entra that follows it, kept in the database.

Why: the progress page polls, and each poll may reach a server process other than the one whose
thread runs the push, so the push writes its progress through a unit of work
(``store.ImportJobRepository``) and any process reads it. Progress is written every
``PROGRESS_EVERY`` tokens or ``PROGRESS_SECONDS`` on the inventory's clock, whichever comes
first, not once per token: a push already writes several rows per token.

Known limit: if the process running a push dies, its job stays ``running`` (nothing watches
another process's thread); the push itself is the resumable ``sync.push`` job, which
``oathdesk sync push`` finishes.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

from oathdesk.domain import OathdeskError
from oathdesk.service.context import Inventory
from oathdesk.service.import_desk import ImportRefused
from oathdesk.service.sync import push
from oathdesk.store import ImportJobRow

log = logging.getLogger("oathdesk.service.import_jobs")

JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")  # what ``open`` makes; anything else is not looked up
PROGRESS_EVERY = 20
PROGRESS_SECONDS = 0.5


@dataclass(frozen=True)
class ImportJob:
    """An import job as the status page and its API twin show it."""

    id: str
    state: str  # running | done | failed
    total: int
    done: int
    report: dict[str, Any]
    push: dict[str, Any] | None
    error: str | None
    error_code: str | None

    @classmethod
    def of(cls, row: ImportJobRow) -> ImportJob:
        return cls(
            row.id, row.state, row.total, row.done, row.report, row.push, row.error, row.error_code
        )

    def to_dict(self) -> dict[str, Any]:
        percent = 100 if self.state != "running" else (100 * self.done // max(self.total, 1))
        return {
            "id": self.id,
            "state": self.state,
            "total": self.total,
            "done": self.done,
            "percent": percent,
            "import": self.report,
            "push": self.push,
            "error": self.error,
            "error_code": self.error_code,
        }


class ImportJobs:
    """The import jobs of one inventory's database (the newest 100 per tenant)."""

    def __init__(self, inv: Inventory) -> None:
        self.inv = inv

    def open(self, actor: str, report: dict[str, Any], total: int) -> ImportJob:
        """A new job under a random id: ``running`` when there is something to push, else
        ``done`` at once."""
        job_id = secrets.token_urlsafe(16)
        state = "running" if total else "done"
        with self.inv.uow() as uow:
            row = uow.import_jobs.add(job_id, actor=actor, report=report, total=total, state=state)
            return ImportJob.of(row)

    def get(self, job_id: str) -> ImportJob:
        """The job, or ``import.not_found`` (also for an id no job can have, never sent to the
        database: PostgreSQL refuses some strings, e.g. with a NUL, with a driver error)."""
        with self.inv.uow(write=False) as uow:
            row = uow.import_jobs.get(job_id) if JOB_ID.fullmatch(job_id) else None
            if row is None:
                raise ImportRefused("There is no such import job.", code="import.not_found")
            return ImportJob.of(row)

    def progress(self, job_id: str, done: int) -> None:
        with self.inv.uow() as uow:
            uow.import_jobs.progress(job_id, done)

    def fail(self, job_id: str, message: str, code: str) -> None:
        with self.inv.uow() as uow:
            uow.import_jobs.finish(job_id, "failed", error=message, error_code=code)


def run_push(inv: Inventory, job_id: str, actor: str, batch_id: int) -> None:
    """Push a batch's stock to Entra for job ``job_id`` and record how it went (the body of the
    console's background thread: it raises nothing, a failure is the job's state)."""
    jobs = ImportJobs(inv)
    seen = {"done": 0, "written": 0, "at": inv.clock.now()}

    def hook(_serial: str, event: str) -> None:
        if event != "done":
            return
        seen["done"] += 1
        now = inv.clock.now()
        if seen["done"] - seen["written"] < PROGRESS_EVERY and now - seen["at"] < PROGRESS_SECONDS:
            return
        try:
            jobs.progress(job_id, int(seen["done"]))
        except OathdeskError as exc:  # a busy moment: the next write catches up
            log.warning("import job progress not written (%s)", exc.code)
            return
        seen["written"], seen["at"] = seen["done"], now

    try:
        report = push(inv, actor=actor, batch_id=batch_id, hook=hook)
    except OathdeskError as exc:
        jobs.fail(job_id, exc.message, exc.code)
        return
    except Exception as exc:  # a background thread has nobody else to tell
        log.error("import push crashed with %s", type(exc).__name__)
        jobs.fail(job_id, "the push stopped unexpectedly; it was logged", "internal")
        return
    counts = report.progress  # a resumed push may have carried more than this batch
    total = counts.get("total", 0)
    done = total - counts.get("pending", 0) - counts.get("failed", 0)
    with inv.uow() as uow:
        uow.import_jobs.finish(
            job_id,
            "failed" if report.failed else "done",
            total=total,
            done=done,
            push=report.to_dict(),
            error=f"{len(report.failed)} token(s) were not accepted by Entra"
            if report.failed
            else None,
            error_code=report.failed[0].get("code") if report.failed else None,
        )
