"""Server-rendered pages: dashboard, inventory list, local accounts.

Why: the help desk and administrators work in a browser; each page names the one role dependency
that guards it and renders data from ``web.views``, exactly what its API twin returns.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from oathdesk.service import TokenState
from oathdesk.service.accounts import list_accounts
from oathdesk.service.queries import inventory_choices
from oathdesk.web import views
from oathdesk.web.inventory_view import ENTRA_CHOICES, FormatQ, QueryDep, export_response
from oathdesk.web.security import Admin, InventoryDep, Principal, SettingsDep, Staff
from oathdesk.web.views import CursorQ, LimitQ

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
    query: QueryDep,
    limit: LimitQ = 50,
    cursor: CursorQ = None,
) -> Response:
    page = views.token_page(inv, query.token_filter(), sort=query.sort, limit=limit, cursor=cursor)
    sized = {"limit": str(limit)}
    next_url = (
        query.url("/inventory", **sized, cursor=page.next_cursor) if page.next_cursor else None
    )
    return render(
        request,
        "inventory.html",
        principal,
        title="Inventory",
        page=page,
        query=query,
        chosen={s.value for s in query.states},
        states=[s.value for s in TokenState],
        entra_choices=ENTRA_CHOICES,
        choices=inventory_choices(inv),
        headers=query.headers(),
        limit=limit,
        sizes=views.PAGE_SIZES,
        first_url=query.url("/inventory", **sized),
        next_url=next_url,
        export_csv=query.url("/inventory/export", format="csv"),
        export_json=query.url("/inventory/export", format="json"),
        paged=bool(cursor),
    )


@router.get("/inventory/export")
def inventory_export(
    inv: InventoryDep,
    principal: Staff,
    query: QueryDep,
    format: FormatQ = "csv",
) -> Response:
    return export_response(inv, principal, query, format)


@router.get("/settings/accounts")
def accounts_page(request: Request, inv: InventoryDep, principal: Admin) -> Response:
    return render(
        request, "accounts.html", principal, title="Local accounts", accounts=list_accounts(inv)
    )
