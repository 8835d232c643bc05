"""The API tokens page (``/settings/api-tokens``): create a token with a name, roles and a lifetime,
see its value once, list every token and revoke one. Administrators only; the ``/api/v1``
twins live in ``routes_oidc``.

Why: until now only the CLI could hand a script its credential, so an administrator without a
shell on the server could not give an integration access or cut it off. The value is rendered
only in the answer to the creating POST (``Cache-Control: no-store``, like every page): a reload
re-posts the form and is refused because the name exists, and the listing never has the value.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from starlette.responses import Response

from oathdesk.domain import OathdeskError
from oathdesk.domain.wording import sentence
from oathdesk.service.accounts import ROLES
from oathdesk.service.api_tokens import (
    DEFAULT_DAYS,
    MAX_DAYS,
    create_api_token,
    list_api_tokens,
    revoke_api_token,
)
from oathdesk.web.errors import status_for
from oathdesk.web.routes_pages import render
from oathdesk.web.security import Admin, InventoryDep, Principal

pages = APIRouter(include_in_schema=False)
MAX_ID = 2**63 - 1  # ids are 64-bit integers in the database
ROLE_TEXT = {
    "admin": "admin: everything, including accounts and API tokens",
    "helpdesk": "helpdesk: users and token lifecycle",
    "auditor": "auditor: read the inventory and the audit log",
}
# ``delivery`` is left out: no console route takes it and the delivery service signs its team in
# with accounts, not API tokens, so a token with it would open nothing
OFFERED = tuple(r for r in ROLES if r in ROLE_TEXT)
LIFETIMES = (7, 30, DEFAULT_DAYS, 180, 365)


def _page(
    request: Request,
    inv: InventoryDep,
    principal: Principal,
    *,
    done: str | None = None,
    error: OathdeskError | None = None,
    form: dict[str, Any] | None = None,
    created: dict[str, Any] | None = None,
) -> Response:
    now = inv.now()
    response = render(
        request,
        "api_tokens.html",
        principal,
        title="API tokens",
        tokens=[t.to_dict(now) for t in list_api_tokens(inv)],
        roles=[(r, ROLE_TEXT[r]) for r in OFFERED],
        lifetimes=LIFETIMES,
        default_days=DEFAULT_DAYS,
        max_days=MAX_DAYS,
        done=done,
        error=sentence(error.message) if error else None,
        error_code=error.code if error else None,
        form=form or {"days": DEFAULT_DAYS, "roles": []},
        created=created,
    )
    if error is not None:
        response.status_code = status_for(error.code)
    return response


@pages.get("/settings/api-tokens")
def api_tokens_page(request: Request, inv: InventoryDep, principal: Admin) -> Response:
    return _page(request, inv, principal)


@pages.post("/settings/api-tokens")
def create_page(
    request: Request,
    inv: InventoryDep,
    principal: Admin,
    name: Annotated[str, Form(max_length=100)],
    days: Annotated[int, Form(ge=1, le=MAX_DAYS)] = DEFAULT_DAYS,
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    form = {"name": name, "roles": roles or [], "days": days}
    try:
        value, view = create_api_token(
            inv, name.strip(), roles or [], actor=principal.actor, days=days
        )
    except OathdeskError as exc:
        return _page(request, inv, principal, error=exc, form=form)
    created = {**view.to_dict(inv.now()), "value": value.reveal().decode()}
    return _page(
        request,
        inv,
        principal,
        done=f"API token {view.name} was created. Copy its value now: it is not shown again.",
        created=created,
    )


@pages.post("/settings/api-tokens/{token_id}/revoke")
def revoke_page(
    request: Request,
    inv: InventoryDep,
    principal: Admin,
    token_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        view = revoke_api_token(inv, token_id, actor=principal.actor, reason=reason.strip())
    except OathdeskError as exc:
        return _page(request, inv, principal, error=exc)
    return _page(
        request,
        inv,
        principal,
        done=f"API token {view.name} is revoked; a call made with it is now refused.",
    )
