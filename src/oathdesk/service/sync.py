"""Push stock to Entra as a resumable job that never creates a token twice.

Why: pushing thousands of tokens takes minutes and may be killed; each token is marked in its
own short transaction right after Entra accepts it, and a token whose send may have reached
Entra before a crash is looked up by serial before it is sent again, so a resumed push never
creates a token twice. Reconcile (how Entra differs from the system of record) is in
:mod:`oathdesk.service.reconcile`.
"""

from __future__ import annotations

import os
import socket
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from oathdesk.graph import GraphConflict, GraphError, device_body
from oathdesk.service._common import all_tokens, audit
from oathdesk.service.context import Inventory
from oathdesk.service.errors import ServiceError
from oathdesk.store import Job, JobItem, TokenFilter, TokenState, UnitOfWork

S = TokenState
PUSH = "sync.push"
CHUNK = 50
LEASE_S = 120.0  # a job owned on another host is taken over after this long without news
Hook = Callable[[str, str], None]  # (serial, "sent" | "done"): progress, and a test's kill point


@dataclass
class PushReport:
    job_id: int
    resumed: bool
    created: int = 0
    present: int = 0
    skipped: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    seeds_destroyed: int = 0
    progress: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "resumed": self.resumed,
            "created": self.created,
            "already_in_entra": self.present,
            "skipped": self.skipped,
            "failed": list(self.failed),
            "seeds_destroyed": self.seeds_destroyed,
            "progress": dict(self.progress),
        }


def push(
    inv: Inventory,
    *,
    actor: str,
    batch_id: int | None = None,
    destroy_seeds: bool | None = None,
    hook: Hook | None = None,
) -> PushReport:
    """Send every ``in_stock`` token (of one batch, or all) to Entra; resumes an open push job."""
    destroy = inv.destroy_seeds_after_sync if destroy_seeds is None else destroy_seeds
    with inv.uow() as uow:
        _one_starter(inv, uow)
        job = uow.jobs.find_open(PUSH)
        resumed = job is not None
        if job is not None and job.state == "running" and _owner_alive(job.params, inv):
            raise ServiceError(
                f"Another sync push is running (job {job.id}); let it finish, it sends every "
                "token in stock.",
                code="service.push_running",
                details={"job_id": job.id},
            )
        if job is None:
            flt = TokenFilter(states=[S.IN_STOCK], has_seed=True, batch_id=batch_id)
            serials = [t.serial for t in all_tokens(uow, flt)]
            job = uow.jobs.create(PUSH, serials, actor=actor, params={"batch_id": batch_id})
        uow.jobs.start(job)
        _beat(job, inv)
        job_id = job.id
        uow.audit.append(
            PUSH + (".resume" if resumed else ".start"),
            actor=actor,
            subject=f"job:{job_id}",
            details={"destroy_seeds": destroy},
            tenant=inv.tenant,
        )
    report = PushReport(job_id, resumed)
    while True:
        with inv.uow(write=False) as uow:
            todo = [
                (i.id, i.serial, i.attempts)
                for i in uow.jobs.pending(uow.jobs.get(job_id), limit=CHUNK)
            ]
        if not todo:
            break
        for item_id, serial, attempts in todo:
            _push_one(inv, item_id, serial, attempts, actor, destroy, report, hook)
    with inv.uow() as uow:
        job = uow.jobs.get(job_id, lock=True)
        report.progress = uow.jobs.progress(job)
        uow.jobs.finish(job, "failed" if report.progress["failed"] else "done")
        uow.audit.append(
            PUSH,
            actor=actor,
            subject=f"job:{job_id}",
            tenant=inv.tenant,
            details={k: v for k, v in report.to_dict().items() if k != "failed"}
            | {"failed": [f["serial"] for f in report.failed]},
        )
    return report


def _one_starter(inv: Inventory, uow: UnitOfWork) -> None:
    """Two pushes starting at once must share one job. SQLite's write transaction already lets
    one writer in at a time; PostgreSQL gets a transaction-scoped advisory lock per tenant."""
    if inv.db.dialect == "postgresql":
        key = zlib.crc32(f"oathdesk:{inv.tenant}:{PUSH}".encode())
        uow.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _beat(job: Job, inv: Inventory) -> None:
    """Mark the job as owned by this process, now (a resumed job changes hands only when its
    owner is gone: dead on this host, or silent for ``LEASE_S`` elsewhere)."""
    owner = {"host": socket.gethostname(), "pid": os.getpid(), "beat": inv.clock.now()}
    job.params = {**(job.params or {}), "owner": owner}


def _owner_alive(params: dict[str, Any] | None, inv: Inventory) -> bool:
    owner = (params or {}).get("owner")
    if not isinstance(owner, dict):
        return False
    if owner.get("host") != socket.gethostname():
        return bool(inv.clock.now() - float(owner.get("beat", 0)) < LEASE_S)
    pid = int(owner.get("pid", 0))
    if pid in (0, os.getpid()):  # our own earlier run ended by an exception
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _push_one(
    inv: Inventory,
    item_id: int,
    serial: str,
    attempts: int,
    actor: str,
    destroy: bool,
    report: PushReport,
    hook: Hook | None,
) -> None:
    with inv.uow() as uow:
        item = uow.session.get(JobItem, item_id, with_for_update=True)
        if item is None or item.state != "pending" or item.attempts != attempts:
            return  # a second push running at the same time took this item
        token = uow.tokens.find(serial)
        if token is None or token.state is not S.IN_STOCK or not token.has_seed:
            item.state, item.error_code = "skipped", "service.not_in_stock"
            report.skipped += 1
            return
        body = device_body(uow.tokens.seed_record(token, inv.sealer))
        item.attempts += 1  # the intent is on disk before anything is sent
        _beat(uow.jobs.get(item.job_id), inv)
    entra = inv.entra()
    try:
        earlier = entra.find_serial(serial) if attempts else []  # a send that beat a crash
        if earlier:
            device, present = earlier[0], True
        else:
            try:
                device, present = entra.create_device(body), False
            except GraphConflict:
                device, present = entra.find_serial(serial)[0], True
    except GraphError as exc:
        with inv.uow() as uow:
            item = uow.session.get(JobItem, item_id)
            assert item is not None
            item.state, item.error_code, item.error_message = "failed", exc.code, exc.message
        report.failed.append({"serial": serial, "code": exc.code, "message": exc.message})
        return
    finally:
        body.clear()
    if hook:
        hook(serial, "sent")
    with inv.uow() as uow:
        item = uow.session.get(JobItem, item_id)
        assert item is not None
        token = uow.tokens.get_for_update(serial)
        item.state, item.entra_id, item.error_code = "done", device.id, None
        token.entra_id, token.entra_synced_at = device.id, inv.now()
        uow.tokens.move(token, S.AVAILABLE, expect=[S.IN_STOCK])
        audit(
            uow,
            inv,
            "token.sync",
            token,
            actor=actor,
            reason="sync push",
            entra_id=device.id,
            job=item.job_id,
            already_in_entra=present,
        )
        if destroy:
            uow.tokens.destroy_seed(token, actor=actor, reason="Entra holds the token")
            report.seeds_destroyed += 1
    report.present += present
    report.created += not present
    if hook:
        hook(serial, "done")
