"""Reconcile: compare the inventory with Entra's listing and, with ``fix``, adopt Entra's truth
where that cannot hurt anyone (our records, never a user's sign-in).

Why a module of its own: reconcile reads Entra in its several documented shapes (a status that
may say ``available`` for a held token, legacy copies of a serial) and that reading belongs in
one place, apart from the push job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from oathdesk.graph import Device
from oathdesk.service._common import all_tokens, audit, path_to
from oathdesk.service.context import Inventory
from oathdesk.service.legacy import legacy_findings
from oathdesk.store import Token, TokenState, UnitOfWork

S = TokenState

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
    findings += [Finding(**f) for f in legacy_findings(entra, holders, listing)]
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    with inv.uow() as uow:  # the dashboard's "Entra drift" reads the last one
        uow.audit.append(
            "reconcile.checked",
            actor=actor,
            reason="reconcile",
            details={"counts": counts, "fix": fix, "entra_tokens": len(listing)},
            tenant=inv.tenant,
        )
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
