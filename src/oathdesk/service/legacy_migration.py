"""Move legacy CSV copies into the Graph inventory as one audited job that survives a kill.

Why: Microsoft's old CSV upload left tokens that are methods of their users but never part of
the Graph inventory, so Graph cannot manage them. For each one whose seed we hold the job
creates the Graph device, assigns it to the same user, activates it with a code made from the
sealed seed (when the legacy copy was active: the holder signs in with that token today), and
only then removes the legacy copy the documented way. Every step looks at Entra first (a device
created before a kill is found by serial, an assignment to the same user is a no-op, a clean-up
started before a kill is finished from the audit), so a resumed job never creates a second
device nor removes a copy twice.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text

from oathdesk.domain import OathdeskError, UsageError
from oathdesk.graph import GraphNotFound
from oathdesk.service._common import need_reason
from oathdesk.service.context import Inventory
from oathdesk.service.errors import ServiceError
from oathdesk.service.legacy import LegacyCopy, _clean_one, _open_intents
from oathdesk.service.legacy_plan import FREE, LEFT, MigrationRow, classify, legacy_copies
from oathdesk.service.lifecycle.actions import assign
from oathdesk.service.lifecycle.from_seed import activate_from_seed
from oathdesk.service.sync import _beat, _owner_alive
from oathdesk.store import Job, JobItem, TokenState, UnitOfWork

S = TokenState
KIND = "legacy.migrate"
REASON = "migration of a legacy CSV copy to the Graph inventory"
Hook = Callable[[MigrationRow], None]  # after each row: the progress bar, a test's kill point


@dataclass
class MigrationReport:
    """What a run saw (dry run) or did: one row per legacy copy, and the job's id."""

    dry_run: bool
    job_id: int | None = None
    resumed: bool = False
    rows: list[MigrationRow] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.rows:
            out[row.outcome] = out.get(row.outcome, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "job_id": self.job_id,
            "resumed": self.resumed,
            "counts": self.counts(),
            "rows": [r.to_dict() for r in self.rows],
        }


def _one_starter(inv: Inventory, uow: UnitOfWork) -> None:
    """Two migrations started together share one job (SQLite: the write lock; PostgreSQL: a
    transaction-scoped advisory lock per tenant)."""
    if inv.db.dialect == "postgresql":
        key = zlib.crc32(f"oathdesk:{inv.tenant}:{KIND}".encode())
        uow.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _last_unfinished(uow: UnitOfWork) -> Job | None:
    """The newest migration job still running, pending, or finished with failed items."""
    query = (
        select(Job)
        .where(
            Job.tenant == uow.tenant,
            Job.kind == KIND,
            Job.state.in_(("pending", "running", "failed")),
        )
        .order_by(Job.id.desc())
        .limit(1)
    )
    return uow.session.execute(query).scalar_one_or_none()


def _rows_of(job: Job, items: Iterable[JobItem]) -> list[MigrationRow]:
    plan: dict[str, Any] = dict((job.params or {}).get("plan") or {})
    rows = []
    for item in items:
        p = plan.get(item.serial) or {}
        rows.append(
            MigrationRow(
                item.serial,
                str(p.get("user_id", "")),
                str(p.get("user_upn", "")),
                str(p.get("method_id", "")),
                str(p.get("device_id", "")),
                str(p.get("legacy_status", "")),
                "",
                ["continue where the job stopped: the Graph copy, then the legacy copy's removal"],
                activate=bool(p.get("activate")),
            )
        )
    return rows


def migrate_legacy(
    inv: Inventory,
    *,
    actor: str,
    dry_run: bool = False,
    resume: bool = False,
    users: Iterable[str] | None = None,
    activate_assigned: bool = False,
    reason: str | None = None,
    hook: Hook | None = None,
    scanned: Callable[[int], None] | None = None,
    todo: Callable[[int], None] | None = None,
) -> MigrationReport:
    """Plan (``dry_run``: nothing is written anywhere) or run the migration of every legacy CSV
    copy (or only those of ``users``). An interrupted (killed) job is continued only with
    ``resume``: starting a new one meanwhile is refused (``service.migration_open``). A job that
    ended with failed copies is retried by ``resume``, or superseded by a new run. ``reason``
    (default: the job's own, else :data:`REASON`) goes on every audit entry."""
    if dry_run and resume:
        return _resume_plan(inv)
    if resume:
        return _run(inv, None, actor=actor, reason=reason, hook=hook, todo=todo)
    with inv.uow(write=False) as uow:
        open_job = _last_unfinished(uow)
    if open_job is not None and open_job.state != "failed" and not dry_run:
        raise ServiceError(
            f"Migration job {open_job.id} did not finish; continue it with --resume (its "
            "remaining copies are done first, nothing is done twice).",
            code="service.migration_open",
            details={"job_id": open_job.id},
        )
    rows = classify(
        inv, legacy_copies(inv, users=users, scanned=scanned), activate_assigned=activate_assigned
    )
    if dry_run:
        return MigrationReport(True, rows=rows)
    return _run(inv, rows, actor=actor, reason=reason, hook=hook, todo=todo)


def _resume_plan(inv: Inventory) -> MigrationReport:
    with inv.uow(write=False) as uow:
        job = _last_unfinished(uow)
        if job is None:
            return MigrationReport(True)
        items = uow.jobs.pending(job, limit=1_000_000, retry_failed=True)
        return MigrationReport(True, job.id, True, _rows_of(job, items))


def _run(
    inv: Inventory,
    rows: list[MigrationRow] | None,
    *,
    actor: str,
    reason: str | None,
    hook: Hook | None,
    todo: Callable[[int], None] | None,
) -> MigrationReport:
    """Create (``rows``) or take over (``None``: the unfinished job) the job, then do each row."""
    left = [r for r in rows or [] if r.outcome == "left"]
    with inv.uow() as uow:
        _one_starter(inv, uow)
        job = _last_unfinished(uow)
        if rows is None and job is None:
            raise UsageError(
                "There is no unfinished legacy migration to resume; run it without --resume.",
                code="usage.nothing_to_resume",
            )
        if job is not None and job.state == "running" and _owner_alive(job.params, inv):
            raise ServiceError(
                f"Another legacy migration is running (job {job.id}); let it finish.",
                code="service.migration_running",
                details={"job_id": job.id},
            )
        if rows is not None and job is not None:
            if job.state != "failed":  # killed: its copies may be half done, finish them first
                raise ServiceError(
                    f"Migration job {job.id} did not finish; continue it with --resume.",
                    code="service.migration_open",
                    details={"job_id": job.id},
                )
            # ended with failed copies: the new job takes them over (a copy whose legacy method
            # is already gone is in no user's list, only in that job), and this one is closed
            carried = _rows_of(job, uow.jobs.pending(job, limit=1_000_000, retry_failed=True))
            fresh = {r.serial for r in rows}
            rows = [*rows, *(r for r in carried if r.serial not in fresh)]
            uow.jobs.finish(job, "cancelled", error="superseded by a new migration")
            job = None
        resumed = job is not None
        if job is not None:
            reason = reason or str((job.params or {}).get("reason") or REASON)
        reason = need_reason(reason or REASON)
        if job is None:
            planned = [r for r in rows or [] if r.outcome == "planned"]
            job = uow.jobs.create(
                KIND,
                [r.serial for r in planned],
                actor=actor,
                params={"plan": {r.serial: r.job_entry() for r in planned}, "reason": reason},
            )
        else:
            job.state = "running"
        uow.jobs.start(job)
        _beat(job, inv)
        job_id = job.id
        todo_rows = _rows_of(job, uow.jobs.pending(job, limit=1_000_000, retry_failed=True))
        uow.audit.append(
            KIND + (".resume" if resumed else ".start"),
            actor=actor,
            subject=f"job:{job_id}",
            reason=reason,
            details={
                "copies": len(todo_rows),
                "left_alone": {r.serial: r.reason for r in left},
            },
            tenant=inv.tenant,
        )
    report = MigrationReport(False, job_id, resumed, left)
    if todo is not None:
        todo(len(todo_rows))
    for row in todo_rows:
        _migrate_one(inv, job_id, row, actor=actor, reason=reason)
        report.rows.append(row)
        if hook is not None:
            hook(row)
    with inv.uow() as uow:
        job = uow.jobs.get(job_id, lock=True)
        progress = uow.jobs.progress(job)
        uow.jobs.finish(job, "failed" if progress["failed"] else "done")
        uow.audit.append(
            KIND + ".finish",
            actor=actor,
            subject=f"job:{job_id}",
            reason=reason,
            details={
                **progress,
                "failed_serials": [r.serial for r in report.rows if r.outcome == "failed"],
            },
            tenant=inv.tenant,
        )
    return report


def _mark(
    inv: Inventory, job_id: int, row: MigrationRow, state: str, *, actor: str, reason: str
) -> None:
    """Record the row's outcome on its job item (and, when done, one ``legacy.migrate`` entry)."""
    with inv.uow() as uow:
        item = uow.session.execute(
            select(JobItem).where(JobItem.job_id == job_id, JobItem.serial == row.serial)
        ).scalar_one()
        item.state, item.attempts = state, item.attempts + 1
        item.entra_id = row.entra_id or item.entra_id
        item.error_code = row.reason or None
        item.error_message = row.message or None
        _beat(uow.jobs.get(job_id), inv)
        if state == "done":
            uow.audit.append(
                KIND,
                actor=actor,
                subject=row.serial,
                reason=reason,
                details={
                    "user_id": row.user_id,
                    "user": row.user_upn,
                    "legacy_device_id": row.device_id,
                    "entra_id": row.entra_id,
                    "activated_from_seed": row.activate,
                    "activation": "activated with a code from the sealed seed"
                    if row.activate
                    else "left assigned",
                    "job": job_id,
                },
                tenant=inv.tenant,
            )


def _migrate_one(
    inv: Inventory, job_id: int, row: MigrationRow, *, actor: str, reason: str
) -> None:
    """One legacy copy: the Graph copy first (create, assign, activate), then the clean-up."""
    entra = inv.entra()
    try:
        try:
            person = entra.get_user(row.user_id)
        except GraphNotFound:
            return _skip(inv, job_id, row, actor, reason, "user_gone")
        if person.user_type.lower() == "guest":
            return _skip(inv, job_id, row, actor, reason, "guest")
        with inv.uow(write=False) as uow:
            token = uow.tokens.find(row.serial)
            state = token.state if token is not None else None
            holder = token.user_id if token is not None else None
            has_seed = bool(token is not None and token.has_seed)
        if state is None or (state in FREE and not has_seed):
            return _skip(inv, job_id, row, actor, reason, "no_seed")
        if state not in FREE and holder != person.id:
            return _skip(
                inv, job_id, row, actor, reason, "held_by_other" if holder else "token_state"
            )
        if state in FREE or (row.activate and state in (S.ASSIGNED, S.FAILED_ACTIVATION)):
            if row.activate:
                activate_from_seed(inv, row.serial, user=person.id, actor=actor, reason=reason)
            elif state in FREE:
                assign(inv, row.serial, person.id, actor=actor, reason=reason)
        elif state not in (S.ASSIGNED, S.ACTIVATED):
            return _skip(inv, job_id, row, actor, reason, "token_state")
        with inv.uow(write=False) as uow:
            row.entra_id = uow.tokens.get(row.serial).entra_id or ""
        copy = LegacyCopy(row.serial, person.id, row.method_id, row.device_id, row.entra_id)
        started = any(c.device_id == row.device_id for c in _open_intents(inv, row.serial))
        _clean_one(inv, entra, copy, actor=actor, reason=reason, started=started)
    except OathdeskError as exc:
        row.outcome, row.reason, row.message = "failed", exc.code, exc.message
        _mark(inv, job_id, row, "failed", actor=actor, reason=reason)
        return None
    row.outcome, row.reason, row.message = "migrated", "", ""
    _mark(inv, job_id, row, "done", actor=actor, reason=reason)
    return None


def _skip(
    inv: Inventory, job_id: int, row: MigrationRow, actor: str, reason: str, why: str
) -> None:
    row.outcome, row.reason, row.message = "skipped", why, LEFT[why]
    _mark(inv, job_id, row, "skipped", actor=actor, reason=reason)
