"""The data behind the dashboard and the inventory list, shared by the pages and their API
twins, and the lifecycle action's words and API body.

Why: a page and its JSON twin must show the same numbers from the same query, so both call
these functions and differ only in how they render the result. (Which use case an action runs
is the service's ``lifecycle.perform``.)
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from pydantic import BaseModel, Field

from oathdesk.http.dates import utc_text
from oathdesk.service import (
    ActionRequest,
    Inventory,
    TokenFilter,
    TokenPage,
    TokenState,
    inventory_report,
)
from oathdesk.service import list_tokens as _list_tokens
from oathdesk.service.alerts import assigned_not_activated, last_reconcile, tenant_identity
from oathdesk.service.token_export import SortKey
from oathdesk.web.settings import WebSettings

PAGE_SIZES = (25, 50, 100)
TENANT_RETRY = timedelta(minutes=5)  # Graph did not say the tenant's name: ask again after

SearchQ = Annotated[str | None, Query(max_length=128, description="Serial number prefix.")]
StatesQ = Annotated[list[TokenState] | None, Query(description="Only tokens in these states.")]
LimitQ = Annotated[int, Query(ge=1, le=100, description="Tokens per page.")]
CursorQ = Annotated[
    str | None, Query(max_length=2000, description="next_cursor from the previous page.")
]


def token_page(
    inv: Inventory, flt: TokenFilter, *, sort: SortKey, limit: int, cursor: str | None
) -> TokenPage:
    """One page of the list and the count of the whole filtered view."""
    return _list_tokens(inv, flt, sort=sort, limit=limit, cursor=cursor or None, with_total=True)


REPORT_LINKS = {  # alert code -> where the things it counts are listed, and the link's words
    "failed_activations": ("/reports#failed", "Open the report"),
    "lost": ("/reports#lost", "Open the report"),
    "low_stock": ("/reports#stock", "Open the report"),
    "drift_risk": ("/reports#drift", "Open the report"),
    "entra_drift": ("/reconcile", "Compare with Entra"),
    "entra_drift_unknown": ("/reconcile", "Compare with Entra"),
}


def _alert(code: str, count: int, message: str, serials: list[str] | None = None) -> dict[str, Any]:
    return {"code": code, "count": count, "message": message, "serials": serials or []}


def dashboard(
    inv: Inventory, settings: WebSettings, tenant: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Counts by state, stock, failures and drift risk, plus the alerts they raise (thresholds
    from ``[web] alert_*``); ``tenant`` is :func:`tenant_of`'s answer, looked up when None."""
    report = inventory_report(inv, listed=10)
    rules = settings.alerts
    by_state: dict[str, int] = report["by_state"]
    stock = report["unassigned_stock"]["count"]
    alerts: list[dict[str, Any]] = []
    failed = report["failed_activations"]["tokens_now_failed"]
    if failed:
        alerts.append(
            _alert(
                "failed_activations",
                failed,
                f"{failed} token(s) failed activation and wait for the help desk.",
                report["failed_activations"]["serials"],
            )
        )
    lost = by_state.get(TokenState.LOST.value, 0)
    if lost:
        alerts.append(_alert("lost", lost, f"{lost} token(s) are reported lost."))
    if rules.low_stock and stock < rules.low_stock:
        alerts.append(
            _alert(
                "low_stock",
                stock,
                f"Only {stock} token(s) left in stock (the alert is below {rules.low_stock}).",
            )
        )
    waiting = assigned_not_activated(inv, days=rules.unactivated_days)
    if waiting["count"]:
        alerts.append(
            _alert(
                "not_activated",
                waiting["count"],
                f"{waiting['count']} token(s) were assigned more than {waiting['days']} days ago "
                "and are still not activated.",
                waiting["serials"],
            )
        )
    checked = last_reconcile(inv)
    if checked is None and settings.graph_tenant_id:  # without Entra there is nothing to compare
        alerts.append(
            _alert(
                "entra_drift_unknown",
                0,
                "Whether Entra agrees with the inventory is unknown: no comparison has been run "
                "yet (Reconcile).",
            )
        )
    elif checked is not None and checked["differences"]:
        alerts.append(
            _alert(
                "entra_drift",
                checked["differences"],
                f"The last comparison with Entra ({utc_text(checked['at'])}) "
                f"found {checked['differences']} difference(s).",
            )
        )
    risk = report["at_risk_of_drift"]
    if risk["count"]:
        alerts.append(
            _alert(
                "drift_risk",
                risk["count"],
                f"{risk['count']} activated token(s) unused for {risk['days']} days may have "
                "drifted past Entra's window.",
                risk["serials"],
            )
        )
    return {
        "generated_at": report["generated_at"],
        "tenant": report["tenant"],
        "entra_tenant": tenant if tenant is not None else tenant_of(inv, settings, {}),
        "total": report["total"],
        "by_state": by_state,
        "stock": report["unassigned_stock"],
        "failed_activations": report["failed_activations"],
        "at_risk_of_drift": risk,
        "not_activated": waiting,
        "last_reconcile": checked,
        "alerts": alerts,
    }


def tenant_of(inv: Inventory, settings: WebSettings, cache: dict[str, Any]) -> dict[str, Any]:
    """The Entra tenant's id and name, kept in ``cache`` once Graph has named the tenant so the
    dashboard does not ask on every load; without a name (no permission yet, Graph unreachable)
    Graph is asked again after :data:`TENANT_RETRY`, not on every load: each try may wait for
    Graph's timeouts."""
    until = cache.get("until")
    if "identity" in cache and (until is None or inv.now() < until):
        found: dict[str, Any] = cache["identity"]
        return found
    identity = tenant_identity(inv, settings.graph_tenant_id)
    final = identity["name"] is not None or identity["id"] is None
    cache["identity"] = identity
    cache["until"] = None if final else inv.now() + TENANT_RETRY
    return identity


def tenant_of_app(request: Request, inv: Inventory, settings: WebSettings) -> dict[str, Any]:
    """:func:`tenant_of` with the cache kept on the app (one per app, so per inventory)."""
    cache: dict[str, Any] | None = getattr(request.app.state, "entra_tenant", None)
    if cache is None:
        cache = {}
        request.app.state.entra_tenant = cache
    return tenant_of(inv, settings, cache)


def chart(by_state: dict[str, int], width: int = 360) -> list[dict[str, Any]]:
    """Bars for the SVG chart (attribute widths: the page's CSP allows no inline styles)."""
    top = max(by_state.values(), default=0) or 1
    return [
        {"state": state, "count": count, "width": round(width * count / top), "y": i * 28}
        for i, (state, count) in enumerate(by_state.items())
    ]


# -- lifecycle actions: the words a page shows and the API body -----------------------------
ACTION_LABELS = {
    "assign": "assigned",
    "activate": "activated",
    "deactivate": "deactivated",
    "unassign": "unassigned",
    "delete": "deleted from Entra and retired",
    "replace": "replaced",
    "resync": "resynchronised",
    "push": "pushed to Entra",
    "lost": "marked lost",
    "found": "found",
    "handover": "handed over and activated",
}


class ActionBody(BaseModel):
    """The fields a lifecycle action may take; each action says which ones it needs."""

    reason: str = Field(max_length=500, description="Why (e.g. a ticket number); required.")
    user: str | None = Field(
        None,
        max_length=320,
        description="UPN or object id. assign: to whom; activate: hand over to; replace: whose "
        "token it is (a token held by someone else is refused).",
    )
    code: str | None = Field(None, max_length=16, description="The code the token shows now.")
    second_code: str | None = Field(None, max_length=16, description="resync: the next code.")
    why: Literal["lost", "broken"] | None = Field(None, description="replace: lost or broken.")
    new_serial: str | None = Field(
        None, max_length=128, description="replace: from stock if empty."
    )
    display_name: str | None = Field(None, max_length=128, description="Name shown in Entra.")

    def request(self) -> ActionRequest:
        """The service's request for these fields."""
        return ActionRequest(**self.model_dump())
