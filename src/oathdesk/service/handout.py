"""Bulk hand-out: give (and, by the administrator's choice, activate) thousands of tokens from a
checked roster, as one resumable job, each row exactly once.

Why: assigning a roster one token at a time takes hours at Graph's latency, and a loop that
dies half-way leaves nobody knowing which users got what. Here the roster becomes a job whose
items name serial and user (the database refuses a second token for one user in a job, and a
serial in flight twice); N workers share one Graph client and so one adaptive rate limit (it
starts at ``[handout] rate`` and follows Entra's 429s); a resume first settles the rows that
were in flight when the run died by reading Entra, then sends only what is pending.

Activation from the sealed seed makes the token usable in Entra before the person holds it, so
it is off unless ``[handout] activate_from_seed`` allows it *and* the run asks for it; the
job's audit entry records the choice (docs/handout.md weighs it).

A console page starts a job with :func:`start_handout`, runs it with :func:`run_handout` in a
background thread, and polls :func:`handout_status` and :func:`handout_outcomes`.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select, update

from oathdesk.config import Config
from oathdesk.domain import OathdeskError
from oathdesk.graph import AdaptiveRateLimiter
from oathdesk.service._common import need_reason
from oathdesk.service.context import Inventory
from oathdesk.service.errors import ServiceError
from oathdesk.service.handout_plan import RosterPlan
from oathdesk.service.handout_send import Claim, Outcome, Row, claim, send, settle
from oathdesk.service.sync import _beat, _owner_alive
from oathdesk.store import Job, JobItem, NotFound

KIND = "tokens.hand_out"
CHUNK = 500
TRANSIENT = ("graph.throttled", "graph.unavailable", "store.busy")
Progress = Callable[[dict[str, int]], None]
Hook = Callable[[str, str], None]  # (serial, "claimed" | outcome): a test's kill point
T = TypeVar("T")


@dataclass(frozen=True)
class HandoutSettings:
    """``[handout]``: whether activation from the seed is allowed at all, how many workers send
    at once, and the request rate (per second) the shared limiter starts at."""

    activate_from_seed: bool = False
    workers: int = 16
    rate: float = 20.0  # Entra's documented write limit: 3,000 per 150 s per app and tenant

    @classmethod
    def from_config(cls, config: Config) -> HandoutSettings:
        return cls(
            activate_from_seed=config.boolean("handout", "activate_from_seed", False),
            workers=config.integer("handout", "workers", 16, maximum=256),
            rate=config.number("handout", "rate", 20.0),
        )


@dataclass
class HandoutReport:
    """What one run of a hand-out job did (counts; the rows are in :func:`handout_outcomes`)."""

    job_id: int
    resumed: bool
    activate: bool
    settled: int = 0  # rows found in flight and settled by reading Entra first
    progress: dict[str, int] = field(default_factory=dict)
    state: str = "running"

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "resumed": self.resumed,
            "activate_from_seed": self.activate,
            "settled_in_flight": self.settled,
            "state": self.state,
            "progress": dict(self.progress),
        }


def check_choice(settings: HandoutSettings, activate: bool) -> None:
    """Refuse activation from the seed unless the setting allows it."""
    if activate and not settings.activate_from_seed:
        raise ServiceError(
            "Activation from the sealed seed is switched off: set [handout] activate_from_seed "
            "= true (an administrator's decision; see docs/handout.md) to use "
            "--activate-from-seed.",
            code="handout.from_seed_off",
        )


def start_handout(
    inv: Inventory,
    plan: RosterPlan,
    *,
    actor: str,
    reason: str,
    settings: HandoutSettings,
) -> int:
    """A pending job for every row of a checked ``plan`` (refused when any row has an error,
    or activation is asked for and not allowed); audited ``handout.start`` with the choice."""
    check_choice(settings, plan.activate)
    plan.raise_if_invalid()
    reason = need_reason(reason)
    items = [
        {
            "serial": r.serial,
            "user": r.upn or r.user,
            "user_id": r.user_id,
            "display_name": r.display_name or None,
            "line": r.line,
        }
        for r in plan.rows
    ]
    params = {"source": plan.source, "activate_from_seed": plan.activate, "reason": reason}
    with inv.uow() as uow:
        job = uow.jobs.create(KIND, [], actor=actor, params=params, items=items)
        uow.audit.append(
            "handout.start",
            actor=actor,
            subject=f"job:{job.id}",
            reason=reason,
            details={
                "source": plan.source,
                "rows": len(items),
                "activate_from_seed": plan.activate,
                "warnings": sum(1 for p in plan.problems if not p.is_error),
            },
            tenant=inv.tenant,
        )
        return job.id


def _job(uow: Any, job_id: int, *, lock: bool = False) -> Job:
    job: Job = uow.jobs.get(job_id, lock=lock)
    if job.kind != KIND:
        raise NotFound(f"Job {job_id} is not a hand-out.", details={"job_id": job_id})
    return job


def _limit(inv: Inventory, rate: float) -> None:
    """Start the Graph client's shared limiter at ``rate``: every worker waits on it."""
    session = getattr(inv.entra(), "session", None)
    limiter = getattr(session, "limiter", None)
    if isinstance(limiter, AdaptiveRateLimiter) and limiter.rate is None:
        limiter.start_at(rate)


def run_handout(
    inv: Inventory,
    job_id: int,
    *,
    actor: str,
    settings: HandoutSettings,
    progress: Progress | None = None,
    hook: Hook | None = None,
) -> HandoutReport:
    """Run (or resume) hand-out job ``job_id`` to the end: rows in flight when an earlier run
    died are settled from Entra's state first, then every pending row is sent, by
    ``settings.workers`` workers sharing one rate limit."""
    with inv.uow() as uow:
        job = _job(uow, job_id, lock=True)
        if job.state == "running" and _owner_alive(job.params, inv):
            raise ServiceError(
                f"Hand-out job {job_id} is running in another process; let it finish.",
                code="handout.running",
                details={"job_id": job_id},
            )
        params = dict(job.params or {})
        activate = bool(params.get("activate_from_seed"))
        check_choice(settings, activate)
        resumed = int(params.get("runs", 0)) > 0
        if job.state == "failed":
            job.state = "pending"  # a resume retries what failed for a passing reason
        uow.jobs.start(job)
        job.params = {**params, "runs": int(params.get("runs", 0)) + 1}
        _beat(job, inv)
        if resumed:
            uow.session.execute(  # rows that failed for a passing reason are tried again
                update(JobItem)
                .where(JobItem.job_id == job_id, JobItem.state == "failed")
                .where(JobItem.error_code.in_(TRANSIENT))
                .values(state="pending")
            )
            uow.audit.append(
                "handout.resume",
                actor=actor,
                subject=f"job:{job_id}",
                reason=str(params.get("reason") or ""),
                details={"activate_from_seed": activate},
                tenant=inv.tenant,
            )
        counts = uow.jobs.progress(job)
    report = HandoutReport(job_id, resumed, activate)
    _limit(inv, settings.rate)
    state = dict(counts)

    def tick(outcome: Outcome, before: str) -> None:
        if outcome != before:
            state[before] = state.get(before, 0) - 1
            state[outcome] = state.get(outcome, 0) + 1
        if progress is not None:
            progress(dict(state))

    with ThreadPoolExecutor(max(1, settings.workers), thread_name_prefix="handout") as pool:
        in_flight = _rows(inv, job_id, "sending")
        report.settled = len(in_flight)
        settled = pool.map(
            lambda r: _guard(lambda: settle(inv, r, activate=activate, actor=actor)), in_flight
        )
        for outcome in settled:
            tick(outcome, "sending")
        while rows := _rows(inv, job_id, "pending"):
            moved = False
            for outcome in pool.map(lambda r: _one(inv, r, activate, actor, hook), rows):
                tick(outcome, "pending")
                moved = moved or outcome != "sending"  # a row back to pending used an attempt
            if not moved:
                break  # nothing went forward (the database busy?): a resume takes it from here
    with inv.uow() as uow:
        job = _job(uow, job_id, lock=True)
        report.progress = uow.jobs.progress(job)
        left = report.progress.get("sending", 0) + report.progress["pending"]
        if left:
            report.state = job.state = "pending"  # open: a resume settles and sends the rest
        else:
            report.state = "failed" if report.progress["failed"] else "done"
            uow.jobs.finish(job, "failed" if report.progress["failed"] else "done")
        uow.audit.append(
            "handout.finish",
            actor=actor,
            subject=f"job:{job_id}",
            reason=str(params.get("reason") or ""),
            details={"activate_from_seed": activate, **report.progress},
            tenant=inv.tenant,
        )
    return report


def _rows(inv: Inventory, job_id: int, state: str) -> list[Row]:
    with inv.uow(write=False) as uow:
        query = (
            select(JobItem)
            .where(JobItem.job_id == job_id, JobItem.state == state)
            .order_by(JobItem.id)
            .limit(CHUNK)
        )
        return [
            Row(
                i.id,
                job_id,
                i.serial,
                i.user_id or "",
                i.user or "",
                i.display_name or "",
            )
            for i in uow.session.scalars(query)
        ]


def _guard(work: Callable[[], T]) -> T | Outcome:
    """A row whose work failed on our side (the database busy, say) stays for a resume."""
    try:
        return work()
    except OathdeskError:
        return "sending"


def _one(inv: Inventory, row: Row, activate: bool, actor: str, hook: Hook | None) -> Outcome:
    got = _guard(lambda: claim(inv, row, activate=activate, actor=actor))
    if not isinstance(got, Claim):
        return got
    if hook is not None:
        hook(row.serial, "claimed")
    outcome = _guard(lambda: send(inv, row, got, activate=activate, actor=actor))
    if hook is not None:
        hook(row.serial, outcome)
    return outcome


def handout_status(inv: Inventory, job_id: int) -> dict[str, Any]:
    """A hand-out job's state and counts, for a progress bar or a console page's poll."""
    with inv.uow(write=False) as uow:
        job = _job(uow, job_id)
        params = job.params or {}
        return {
            "job_id": job.id,
            "state": job.state,
            "actor": job.actor,
            "source": params.get("source"),
            "activate_from_seed": bool(params.get("activate_from_seed")),
            "created_at": job.created_at.isoformat(),
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            "progress": uow.jobs.progress(job),
        }


def handout_outcomes(inv: Inventory, job_id: int) -> list[dict[str, Any]]:
    """One line per roster row: its serial, user, outcome and, when it failed, why."""
    with inv.uow(write=False) as uow:
        job = _job(uow, job_id)
        activated = bool((job.params or {}).get("activate_from_seed"))
        query = select(JobItem).where(JobItem.job_id == job_id).order_by(JobItem.line, JobItem.id)
        return [
            {
                "line": i.line,
                "serial": i.serial,
                "user": i.user,
                "outcome": ("activated" if activated else "assigned")
                if i.state == "done"
                else i.state,
                "code": i.error_code,
                "message": i.error_message,
                "attempts": i.attempts,
            }
            for i in uow.session.scalars(query)
        ]


def open_handout(inv: Inventory) -> int | None:
    """The oldest hand-out job not finished (to offer a resume), or None."""
    with inv.uow(write=False) as uow:
        job = uow.jobs.find_open(KIND)
        return job.id if job is not None else None
