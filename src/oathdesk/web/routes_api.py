"""The REST API under ``/api/v1``: JSON twins of the pages, described by FastAPI's OpenAPI.

Why: automation uses the same operations as the console, with the same role checks (the same
dependencies) and the same error envelope ``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response, StreamingResponse

from oathdesk.service.accounts import close_session, list_accounts
from oathdesk.web import views
from oathdesk.web.inventory_view import FormatQ, QueryDep, export_response
from oathdesk.web.security import (
    Admin,
    InventoryDep,
    SettingsDep,
    SignedIn,
    Staff,
    clear_cookie,
)
from oathdesk.web.views import CursorQ, LimitQ


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorEnvelope(BaseModel):
    error: ErrorBody


class Me(BaseModel):
    name: str
    roles: list[str]
    csrf_token: str


class TokenList(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None


class AccountOut(BaseModel):
    name: str
    roles: list[str]
    enabled: bool
    created_at: str
    last_signin_at: str | None


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorEnvelope, "description": "A value is not usable (e.g. a stale cursor)."},
    401: {"model": ErrorEnvelope, "description": "Not signed in (auth.required)."},
    403: {"model": ErrorEnvelope, "description": "Role missing or CSRF token wrong."},
    422: {"model": ErrorEnvelope, "description": "A parameter is not valid (request.invalid)."},
}

router = APIRouter(prefix="/api/v1", tags=["v1"], responses=ERRORS)


@router.get("/me", summary="Who is signed in, their roles and the CSRF token for writes")
def me(principal: SignedIn) -> Me:
    return Me(name=principal.name, roles=sorted(principal.roles), csrf_token=principal.csrf_token)


@router.delete(
    "/session", status_code=204, summary="Sign out (send X-CSRF-Token)", response_class=Response
)
def delete_session(inv: InventoryDep, settings: SettingsDep, principal: SignedIn) -> Response:
    close_session(inv, principal.session_id, actor=principal.actor)
    response = Response(status_code=204)
    clear_cookie(response, settings, settings.session_cookie)
    return response


@router.get("/dashboard", summary="Counts by state, stock and alerts (the dashboard)")
def dashboard(
    request: Request, inv: InventoryDep, settings: SettingsDep, principal: Staff
) -> dict[str, Any]:
    return views.dashboard(inv, settings, views.tenant_of_app(request, inv, settings))


@router.get("/tokens", summary="One page of the inventory (keyset paging via next_cursor)")
def tokens(
    inv: InventoryDep,
    principal: Staff,
    query: QueryDep,
    limit: LimitQ = 50,
    cursor: CursorQ = None,
) -> TokenList:
    page = views.token_page(inv, query.token_filter(), sort=query.sort, limit=limit, cursor=cursor)
    return TokenList(items=page.items, next_cursor=page.next_cursor, total=page.total)


@router.get(
    "/exports/tokens",
    summary="Every token of a filtered view, as CSV or JSON (streamed; audited if it lists users)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/json": {}}}},
)
def tokens_export(
    inv: InventoryDep,
    principal: Staff,
    query: QueryDep,
    format: FormatQ = "csv",
) -> Response:
    return export_response(inv, principal, query, format)


@router.get("/accounts", summary="Local accounts (admin)")
def accounts(inv: InventoryDep, principal: Admin) -> list[AccountOut]:
    return [AccountOut(**a.to_dict()) for a in list_accounts(inv)]
