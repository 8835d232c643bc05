"""Audit verification and export, key rotation and audited secret exports.

Why: these are the operator's guarantees made usable: the hash chain is only worth something if
someone checks it and ships it to a SIEM, a key is only safe if it can be replaced, and a seed
that leaves oathdesk must leave a trace in the same transaction that read it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from oathdesk.domain import SeedRecord
from oathdesk.service.context import Inventory
from oathdesk.service.errors import ServiceError
from oathdesk.store import (
    DELIVERY,
    INVENTORY,
    AuditLog,
    Chain,
    ChainReport,
    Checkpoint,
    RotationReport,
    UnitOfWork,
    key_usage,
    rotate,
)
from oathdesk.store import checkpoint as checkpoints
from oathdesk.store.audit import AuditFilter, export_record
from oathdesk.store.audit_key import missing_key

__all__ = [
    "AuditFilter",
    "AuditPage",
    "ChainReport",
    "Checkpoint",
    "audit_filter",
    "checkpoint_audit",
    "export_audit",
    "export_audit_filtered",
    "export_secrets",
    "key_status",
    "rotate_keys",
    "search_audit",
    "verify_audit",
]


@dataclass(frozen=True)
class AuditPage:
    """Entries newest first; ``next_before`` is the cursor of the following (older) page."""

    items: list[dict[str, Any]]
    next_before: int | None


def _log(uow: UnitOfWork, chain: Chain) -> AuditLog:
    return uow.delivery_audit if chain is DELIVERY else uow.audit


def _last_checkpoint(inv: Inventory, chain: Chain) -> Checkpoint | None:
    key = inv.db.audit_key
    if inv.audit_checkpoints is None or key is None:
        return None
    return checkpoints.latest(inv.audit_checkpoints, key, chain.name)


def verify_audit(inv: Inventory, *, chain: Chain = INVENTORY) -> ChainReport:
    """Walk the whole chain (the inventory's, or ``DELIVERY``) against its latest checkpoint;
    the report names the first edited, missing or reordered entry, or a head moved back."""
    anchor = _last_checkpoint(inv, chain)
    with inv.uow(write=False) as uow:
        return _log(uow, chain).verify(anchor)


def checkpoint_audit(
    inv: Inventory, *, chain: Chain = INVENTORY, syslog: bool = False
) -> tuple[ChainReport, Checkpoint, Path]:
    """Verify the chain, then append its signed head to the checkpoint file (and to syslog):
    from then on a head moved back below it, or an entry up to it rewritten, is reported."""
    path, key = inv.audit_checkpoints, inv.db.audit_key
    if path is None:
        raise ServiceError(
            "No audit checkpoint file is configured ([store] audit_checkpoint_file).",
            code="store.checkpoint_unwritable",
        )
    if key is None:
        raise missing_key(f"a checkpoint of the {chain.name} audit chain")
    previous = _last_checkpoint(inv, chain)
    with inv.uow(write=False) as uow:
        report, made = _log(uow, chain).checkpoint(previous)
    line = checkpoints.append(path, made, key)
    if syslog:
        checkpoints.to_syslog(line)
    return report, made, path


def export_audit(inv: Inventory, *, after: int = 0, all_tenants: bool = False) -> Iterator[str]:
    """JSON lines (hashes included) for a SIEM, streamed in sequence order."""
    with inv.uow(write=False) as uow:
        yield from uow.audit.export(after=after, tenant=None if all_tenants else inv.tenant)


def audit_filter(
    inv: Inventory,
    *,
    actor: str | None = None,
    action: str | None = None,
    subject: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> AuditFilter:
    """A filter over this inventory's tenant; empty text fields mean "any"."""

    def text(value: str | None) -> str | None:
        return value.strip() or None if value else None

    return AuditFilter(
        tenant=inv.tenant,
        actor=text(actor),
        action=text(action),
        subject=text(subject),
        since=since,
        until=until,
    )


def search_audit(
    inv: Inventory, flt: AuditFilter, *, before: int | None = None, limit: int = 50
) -> AuditPage:
    """One page of the log, newest first (keyset paging on the sequence number)."""
    with inv.uow(write=False) as uow:
        found = uow.audit.search(flt, before=before, limit=limit + 1)
        items = [export_record(e) for e in found[:limit]]
    more = len(found) > limit
    return AuditPage(items, items[-1]["seq"] if more and items else None)


def export_audit_filtered(inv: Inventory, flt: AuditFilter, *, actor: str) -> Iterator[str]:
    """JSON lines of the matching entries (hashes included). The export is audited first, in
    its own transaction, so it is on record even if the download is cut off."""
    with inv.uow() as uow:
        uow.audit.append(
            "audit.export", actor=actor, details={"filter": flt.to_dict()}, tenant=inv.tenant
        )

    def lines() -> Iterator[str]:
        with inv.uow(write=False) as uow, closing(uow.audit.matching(flt)) as walk:
            for entry in walk:
                yield json.dumps(export_record(entry), sort_keys=True, ensure_ascii=False)

    return lines()


def key_status(inv: Inventory) -> dict[str, Any]:
    """The sealing key in use, the keys on file, and how many seeds each one protects."""
    ring = inv.sealer.ring
    return {"current": ring.current_id, "keys": list(ring.key_ids), "usage": key_usage(inv.db)}


def rotate_keys(inv: Inventory, *, actor: str) -> RotationReport:
    """A new sealing key saved to the key file first, then every seed re-sealed under it."""
    return rotate(inv.db, inv.sealer.ring, actor=actor, clock=inv.clock)


def export_secrets(
    inv: Inventory, serials: Sequence[str], *, actor: str, reason: str
) -> list[SeedRecord]:
    """Open the seeds of ``serials`` (e.g. to write a file for another system); the export is
    audited in the same transaction, so no seed leaves without a record of who and why."""
    if not reason.strip():
        raise ServiceError("A secret export needs a reason.", code="service.reason_required")
    with inv.uow() as uow:
        records = []
        for serial in serials:
            token = uow.tokens.get(serial)
            records.append(uow.tokens.seed_record(token, inv.sealer))
        details: dict[str, Any] = {"serials": list(serials), "count": len(records)}
        uow.audit.append(
            "token.seed_export", actor=actor, reason=reason, details=details, tenant=inv.tenant
        )
        return records
