"""Legacy CSV copies: find a user's second method of a serial, and clean it up as Microsoft says.

Why: a token uploaded through the old admin-center CSV flow and again through Graph shows up as
two methods of one user with one serial; only the Graph copy is in the inventory. Learn's
troubleshooting steps remove the legacy method from the user, then DELETE its device id. Both
steps are destructive, so they run only on request (``oathdesk sync clean-legacy SERIAL
--yes``), each copy's intent is audited *before* Entra is touched and its end after, and a run
after a crash finishes the copies the audit left open. The Graph copy (any device in the
inventory, or the one our record points to) is never touched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from oathdesk.graph import Device, GraphNotFound, UserMethod
from oathdesk.service.context import Inventory
from oathdesk.service.ports import EntraPort
from oathdesk.store.audit import AuditFilter

START, DONE = "legacy.cleanup.start", "legacy.cleanup.done"
REASON = "documented clean-up of a legacy CSV copy (remove the method, delete its device)"


@dataclass
class LegacyCopy:
    """One legacy method to remove: whose, its method and device ids, and the copy kept."""

    serial: str
    user_id: str
    method_id: str
    device_id: str
    kept_device_id: str
    outcome: str = "planned"  # planned | resumed | cleaned

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CleanReport:
    serial: str
    applied: bool
    copies: list[LegacyCopy] = field(default_factory=list)
    hint: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "serial": self.serial,
            "applied": self.applied,
            "copies": [c.to_dict() for c in self.copies],
            "hint": self.hint,
        }


def _by_serial(methods: Iterable[UserMethod]) -> dict[str, list[UserMethod]]:
    grouped: dict[str, list[UserMethod]] = {}
    for method in methods:
        if method.device.serial_number:
            grouped.setdefault(method.device.serial_number, []).append(method)
    return grouped


def _split(
    user: str, serial: str, group: list[UserMethod], inventory_ids: set[str]
) -> list[LegacyCopy]:
    """The legacy copies of ``serial`` among one user's methods: those whose device is not in
    the inventory, offered only while the same user also holds a Graph copy to keep."""
    kept = [m for m in group if m.device.id in inventory_ids]
    if not kept:
        return []
    return [
        LegacyCopy(serial, user, m.id, m.device.id, kept[0].device.id)
        for m in group
        if m.device.id not in inventory_ids
    ]


def legacy_findings(
    entra: EntraPort, holders: Iterable[str], listing: Mapping[str, list[Device]]
) -> list[dict[str, Any]]:
    """Reconcile's check of the holders' methods: a serial held twice by one user, with the
    clean-up command when one copy is legacy (its device absent from the inventory listing)."""
    inventory_ids = {d.id for devices in listing.values() for d in devices}
    found: list[dict[str, Any]] = []
    for user in sorted(holders):
        for serial, group in sorted(_by_serial(entra.user_method_entries(user)).items()):
            if len(group) < 2:
                continue
            copies = _split(user, serial, group, inventory_ids)
            detail: dict[str, Any] = {"user_id": user, "methods": len(group)}
            if copies:
                detail["legacy"] = [
                    {"method_id": c.method_id, "device_id": c.device_id} for c in copies
                ]
                hint = (
                    "a legacy CSV copy beside the Graph one; to remove it (the documented "
                    f"clean-up) run: oathdesk sync clean-legacy {serial} --user {user} --yes"
                )
            else:
                hint = "two methods with one serial and no legacy copy: check by hand"
            found.append(
                {
                    "kind": "duplicate_serial",
                    "serial": serial,
                    "ours": {},
                    "entra": detail,
                    "untouched": hint,
                }
            )
    return found


def _open_intents(inv: Inventory, serial: str) -> list[LegacyCopy]:
    """Copies whose clean-up was started (audited) and never recorded as done."""
    started: dict[str, LegacyCopy] = {}
    with inv.uow(write=False) as uow:
        entries = uow.audit.matching(
            AuditFilter(tenant=inv.tenant, action="legacy.cleanup.", subject=serial)
        )
        try:
            for entry in entries:
                d = entry.details_dict
                if entry.action == START:
                    started[str(d["device_id"])] = LegacyCopy(
                        serial,
                        str(d["user_id"]),
                        str(d["method_id"]),
                        str(d["device_id"]),
                        str(d["kept_device_id"]),
                        "resumed",
                    )
                elif entry.action == DONE:
                    started.pop(str(d["device_id"]), None)
        finally:
            entries.close()
    return list(started.values())


def clean_legacy(
    inv: Inventory,
    serial: str,
    *,
    actor: str,
    user: str | None = None,
    apply: bool = False,
    reason: str = REASON,
) -> CleanReport:
    """List (``apply=False``) or remove the legacy copies of ``serial``: each user's method whose
    device is outside the inventory while that user also holds the inventory's copy.

    The users looked at are ``user`` (id or UPN), else whoever holds the inventory's copy and
    whoever our record says holds the token. Idempotent: a second run finds nothing more."""
    entra = inv.entra()
    inventory = entra.find_serial(serial)
    inventory_ids = {d.id for d in inventory}
    with inv.uow(write=False) as uow:
        token = uow.tokens.find(serial)
        ours = (token.entra_id, token.user_id) if token is not None else (None, None)
    protected = inventory_ids | ({ours[0]} if ours[0] else set())
    if user is not None:
        users = [entra.get_user(user).id]
    else:
        users = sorted(
            {d.assigned_to_id for d in inventory if d.assigned_to_id}
            | ({ours[1]} if ours[1] else set())
        )
    resumed = [c for c in _open_intents(inv, serial) if c.device_id not in protected]
    report = CleanReport(serial, apply, copies=resumed)
    pending = {c.device_id for c in report.copies}
    for holder in users:
        group = _by_serial(entra.user_method_entries(holder)).get(serial, [])
        report.copies += [
            c
            for c in _split(holder, serial, group, inventory_ids)
            if c.device_id not in pending and c.device_id not in protected
        ]
    if not report.copies:
        report.hint = (
            "no legacy copy found"
            if users
            else "nobody holds this serial here; name the user with --user"
        )
        return report
    if not apply:
        report.hint = "dry run: nothing changed; run again with --yes to remove these copies"
        return report
    for copy in report.copies:
        _clean_one(inv, entra, copy, actor=actor, reason=reason, started=copy.outcome == "resumed")
    return report


def _clean_one(
    inv: Inventory, entra: EntraPort, copy: LegacyCopy, *, actor: str, reason: str, started: bool
) -> None:
    details = {k: v for k, v in copy.to_dict().items() if k not in ("serial", "outcome")}
    if not started:  # the intent is on disk before Entra is touched
        with inv.uow() as uow:
            uow.audit.append(
                START,
                actor=actor,
                subject=copy.serial,
                reason=reason,
                details=details,
                tenant=inv.tenant,
            )
    with contextlib.suppress(GraphNotFound):  # gone: an earlier run removed it, then stopped
        entra.unassign(copy.user_id, copy.method_id)
    with contextlib.suppress(GraphNotFound):  # gone: already deleted
        entra.delete_device(copy.device_id)
    with inv.uow() as uow:
        uow.audit.append(
            DONE,
            actor=actor,
            subject=copy.serial,
            reason=reason,
            details=details,
            tenant=inv.tenant,
        )
    copy.outcome = "cleaned"
