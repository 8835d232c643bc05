"""The inventory report: stock, assignments, activation times, failures, unused and at-risk tokens.

Why: Entra has no reports for hardware tokens; the questions an administrator and an auditor ask
("how much stock is left and how old is it", "how long from delivery to a user", "which tokens
nobody uses any more") are answered from the system of record, with counts from grouped queries
so the report stays fast at 100,000 tokens.
"""

from __future__ import annotations

import statistics
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from oathdesk.service.context import Inventory
from oathdesk.store import AuditEntry, Token, TokenFilter, TokenState

STOCK = (TokenState.IN_STOCK, TokenState.AVAILABLE)
ACTIVE = (TokenState.ACTIVATED,)
FAILED_ACTIVATION = "token.activation_failed"


def _hours(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"count": 0, "median_hours": None, "p90_hours": None, "max_hours": None}
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {
        "count": len(ordered),
        "median_hours": round(statistics.median(ordered) / 3600, 2),
        "p90_hours": round(p90 / 3600, 2),
        "max_hours": round(ordered[-1] / 3600, 2),
    }


def inventory_report(
    inv: Inventory, *, unused_days: int = 90, risk_days: int = 180, listed: int = 50
) -> dict[str, Any]:
    """Everything the ``report`` command prints, as one JSON-ready dictionary.

    ``unused_days``: activated tokens Entra last saw used longer ago than this (or never, since
    activation). ``risk_days``: unused this long, a token's clock has likely drifted past Entra's
    ±1 min (30 s) / ±2 min (60 s) sign-in window, which only activation-time resync recovers."""
    now = inv.now()
    with inv.uow(write=False) as uow:
        tokens = uow.tokens
        stock_filter = TokenFilter(states=STOCK)
        stock_ages = [
            (now - created).total_seconds() / 86400
            for (created,) in uow.session.execute(
                select(Token.created_at).where(
                    Token.tenant == inv.tenant, Token.state.in_(list(STOCK))
                )
            )
        ]
        times = [
            (activated - created).total_seconds() if activated is not None else 0.0
            for created, activated in uow.session.execute(
                select(Token.created_at, Token.activated_at).where(
                    Token.tenant == inv.tenant,
                    Token.state == TokenState.ACTIVATED,
                    Token.activated_at.is_not(None),
                )
            )
        ]
        failed_events = uow.session.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.tenant == inv.tenant, AuditEntry.action == FAILED_ACTIVATION)
        ).scalar_one()
        failed_now = tokens.list(
            TokenFilter(states=[TokenState.FAILED_ACTIVATION]), limit=listed
        ).items

        def unused(days: int) -> tuple[int, list[str]]:
            cutoff = now - timedelta(days=days)
            used_long_ago = TokenFilter(states=ACTIVE, last_used_before=cutoff)
            never = select(Token.serial).where(
                Token.tenant == inv.tenant,
                Token.state == TokenState.ACTIVATED,
                Token.entra_last_used_at.is_(None),
                Token.activated_at < cutoff,
            )
            never_serials = list(uow.session.scalars(never.order_by(Token.serial)))
            count = tokens.count(used_long_ago) + len(never_serials)
            sample = [t.serial for t in tokens.list(used_long_ago, limit=listed).items]
            return count, sorted(sample + never_serials)[:listed]

        unused_count, unused_serials = unused(unused_days)
        risk_count, risk_serials = unused(risk_days)
        return {
            "generated_at": now.isoformat(),
            "tenant": inv.tenant,
            "total": tokens.count(),
            "by_state": {s.value: 0 for s in TokenState} | tokens.counts_by("state"),
            "by_batch": tokens.counts_by("batch"),
            "by_manufacturer": tokens.counts_by("manufacturer"),
            "by_model": tokens.counts_by("model"),
            "unassigned_stock": {
                "count": tokens.count(stock_filter),
                "oldest_days": round(max(stock_ages), 1) if stock_ages else None,
                "median_age_days": round(statistics.median(stock_ages), 1) if stock_ages else None,
                "older_than_90_days": sum(1 for a in stock_ages if a > 90),
            },
            "import_to_activation": _hours(times),
            "failed_activations": {
                "events": int(failed_events),
                "tokens_now_failed": tokens.count(
                    TokenFilter(states=[TokenState.FAILED_ACTIVATION])
                ),
                "serials": [t.serial for t in failed_now],
            },
            "unused": {"days": unused_days, "count": unused_count, "serials": unused_serials},
            "at_risk_of_drift": {"days": risk_days, "count": risk_count, "serials": risk_serials},
        }
