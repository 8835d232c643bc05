"""What the dashboard warns about beyond the report's counts: tokens assigned long ago and never
activated, the last comparison with Entra, and which Entra tenant this is.

Why: an administrator opening the console must see at once what needs a person (a user who never
activated, an Entra that disagrees with our records) and that the console works on the tenant
they think it does (bug 11: it showed the store's tenant label ``default``).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from oathdesk.graph import GraphError
from oathdesk.service.context import Inventory
from oathdesk.service.errors import ServiceError
from oathdesk.store import AuditEntry, Token, TokenState

RECONCILE_CHECKED = "reconcile.checked"


def assigned_not_activated(inv: Inventory, *, days: int, listed: int = 10) -> dict[str, Any]:
    """Tokens assigned more than ``days`` ago and still not activated by their user."""
    cutoff = inv.now() - timedelta(days=days)
    where = (
        Token.tenant == inv.tenant,
        Token.state == TokenState.ASSIGNED,
        Token.assigned_at < cutoff,
    )
    with inv.uow(write=False) as uow:
        count = uow.session.execute(
            select(func.count()).select_from(Token).where(*where)
        ).scalar_one()
        serials = list(
            uow.session.scalars(
                select(Token.serial).where(*where).order_by(Token.assigned_at).limit(listed)
            )
        )
    return {"days": days, "count": int(count), "serials": serials}


def last_reconcile(inv: Inventory) -> dict[str, Any] | None:
    """The outcome of the last comparison with Entra (``reconcile.checked`` audit entry), or
    None when there has been none: the dashboard then says Entra drift is unknown."""
    with inv.uow(write=False) as uow:
        entry = uow.session.execute(
            select(AuditEntry.at, AuditEntry.details)
            .where(AuditEntry.tenant == inv.tenant, AuditEntry.action == RECONCILE_CHECKED)
            .order_by(AuditEntry.seq.desc())
            .limit(1)
        ).first()
    if entry is None:
        return None
    details = json.loads(entry.details or "{}")
    counts = {str(k): int(v) for k, v in (details.get("counts") or {}).items()}
    return {"at": entry.at.isoformat(), "counts": counts, "differences": sum(counts.values())}


def tenant_identity(inv: Inventory, tenant_id: str | None) -> dict[str, Any]:
    """Which Entra tenant this is: the configured id and, when Graph says it (``GET
    /organization``), its name. Without Graph settings both are None; without the permission or
    with Graph unreachable only the name is, and ``name_error`` says why."""
    if not tenant_id:
        return {"id": None, "name": None, "name_error": "Entra is not configured."}
    try:
        org = inv.entra().organization()
    except (GraphError, ServiceError) as exc:
        return {"id": tenant_id, "name": None, "name_error": str(exc)}
    return {
        "id": org.get("id") or tenant_id,
        "name": org.get("display_name") or None,
        "name_error": None if org.get("display_name") else "Entra gave the tenant no name.",
    }
