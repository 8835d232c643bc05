"""Settings pages and their ``/api/v1`` twins: the tenant connection check, key rotation and
local account management (create, change roles, disable); a read-out of the notifications.

Why: an administrator should not need a shell to check that the app registration has every
permission, to replace a sealing key that may have leaked, or to manage break-glass accounts;
each form is an admin-only POST with a CSRF token and calls the same audited service function as
the CLI. Passwords become a ``Secret`` at once and are never echoed back into a form.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from pydantic import BaseModel, Field, SecretStr
from starlette.responses import Response

from oathdesk.domain import OathdeskError, Secret
from oathdesk.service.accounts import create_account, disable_account, list_accounts, set_roles
from oathdesk.service.admin import key_status, rotate_keys
from oathdesk.service.connection import check_connection
from oathdesk.service.errors import ServiceError
from oathdesk.service.notify import outbox_status
from oathdesk.web.admin_routers import pages, router
from oathdesk.web.errors import status_for
from oathdesk.web.routes_api import AccountOut
from oathdesk.web.routes_pages import render
from oathdesk.web.security import Admin, InventoryDep, Principal

Name = Annotated[str, Form(max_length=200)]
Roles = Annotated[list[str] | None, Form()]
Password = Annotated[str, Form(max_length=1024)]
Reason = Annotated[str, Form(max_length=500)]


class ConnectionIn(BaseModel):
    user: str | None = Field(None, max_length=320, description="A UPN or id to probe with.")


class AccountIn(BaseModel):
    name: str = Field(max_length=200)
    roles: list[str] = Field(default_factory=list)
    password: SecretStr = Field(max_length=1024)


class AccountPatch(BaseModel):
    roles: list[str] | None = None
    enabled: bool | None = Field(None, description="Only false (disable) is accepted.")
    reason: str = Field("", max_length=500)


def _not_yourself(principal: Principal, name: str, what: str) -> None:
    """An administrator may not lock themselves out; another administrator can do it."""
    if name == principal.name:
        raise ServiceError(
            f"You cannot {what} your own account; ask another administrator.",
            code="account.forbidden",
            details={"name": name},
        )


def _settings(
    request: Request, inv: InventoryDep, principal: Principal, status: int = 200, **extra: Any
) -> Response:
    response = render(
        request,
        "settings.html",
        principal,
        title="Settings",
        keys=key_status(inv),
        notify=outbox_status(inv, failures=5),
        **extra,
    )
    response.status_code = status
    return response


@pages.get("/settings")
def settings_page(request: Request, inv: InventoryDep, principal: Admin) -> Response:
    return _settings(request, inv, principal)


@pages.post("/settings/connection-check")
def connection_page(
    request: Request,
    inv: InventoryDep,
    principal: Admin,
    user: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    report = check_connection(inv, actor=principal.actor, user=user or None)
    return _settings(request, inv, principal, connection=report.to_dict(), probe=user)


@pages.post("/settings/keys/rotate")
def rotate_page(
    request: Request,
    inv: InventoryDep,
    principal: Admin,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    if confirm != "yes":
        return _settings(
            request,
            inv,
            principal,
            400,
            rotate_error="Tick the box to confirm the rotation; nothing was changed.",
        )
    try:
        report = rotate_keys(inv, actor=principal.actor)
    except OathdeskError as exc:
        return _settings(request, inv, principal, status_for(exc.code), rotate_error=exc.message)
    return _settings(request, inv, principal, rotation=report.to_dict())


@router.post("/settings/connection-check", summary="Probe every Graph permission oathdesk needs")
def connection_api(
    inv: InventoryDep, principal: Admin, body: ConnectionIn | None = None
) -> dict[str, Any]:
    user = body.user if body is not None else None
    return check_connection(inv, actor=principal.actor, user=user).to_dict()


@router.post("/keys/rotate", summary="New sealing key; every seed re-sealed under it")
def rotate_api(inv: InventoryDep, principal: Admin) -> dict[str, Any]:
    return {**rotate_keys(inv, actor=principal.actor).to_dict(), "keys": key_status(inv)}


# -- local accounts -------------------------------------------------------------------------
def _accounts(
    request: Request,
    inv: InventoryDep,
    principal: Principal,
    *,
    done: str | None = None,
    error: OathdeskError | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    response = render(
        request,
        "accounts.html",
        principal,
        title="Local accounts",
        accounts=list_accounts(inv),
        done=done,
        error=error.message if error else None,
        error_code=error.code if error else None,
        form=form or {},
    )
    if error is not None:
        response.status_code = status_for(error.code)
    return response


@pages.post("/settings/accounts")
def create_page(
    request: Request,
    inv: InventoryDep,
    principal: Admin,
    name: Name,
    password: Password,
    password2: Password,
    roles: Roles = None,
) -> Response:
    form = {"name": name, "roles": roles or []}  # never the passwords
    try:
        if password != password2:
            raise ServiceError(
                "The two passwords differ; type the same password twice.",
                code="account.password_mismatch",
            )
        made = create_account(
            inv, name.strip(), Secret(password.encode()), roles or [], actor=principal.actor
        )
    except OathdeskError as exc:
        return _accounts(request, inv, principal, error=exc, form=form)
    return _accounts(request, inv, principal, done=f"Account {made.name} was created.")


@pages.post("/settings/accounts/{name}/roles")
def roles_page(
    request: Request, inv: InventoryDep, principal: Admin, name: str, roles: Roles = None
) -> Response:
    try:
        if "admin" not in (roles or []):
            _not_yourself(principal, name, "remove the admin role from")
        changed = set_roles(inv, name, roles or [], actor=principal.actor)
    except OathdeskError as exc:
        return _accounts(request, inv, principal, error=exc)
    shown = ", ".join(changed.roles) or "no role (self-service only)"
    return _accounts(request, inv, principal, done=f"{changed.name} now has: {shown}.")


@pages.post("/settings/accounts/{name}/disable")
def disable_page(
    request: Request, inv: InventoryDep, principal: Admin, name: str, reason: Reason = ""
) -> Response:
    try:
        _not_yourself(principal, name, "disable")
        _need_reason(reason)
        done = disable_account(inv, name, actor=principal.actor, reason=reason.strip())
    except OathdeskError as exc:
        return _accounts(request, inv, principal, error=exc)
    return _accounts(
        request, inv, principal, done=f"{done.name} is disabled and was signed out everywhere."
    )


def _need_reason(reason: str) -> None:
    if not reason.strip():
        raise ServiceError(
            "Say why the account is disabled (e.g. a ticket number).",
            code="service.reason_required",
        )


@router.post("/accounts", status_code=201, summary="Create a local account (admin)")
def create_api(inv: InventoryDep, principal: Admin, body: AccountIn) -> AccountOut:
    made = create_account(
        inv,
        body.name,
        Secret(body.password.get_secret_value().encode()),
        body.roles,
        actor=principal.actor,
    )
    return AccountOut(**made.to_dict())


@router.patch("/accounts/{name}", summary="Change a local account's roles, or disable it")
def patch_api(inv: InventoryDep, principal: Admin, name: str, body: AccountPatch) -> AccountOut:
    if body.roles is None and body.enabled is None:
        raise ServiceError("Send roles and/or enabled: false.", code="account.nothing_to_change")
    if body.enabled:
        raise ServiceError(
            "A disabled account cannot be enabled again; create a new account.",
            code="account.cannot_enable",
        )
    if body.roles is not None and "admin" not in body.roles:
        _not_yourself(principal, name, "remove the admin role from")
    if body.enabled is False:
        _not_yourself(principal, name, "disable")
        _need_reason(body.reason)
    changed = None
    if body.roles is not None:
        changed = set_roles(inv, name, body.roles, actor=principal.actor)
    if body.enabled is False:
        changed = disable_account(inv, name, actor=principal.actor, reason=body.reason.strip())
    assert changed is not None
    return AccountOut(**changed.to_dict())
