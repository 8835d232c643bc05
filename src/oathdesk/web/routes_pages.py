"""Server-rendered pages: dashboard, inventory list, local accounts.

Why: the help desk and administrators work in a browser; each page names the one role dependency
that guards it and renders data from ``web.views``, exactly what its API twin returns.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from oathdesk.service import TokenState
from oathdesk.service.accounts import list_accounts
from oathdesk.web import views
from oathdesk.web.security import Admin, InventoryDep, Principal, SettingsDep, Staff
from oathdesk.web.views import CursorQ, LimitQ, SearchQ, SortQ, StatesQ, UserQ

router = APIRouter(include_in_schema=False)


def render(request: Request, template: str, principal: Principal, **context: Any) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, template, {"principal": principal, **context}
    )
    return response


@router.get("/dashboard")
def dashboard_page(
    request: Request, inv: InventoryDep, settings: SettingsDep, principal: Staff
) -> Response:
    data = views.dashboard(inv, settings, views.tenant_of_app(request, inv, settings))
    return render(
        request,
        "dashboard.html",
        principal,
        title="Dashboard",
        data=data,
        bars=views.chart(data["by_state"]),
        report_links=views.REPORT_LINKS,
    )


@router.get("/inventory")
def inventory_page(
    request: Request,
    inv: InventoryDep,
    principal: Staff,
    q: SearchQ = None,
    state: StatesQ = None,
    user: UserQ = None,
    sort: SortQ = "serial",
    limit: LimitQ = 50,
    cursor: CursorQ = None,
) -> Response:
    page = views.token_page(
        inv, q=q, states=state, user=user, sort=sort, limit=limit, cursor=cursor
    )
    base: list[tuple[str, str]] = [("q", q or ""), ("user", user or ""), ("sort", sort)]
    base += [("state", s.value) for s in state or []] + [("limit", str(limit))]
    next_url = (
        "/inventory?" + urlencode([*base, ("cursor", page.next_cursor)])
        if page.next_cursor
        else None
    )
    return render(
        request,
        "inventory.html",
        principal,
        title="Inventory",
        page=page,
        q=q or "",
        user=user or "",
        chosen={s.value for s in state or []},
        states=[s.value for s in TokenState],
        sort=sort,
        limit=limit,
        sizes=views.PAGE_SIZES,
        first_url="/inventory?" + urlencode(base),
        next_url=next_url,
        paged=bool(cursor),
    )


@router.get("/settings/accounts")
def accounts_page(request: Request, inv: InventoryDep, principal: Admin) -> Response:
    return render(
        request, "accounts.html", principal, title="Local accounts", accounts=list_accounts(inv)
    )
