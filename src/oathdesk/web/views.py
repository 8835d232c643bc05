"""The data behind the dashboard and the inventory list, shared by the pages and their API
twins, and the lifecycle action's words and API body.

Why: a page and its JSON twin must show the same numbers from the same query, so both call
these functions and differ only in how they render the result. (Which use case an action runs
is the service's ``lifecycle.perform``.)
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, Field

from oathdesk.service import (
    ActionRequest,
    Inventory,
    TokenFilter,
    TokenPage,
    TokenState,
    inventory_report,
)
from oathdesk.service import list_tokens as _list_tokens
from oathdesk.service.token_export import SortKey

LOW_STOCK = 10
PAGE_SIZES = (25, 50, 100)
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


def dashboard(inv: Inventory) -> dict[str, Any]:
    """Counts by state, stock, failures and drift risk, plus the alerts they raise."""
    report = inventory_report(inv, listed=10)
    by_state: dict[str, int] = report["by_state"]
    stock = report["unassigned_stock"]["count"]
    alerts: list[dict[str, Any]] = []
    failed = report["failed_activations"]["tokens_now_failed"]
    if failed:
        alerts.append(
            {
                "code": "failed_activations",
                "count": failed,
                "message": f"{failed} token(s) failed activation and wait for the help desk",
                "serials": report["failed_activations"]["serials"],
            }
        )
    risk = report["at_risk_of_drift"]
    if risk["count"]:
        alerts.append(
            {
                "code": "drift_risk",
                "count": risk["count"],
                "message": f"{risk['count']} activated token(s) unused for {risk['days']} days "
                "may have drifted past Entra's window",
                "serials": risk["serials"],
            }
        )
    if stock < LOW_STOCK:
        alerts.append(
            {
                "code": "low_stock",
                "count": stock,
                "message": f"only {stock} token(s) left in stock (alert below {LOW_STOCK})",
                "serials": [],
            }
        )
    return {
        "generated_at": report["generated_at"],
        "tenant": report["tenant"],
        "total": report["total"],
        "by_state": by_state,
        "stock": report["unassigned_stock"],
        "failed_activations": report["failed_activations"],
        "at_risk_of_drift": risk,
        "alerts": alerts,
    }


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
