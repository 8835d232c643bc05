"""Import a seed file (any format, any envelope) into the inventory as one all-or-nothing batch.

Why: the vendor file is where every token's life starts. The use case takes bytes and a name (so
CLI files and web uploads share it), removes the envelopes, reads and validates every row, and
hands the records to the store in one transaction: a problem anywhere means nothing is kept, a
serial already held is a listed conflict, and the same file twice changes nothing. Opening the
file is ``service.seedfile.open_seed_file``, the pipeline the CLI and the web preview use too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from oathdesk.service.context import Inventory
from oathdesk.service.seedfile import SeedFileOptions, open_seed_file
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


def content_digest(data: bytes) -> str:
    """The SHA-256 (hex) a batch records of its file: the same bytes twice are the same batch,
    so a preview can say a file was already imported before anything is confirmed."""
    return hashlib.sha256(data).hexdigest()


def import_seeds(
    inv: Inventory,
    data: bytes,
    name: str,
    *,
    actor: str,
    opening: SeedFileOptions | None = None,
    on_conflict: Literal["fail", "skip"] = "fail",
    note: str = "",
    restrict_users: Sequence[str] | None = None,
    restrict_group_id: str | None = None,
) -> ImportReport:
    """Read ``data`` (named ``name``) and add its tokens as one batch, in stock.

    ``opening`` carries the password, PGP material, format and defaults; Entra's rules are
    always applied, as warnings (a token Entra would refuse is kept, and refused at the push).
    Raises ``SeedFileInvalid`` (nothing kept) if any row has an error, ``SerialConflict`` (with
    the serials) when ``on_conflict="fail"`` and a serial is already in the inventory.
    ``restrict_users`` (UPNs) and ``restrict_group_id`` (an Entra group) limit who may claim the
    batch's tokens by self-service (see ``service.selfservice.restrict_batch`` to change it)."""
    content_hash = content_digest(data)
    opened = open_seed_file(data, name, replace(opening or SeedFileOptions(), target="entra"))
    opened.raise_if_invalid()
    warnings = [p.to_dict() for p in opened.problems if not p.is_error]
    warnings += [
        {**p.to_dict(), "note": "Entra will refuse this token when it is pushed"}
        for p in opened.target_problems
    ]
    new = NewBatch(
        file_name=name,
        format=opened.format,
        content_hash=content_hash,
        note=note,
        restrict_group_id=restrict_group_id or None,
        restrict_users=list(restrict_users) if restrict_users else None,
    )
    with inv.uow() as uow:
        outcome = uow.tokens.add_batch(
            new, opened.records, inv.sealer, actor=actor, on_conflict=on_conflict
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
            tokens_in_file=len(opened.records),
            warnings=warnings,
        )
    return report
