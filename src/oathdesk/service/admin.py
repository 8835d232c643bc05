"""Audit verification and export, key rotation and audited secret exports.

Why: these are the operator's guarantees made usable: the hash chain is only worth something if
someone checks it and ships it to a SIEM, a key is only safe if it can be replaced, and a seed
that leaves oathdesk must leave a trace in the same transaction that read it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from oathdesk.domain import SeedRecord
from oathdesk.service.context import Inventory
from oathdesk.service.errors import ServiceError
from oathdesk.store import ChainReport, RotationReport, rotate


def verify_audit(inv: Inventory) -> ChainReport:
    """Walk the whole chain; the report names the first edited, missing or reordered entry."""
    with inv.uow(write=False) as uow:
        return uow.audit.verify()


def export_audit(inv: Inventory, *, after: int = 0, all_tenants: bool = False) -> Iterator[str]:
    """JSON lines (hashes included) for a SIEM, streamed in sequence order."""
    with inv.uow(write=False) as uow:
        yield from uow.audit.export(after=after, tenant=None if all_tenants else inv.tenant)


def rotate_keys(inv: Inventory, *, actor: str) -> RotationReport:
    """A new sealing key saved to the key file first, then every seed re-sealed under it."""
    return rotate(inv.db, inv.sealer.ring, actor=actor)


def export_secrets(
    inv: Inventory, serials: Sequence[str], *, actor: str, reason: str
) -> list[SeedRecord]:
    """Open the seeds of ``serials`` (e.g. to write a file for another system); the export is
    audited in the same transaction, so no seed leaves without a record of who and why."""
    if not reason.strip():
        raise ServiceError("a secret export needs a reason", code="service.reason_required")
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
