"""Import a seed file (any format, any envelope) into the inventory as one all-or-nothing batch.

Why: the vendor file is where every token's life starts. The use case takes bytes and a name (so
CLI files and web uploads share it), removes the envelopes, reads and validates every row, and
hands the records to the store in one transaction: a problem anywhere means nothing is kept, a
serial already held is a listed conflict, and the same file twice changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from oathdesk.containers import UnwrapOptions, unwrap
from oathdesk.formats import ReadOptions, check_target, read_seeds
from oathdesk.service.context import Inventory
from oathdesk.store import NewBatch


@dataclass
class ImportReport:
    """What an import did; never holds a secret."""

    file_name: str
    format: str
    layers: list[str]
    batch_id: int
    added: int
    conflicts: list[str]
    already_imported: bool
    tokens_in_file: int
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file_name": self.file_name,
            "format": self.format,
            "layers": list(self.layers),
            "batch_id": self.batch_id,
            "tokens_in_file": self.tokens_in_file,
            "added": self.added,
            "conflicts": list(self.conflicts),
            "already_imported": self.already_imported,
            "warnings": list(self.warnings),
        }


def import_seeds(
    inv: Inventory,
    data: bytes,
    name: str,
    *,
    actor: str,
    fmt: str | None = None,
    options: ReadOptions | None = None,
    unwrap_options: UnwrapOptions | None = None,
    on_conflict: Literal["fail", "skip"] = "fail",
    note: str = "",
    restrict_users: Sequence[str] | None = None,
    restrict_group_id: str | None = None,
) -> ImportReport:
    """Read ``data`` (named ``name``) and add its tokens as one batch, in stock.

    Raises ``SeedFileInvalid`` (nothing kept) if any row has an error, ``SerialConflict`` (with
    the serials) when ``on_conflict="fail"`` and a serial is already in the inventory.
    ``restrict_users`` (UPNs) and ``restrict_group_id`` (an Entra group) limit who may claim the
    batch's tokens by self-service (see ``service.selfservice.restrict_batch`` to change it)."""
    content_hash = hashlib.sha256(data).hexdigest()
    options = options or ReadOptions()
    opened = unwrap(data, name, unwrap_options or UnwrapOptions(password=options.passphrase))
    source = name if not opened.layers else f"{name}!{opened.name}"
    result = read_seeds(opened.data, source, fmt, options)
    result.raise_if_invalid()
    warnings = [p.to_dict() for p in result.problems if not p.is_error]
    warnings += [
        {**p.to_dict(), "note": "Entra will refuse this token when it is pushed"}
        for p in check_target(result.records, result.locators, "entra")
    ]
    new = NewBatch(
        file_name=name,
        format=result.format,
        content_hash=content_hash,
        note=note,
        restrict_group_id=restrict_group_id or None,
        restrict_users=list(restrict_users) if restrict_users else None,
    )
    with inv.uow() as uow:
        outcome = uow.tokens.add_batch(
            new, result.records, inv.sealer, actor=actor, on_conflict=on_conflict
        )
        batch = outcome.batch
        report = ImportReport(
            file_name=batch.file_name,
            format=batch.format,
            layers=list(opened.layers),
            batch_id=batch.id,
            added=outcome.added,
            conflicts=list(outcome.conflicts),
            already_imported=outcome.already_imported,
            tokens_in_file=len(result.records),
            warnings=warnings,
        )
    return report
