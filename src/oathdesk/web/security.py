"""The console's side of who is asking: its cookie policy, API tokens as a second way in, the
Entra sign-in flow cookie, and one dependency per role.

Why: every page and API route names one dependency (``Admin``, ``Helpdesk``, ``Auditor``,
``Staff``, ``SignedIn``) built on the HTTP kit's ``require``, so roles and CSRF are checked on
the server the same way everywhere. Automation sends ``Authorization: Bearer <API token>`` on
``/api/v1/*`` instead of a cookie: no CSRF token is then needed, and a bad token is refused
outright (never a fallback to the cookie).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import Response

from oathdesk.http import (
    CookiePolicy,
    MaybeSignedIn,
    Principal,
    SignedIn,
    client_address,
    require,
    set_cookie,
)
from oathdesk.http.auth import SESSION
from oathdesk.service import Inventory
from oathdesk.service.accounts import AuthError
from oathdesk.service.api_tokens import resolve_api_token
from oathdesk.web.settings import WebSettings

__all__ = [  # the kit's names routes import from here too, and the console's own
    "Admin",
    "Auditor",
    "Helpdesk",
    "InventoryDep",
    "MaybeSignedIn",
    "Principal",
    "SettingsDep",
    "SignedIn",
    "Staff",
    "bearer_principal",
    "clear_cookie",
    "client_address",
    "cookie_policy",
    "inventory_of",
    "set_session_cookie",
    "settings_of",
]
BEARER_PATHS = "/api/v1/"
OIDC = "oidc"  # the purpose of the cookie that holds a started Entra sign-in


def cookie_policy(settings: WebSettings) -> CookiePolicy:
    """The console's cookies: ``__Host-oathdesk_*`` (``oathdesk_*`` on plain HTTP)."""
    return CookiePolicy.of(settings, prefix="oathdesk")


def settings_of(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


def inventory_of(request: Request) -> Inventory:
    inv: Inventory = request.app.state.inventory
    return inv


def bearer_principal(request: Request) -> Principal | None:
    """The API token sent with ``Authorization: Bearer`` on API paths (pages ignore it), or
    None when there is none; a bad one is refused, its value never echoed or logged."""
    if not request.url.path.startswith(BEARER_PATHS):
        return None
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    view = resolve_api_token(inventory_of(request), value.strip())
    if view is None:
        raise AuthError(
            "The API token is invalid, expired or revoked; ask an administrator for a new one.",
            code="auth.required",
            details={"reason": "invalid_token"},
        )
    return Principal(
        name=view.name, roles=frozenset(view.roles), session_id="", csrf_token="", source="api"
    )


def clear_cookie(response: Response, settings: WebSettings, name: str) -> None:
    """Drop the console cookie called ``name`` (e.g. ``settings.session_cookie``)."""
    response.delete_cookie(
        name, path="/", secure=settings.secure_cookies, httponly=True, samesite="lax"
    )


def set_session_cookie(response: Response, settings: WebSettings, token: str) -> None:
    """Sign ``token`` into the console's session cookie (for tools that open sessions)."""
    set_cookie(response, cookie_policy(settings), SESSION, token)


# One dependency per role: a route names exactly one of these.
Admin = Annotated[Principal, Depends(require("admin"))]
Helpdesk = Annotated[Principal, Depends(require("admin", "helpdesk"))]
Auditor = Annotated[Principal, Depends(require("admin", "auditor"))]
Staff = Annotated[Principal, Depends(require("admin", "helpdesk", "auditor"))]
InventoryDep = Annotated[Inventory, Depends(inventory_of)]
SettingsDep = Annotated[WebSettings, Depends(settings_of)]
