"""Push stock to Entra as a resumable job, and reconcile the inventory with Entra's listing.

Why: pushing thousands of tokens takes minutes and may be killed; each token is marked in its
own short transaction right after Entra accepts it, and a token whose send may have reached
Entra before a crash is looked up by serial before it is sent again, so a resumed push never
creates a token twice. Reconcile says how Entra differs from the system of record and, with
``fix``, repairs only what cannot hurt anyone (our records, never a user's sign-in).
"""

from __future__ import annotations

import os
import socket
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text

from oathdesk.graph import Device, GraphConflict, GraphError, device_body
from oathdesk.service._common import all_tokens, audit, path_to
from oathdesk.service.context import Inventory
from oathdesk.service.errors import ServiceError
from oathdesk.store import Job, JobItem, Token, TokenFilter, TokenState, UnitOfWork

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
                f"another sync push is running (job {job.id}); let it finish, it sends every "
                "token in stock",
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


# -- reconcile ------------------------------------------------------------------------------
EXPECTED = {  # our state -> Entra's status for it
    S.AVAILABLE: "available",
    S.ASSIGNED: "assigned",
    S.ACTIVATED: "activated",
    S.FAILED_ACTIVATION: "failedActivation",
    S.DEACTIVATED: "assigned",
}
ADOPT = {
    "available": S.AVAILABLE,
    "assigned": S.ASSIGNED,
    "activated": S.ACTIVATED,
    "failedActivation": S.FAILED_ACTIVATION,
}


@dataclass
class Finding:
    kind: str  # missing_in_entra, unknown_to_us, status, assignee, duplicate_serial
    serial: str
    ours: dict[str, Any]
    entra: dict[str, Any]
    fixed: str | None = None  # what --fix did
    untouched: str | None = None  # why --fix left it

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def entra_status(device: Device) -> str:
    """Entra's status as reconcile reads it. After a create with ``assignTo`` the how-to shows
    ``available`` with ``assignedTo`` filled and the reference ``assigned``: a device with a
    holder is held by that user whatever its status says, so both readings agree here."""
    if device.status == "available" and device.assigned_to_id:
        return "assigned"
    return device.status


def _last_used(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
    except ValueError:
        return None


def reconcile(inv: Inventory, *, actor: str, fix: bool = False) -> dict[str, Any]:
    """Compare every token with Entra's listing (and the holders' methods, where a legacy CSV
    copy of a serial hides); with ``fix``, adopt Entra's truth where that is safe."""
    entra = inv.entra()
    listing: dict[str, list[Device]] = {}
    for device in entra.list_devices():
        listing.setdefault(device.serial_number, []).append(device)
    findings: list[Finding] = []
    holders: set[str] = {
        d.assigned_to_id for ds in listing.values() for d in ds if d.assigned_to_id
    }
    with inv.uow(write=fix) as uow:
        ours = {t.serial: t for t in all_tokens(uow)}
        holders |= {t.user_id for t in ours.values() if t.user_id and t.state in EXPECTED}
        for serial, devices in sorted(listing.items()):
            token = ours.get(serial)
            if len(devices) > 1:
                findings.append(
                    Finding(
                        "duplicate_serial",
                        serial,
                        {},
                        {"ids": [d.id for d in devices]},
                        untouched="two Entra objects: delete the wrong one by hand",
                    )
                )
            if token is None:
                findings.append(
                    Finding(
                        "unknown_to_us",
                        serial,
                        {},
                        devices[0].to_dict(),
                        untouched="no seed here; import its file to manage it",
                    )
                )
                continue
            _compare(inv, uow, token, devices[0], findings, actor=actor, fix=fix)
        for serial, token in sorted(ours.items()):
            if serial in listing or token.state not in EXPECTED:
                continue
            finding = Finding("missing_in_entra", serial, token.describe(), {})
            if fix and token.has_seed and token.state is S.AVAILABLE:
                uow.tokens.move(token, S.IN_STOCK)
                token.entra_id = None
                audit(
                    uow,
                    inv,
                    "reconcile.fix",
                    token,
                    actor=actor,
                    reason="reconcile",
                    finding="missing_in_entra",
                )
                finding.fixed = "back to in_stock: the next sync push re-creates it"
            elif fix:
                finding.untouched = "held by a user or without a seed: check by hand"
            findings.append(finding)
    for user in sorted(holders):
        seen: dict[str, int] = {}
        for method in entra.user_methods(user):
            seen[method.serial_number] = seen.get(method.serial_number, 0) + 1
        for serial, n in sorted(seen.items()):
            if n > 1:
                findings.append(
                    Finding(
                        "duplicate_serial",
                        serial,
                        {},
                        {"user_id": user, "methods": n},
                        untouched="a legacy CSV copy beside the Graph one: remove the user's "
                        "legacy method, then delete it from the inventory (graph-api.md §7)",
                    )
                )
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    return {
        "entra_tokens": sum(len(d) for d in listing.values()),
        "inventory_tokens": len(ours),
        "fix": fix,
        "counts": counts,
        "findings": [f.to_dict() for f in findings],
        "fixed": sum(1 for f in findings if f.fixed),
    }


def _compare(
    inv: Inventory,
    uow: UnitOfWork,
    token: Token,
    device: Device,
    findings: list[Finding],
    *,
    actor: str,
    fix: bool,
) -> None:
    used = _last_used(device.last_used)
    if fix and used is not None and used != token.entra_last_used_at:
        token.entra_last_used_at = used
    ours = {"state": token.state.value, "user_id": token.user_id, "entra_id": token.entra_id}
    status = entra_status(device)
    theirs = {"status": device.status, "user_id": device.assigned_to_id or None, "id": device.id}
    kinds = []
    if token.state is S.IN_STOCK or token.entra_id != device.id:
        kinds.append("not_linked")
    elif token.state is S.RETIRED or EXPECTED.get(token.state, status) != status:
        kinds.append("status")  # (a retired token should not be in Entra at all)
    if token.state in EXPECTED and (token.user_id or None) != (device.assigned_to_id or None):
        kinds.append("assignee")
    for kind in kinds:
        finding = Finding(kind, token.serial, ours, theirs)
        target = ADOPT.get(status)
        path = path_to(token.state, target) if target is not None else None
        if not fix:
            pass
        elif token.state in (S.LOST, S.BROKEN, S.RETIRED) or target is None:
            finding.untouched = f"ours is {token.state.value}: decide by hand"
        elif path is None:
            finding.untouched = f"{token.state.value} cannot become {target.value}"
        else:
            _adopt(inv, uow, token, device, path, actor=actor, kind=kind)
            finding.fixed = f"adopted Entra's view: {target.value}"
        findings.append(finding)
        if finding.fixed:
            break


def _adopt(
    inv: Inventory,
    uow: UnitOfWork,
    token: Token,
    device: Device,
    path: list[TokenState],
    *,
    actor: str,
    kind: str,
) -> None:
    token.entra_id, token.entra_synced_at = device.id, inv.now()
    for state in path:
        uow.tokens.move(token, state)
    if token.state is S.AVAILABLE:
        token.user_id = token.user_upn = None
    elif device.assigned_to_id and device.assigned_to_id != token.user_id:
        token.user_id = device.assigned_to_id
        token.user_upn = inv.entra().get_user(device.assigned_to_id).user_principal_name
    audit(
        uow,
        inv,
        "reconcile.fix",
        token,
        actor=actor,
        reason="reconcile",
        finding=kind,
        entra_status=entra_status(device),
    )
