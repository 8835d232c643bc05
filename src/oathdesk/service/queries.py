"""Read the inventory: filtered, paged token listings and one token with its audited history.

Why: the help desk and the console ask "which tokens" and "what happened to this one" far more
often than they change anything; these reads take no write lock and return plain dictionaries
(never a sealed value) ready for JSON, tables or templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from oathdesk.service.context import Inventory
from oathdesk.store import AuditEntry, TokenFilter
from oathdesk.store.listing import SortKey


@dataclass(frozen=True)
class TokenPage:
    items: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"items": self.items, "next_cursor": self.next_cursor, "total": self.total}


def list_tokens(
    inv: Inventory,
    flt: TokenFilter | None = None,
    *,
    sort: SortKey = "serial",
    limit: int = 50,
    cursor: str | None = None,
    with_total: bool = False,
) -> TokenPage:
    """One page of tokens (keyset paging: pass ``next_cursor`` back for the next page)."""
    with inv.uow(write=False) as uow:
        page = uow.tokens.list(flt, sort=sort, limit=limit, cursor=cursor)
        total = uow.tokens.count(flt) if with_total else None
        return TokenPage([t.describe() for t in page.items], page.next_cursor, total)


def show_token(inv: Inventory, serial: str, *, history: int = 50) -> dict[str, Any]:
    """One token, its batch and its last ``history`` audit entries (newest last)."""
    with inv.uow(write=False) as uow:
        token = uow.tokens.get(serial)
        out = token.describe()
        if token.batch_id is not None:
            batch = uow.batches.get(token.batch_id)
            out["batch"] = {
                "id": batch.id,
                "file_name": batch.file_name,
                "format": batch.format,
                "imported_at": batch.created_at.isoformat(),
                "actor": batch.actor,
            }
        recent = (
            select(AuditEntry)
            .where(AuditEntry.subject == serial, AuditEntry.tenant == inv.tenant)
            .order_by(AuditEntry.seq.desc())
            .limit(max(history, 0))
        )
        entries = [
            {
                "seq": e.seq,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "reason": e.reason,
                "details": e.details_dict,
            }
            for e in reversed(list(uow.session.scalars(recent)))
        ]
        out["history"] = entries
        return out


def list_batches(inv: Inventory, *, limit: int = 100) -> list[dict[str, Any]]:
    with inv.uow(write=False) as uow:
        return [
            {
                "id": b.id,
                "file_name": b.file_name,
                "format": b.format,
                "tokens": b.token_count,
                "conflicts": b.conflict_count,
                "actor": b.actor,
                "imported_at": b.created_at.isoformat(),
            }
            for b in uow.batches.list(limit=limit)
        ]


def inventory_choices(inv: Inventory, *, batches: int = 200) -> dict[str, Any]:
    """What the inventory's filter lists offer: the manufacturers and models on record and the
    newest ``batches`` imports (id and file name)."""
    with inv.uow(write=False) as uow:
        pairs = uow.tokens.makers_and_models()
        recent = [(b.id, b.file_name) for b in uow.batches.list(limit=batches)]
    makers = sorted({m for m, _ in pairs if m})
    models = sorted({n for _, n in pairs if n})
    return {"manufacturers": makers, "models": models, "batches": recent}
