"""The inventory report: stock, assignments, activation times, failures, unused and at-risk tokens.

Why: Entra has no reports for hardware tokens; the questions an administrator and an auditor ask
("how much stock is left and how old is it", "how long from delivery to a user", "which tokens
nobody uses any more") are answered from the system of record, with counts from grouped queries
so the report stays fast at 100,000 tokens.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from oathdesk.service.context import Inventory
from oathdesk.store import AuditEntry, Batch, Token, TokenFilter, TokenState

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


# -- the console's reports: one table each, the same rows for the page, CSV and JSON ----------
AGE_BUCKETS = ((30, "0-30 days"), (90, "31-90 days"), (180, "91-180 days"), (365, "181-365 days"))
DRIFT_BUCKETS = ("0 steps", "1 step", "2 steps", "3 or more steps")


@dataclass(frozen=True)
class Report:
    """One report as a table: ``columns`` name the cells of each row (kept in this order by
    the page, the CSV and the JSON export), ``summary`` holds the figures shown above it."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    generated_at: datetime
    summary: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "generated_at": self.generated_at.isoformat(),
            "summary": self.summary,
            "columns": list(self.columns),
            "rows": [
                dict(zip(self.columns, (_cell(v) for v in row), strict=True)) for row in self.rows
            ],
        }


def _cell(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def stock_report(inv: Inventory) -> Report:
    """Unassigned tokens (in stock or available in Entra) by manufacturer, model and batch."""
    with inv.uow(write=False) as uow:
        found = uow.session.execute(
            select(Token.manufacturer, Token.model, Batch.file_name, Batch.created_at, func.count())
            .join(Batch, Token.batch_id == Batch.id, isouter=True)
            .where(Token.tenant == inv.tenant, Token.state.in_(list(STOCK)))
            .group_by(Token.manufacturer, Token.model, Batch.id, Batch.file_name, Batch.created_at)
            .order_by(Token.manufacturer, Token.model, Batch.created_at)
        ).all()
    rows = [(m or "", mo or "", f or "", at, int(n)) for m, mo, f, at, n in found]
    return Report(
        "stock",
        "Stock by model and batch",
        ("manufacturer", "model", "batch", "imported_at", "tokens"),
        rows,
        inv.now(),
        {"tokens": sum(r[4] for r in rows)},
    )


def age_report(inv: Inventory) -> Report:
    """How long unassigned tokens have waited since import, in buckets."""
    now = inv.now()
    with inv.uow(write=False) as uow:
        created = uow.session.scalars(
            select(Token.created_at).where(Token.tenant == inv.tenant, Token.state.in_(list(STOCK)))
        ).all()
    labels = [label for _, label in AGE_BUCKETS] + ["older than 365 days"]
    counts = dict.fromkeys(labels, 0)
    for at in created:
        days = (now - at).total_seconds() / 86400
        label = next((lb for limit, lb in AGE_BUCKETS if days <= limit), labels[-1])
        counts[label] += 1
    return Report(
        "age",
        "Age of the stock",
        ("age", "tokens"),
        list(counts.items()),
        now,
        {"tokens": len(created)},
    )


def _month(at: datetime) -> str:
    return f"{at.year:04d}-{at.month:02d}"


def activity_report(inv: Inventory, *, months: int = 12) -> Report:
    """Tokens assigned and activated per calendar month (UTC) over the last ``months``, from
    each token's latest assignment and activation."""
    now = inv.now()
    year, month = now.year, now.month
    labels: list[str] = []
    for _ in range(months):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    labels.reverse()
    start = datetime(int(labels[0][:4]), int(labels[0][5:]), 1, tzinfo=UTC)
    assigned = dict.fromkeys(labels, 0)
    activated = dict.fromkeys(labels, 0)
    with inv.uow(write=False) as uow:
        for column, into in ((Token.assigned_at, assigned), (Token.activated_at, activated)):
            for at in uow.session.scalars(
                select(column).where(Token.tenant == inv.tenant, column >= start)
            ):
                if at is not None and _month(at) in into:
                    into[_month(at)] += 1
    rows = [(m, assigned[m], activated[m]) for m in labels]
    return Report(
        "activity",
        "Assignments and activations by month",
        ("month", "assigned", "activated"),
        rows,
        now,
        {"months": months},
    )


def _token_rows(
    inv: Inventory, state: TokenState, *, limit: int
) -> tuple[int, list[tuple[Any, ...]]]:
    with inv.uow(write=False) as uow:
        total = uow.tokens.count(TokenFilter(states=[state]))
        found = uow.session.execute(
            select(Token.serial, Token.model, Token.user_upn, Token.state_changed_at)
            .where(Token.tenant == inv.tenant, Token.state == state)
            .order_by(Token.state_changed_at.desc(), Token.serial)
            .limit(limit)
        ).all()
    return total, [(s, m, u or "", at) for s, m, u, at in found]


def failed_report(inv: Inventory, *, limit: int = 500) -> Report:
    """Tokens whose activation failed and that wait for the help desk, newest first."""
    total, rows = _token_rows(inv, TokenState.FAILED_ACTIVATION, limit=limit)
    with inv.uow(write=False) as uow:
        events = uow.session.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.tenant == inv.tenant, AuditEntry.action == FAILED_ACTIVATION)
        ).scalar_one()
    return Report(
        "failed",
        "Failed activations",
        ("serial", "model", "user", "since"),
        rows,
        inv.now(),
        {"tokens": total, "failed_attempts": int(events)},
    )


def lost_report(inv: Inventory, *, limit: int = 500) -> Report:
    """Tokens reported lost, newest first, with the user who held them."""
    total, rows = _token_rows(inv, TokenState.LOST, limit=limit)
    return Report(
        "lost",
        "Lost tokens",
        ("serial", "model", "user", "since"),
        rows,
        inv.now(),
        {"tokens": total},
    )


def drift_report(inv: Inventory, *, risk_days: int = 180) -> Report:
    """Activated tokens by how far their clock had drifted at the last verified code (in time
    steps), and how many went unused so long that they may have drifted out of Entra's window."""
    with inv.uow(write=False) as uow:
        drifts = uow.session.scalars(
            select(Token.otp_drift).where(
                Token.tenant == inv.tenant, Token.state == TokenState.ACTIVATED
            )
        ).all()
    counts = dict.fromkeys(DRIFT_BUCKETS, 0)
    for drift in drifts:
        counts[DRIFT_BUCKETS[min(abs(drift or 0), 3)]] += 1
    risk = inventory_report(inv, risk_days=risk_days, unused_days=risk_days, listed=0)
    return Report(
        "drift",
        "Drift health of activated tokens",
        ("drift", "tokens"),
        list(counts.items()),
        inv.now(),
        {
            "activated": len(drifts),
            "unused_days": risk_days,
            "at_risk": risk["at_risk_of_drift"]["count"],
        },
    )


def unused_report(inv: Inventory, *, days: int = 90, limit: int = 500) -> Report:
    """Activated tokens Entra has not seen used for ``days`` (or never, when activated before
    then), least recently used first."""
    cutoff = inv.now() - timedelta(days=days)
    stale = (Token.entra_last_used_at < cutoff) | (
        Token.entra_last_used_at.is_(None) & (Token.activated_at < cutoff)
    )
    where = (Token.tenant == inv.tenant, Token.state == TokenState.ACTIVATED, stale)
    with inv.uow(write=False) as uow:
        total = uow.session.execute(
            select(func.count()).select_from(Token).where(*where)
        ).scalar_one()
        never = uow.session.execute(
            select(func.count())
            .select_from(Token)
            .where(*where, Token.entra_last_used_at.is_(None))
        ).scalar_one()
        found = uow.session.execute(
            select(Token.serial, Token.user_upn, Token.activated_at, Token.entra_last_used_at)
            .where(*where)
            .order_by(Token.entra_last_used_at.is_not(None), Token.entra_last_used_at, Token.serial)
            .limit(limit)
        ).all()
    return Report(
        "unused",
        f"Tokens not used in {days} days",
        ("serial", "user", "activated_at", "last_used_at"),
        [(s, u or "", a, lu) for s, u, a, lu in found],
        inv.now(),
        {"tokens": int(total), "never_used": int(never), "days": days},
    )


REPORTS = ("stock", "age", "activity", "failed", "lost", "drift", "unused")


def build_report(inv: Inventory, name: str, *, days: int = 90) -> Report:
    """The report called ``name`` (one of :data:`REPORTS`); ``days`` is the unused report's."""
    builders: dict[str, Callable[[], Report]] = {
        "stock": lambda: stock_report(inv),
        "age": lambda: age_report(inv),
        "activity": lambda: activity_report(inv),
        "failed": lambda: failed_report(inv),
        "lost": lambda: lost_report(inv),
        "drift": lambda: drift_report(inv),
        "unused": lambda: unused_report(inv, days=days),
    }
    return builders[name]()
