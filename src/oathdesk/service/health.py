"""Is this node ready to serve, and the inventory's counts by state, for the operations
endpoints (``/readyz``, ``/metrics``) of both web apps.

Why a use case: the web layer reaches the database and Graph only through ``service``; the
answers name each check and a short reason, never a host name, a URL or a driver message
(a probe answer is often visible to more people than the logs are).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from oathdesk.domain import OathdeskError
from oathdesk.service.context import Inventory
from oathdesk.store import TokenState, current_revision
from oathdesk.store.health import head_revision, known_revision, state_counts


@dataclass(frozen=True)
class CheckResult:
    """One check: ``status`` is ok, fail or skipped (skipped counts as ready)."""

    name: str
    status: str
    reason: str = ""
    info: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status != "fail"

    def to_dict(self) -> dict[str, str]:
        shown = {"status": self.status, **self.info}
        if self.reason:
            shown["reason"] = self.reason
        return shown


def liveness() -> dict[str, str]:
    """The process answers; nothing else is asked (a restart would not cure a database)."""
    return {"status": "ok"}


def readiness(inv: Inventory) -> list[CheckResult]:
    """The database answers, its schema is at this code's head, and Graph is reachable (when
    configured; the probe's answer is cached so a busy probe schedule costs Graph nothing)."""
    checks: list[CheckResult] = []
    try:
        inv.db.check()
        checks.append(CheckResult("database", "ok"))
    except (OathdeskError, SQLAlchemyError) as exc:
        code = getattr(exc, "code", "store.unreachable")
        checks.append(CheckResult("database", "fail", reason=code))
        checks.append(CheckResult("migrations", "fail", reason="database unreachable"))
    else:
        checks.append(_migrations(inv))
    checks.append(_graph(inv))
    return checks


def _migrations(inv: Inventory) -> CheckResult:
    head = head_revision() or ""
    try:
        current = current_revision(inv.db) or ""
    except SQLAlchemyError:
        return CheckResult("migrations", "fail", reason="revision unreadable")
    info = {"revision": current or "none", "head": head}
    if current == head:
        return CheckResult("migrations", "ok", info=info)
    if current and not known_revision(current):
        # migrated by a newer version: this node keeps serving while the nodes are rolled
        return CheckResult("migrations", "ok", reason="the database is newer", info=info)
    return CheckResult("migrations", "fail", reason="run: oathdesk db upgrade", info=info)


def _graph(inv: Inventory) -> CheckResult:
    if inv.graph_probe is None:
        return CheckResult("graph", "skipped", reason="not configured")
    result = inv.graph_probe()
    if result.reachable:
        return CheckResult("graph", "ok")
    return CheckResult("graph", "fail", reason=result.reason or "unreachable")


@dataclass(frozen=True)
class StateCounts:
    tokens: dict[str, int]
    jobs: dict[tuple[str, str], int]


def state_counts_of(inv: Inventory) -> StateCounts:
    """Tokens by state and jobs by (kind, state); raises a ``SQLAlchemyError`` when the
    database does not answer (the metrics collector reports it as down)."""
    tokens, jobs = state_counts(inv.db, inv.tenant)
    every_state = {state.value: 0 for state in TokenState}  # a state with none still shows 0
    return StateCounts(tokens=every_state | tokens, jobs=jobs)
