"""Who is asking and may they: session cookies, CSRF tokens and one dependency per role.

Why: every page and API route must check roles on the server, the same way, so each route names
one dependency (``Admin``, ``Helpdesk``, ``Auditor``, ``Staff``, ``SignedIn``) and nothing else;
a browser write is only accepted with a CSRF token bound to its session (synchronizer token
derived by HMAC, so nothing extra is stored), and before sign-in to a signed pre-session nonce.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.responses import Response

from oathdesk.service import Inventory
from oathdesk.service.accounts import AuthError, resolve_session
from oathdesk.web.settings import WebSettings

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Principal:
    """The signed-in person as every route sees them."""

    name: str
    roles: frozenset[str]
    session_id: str = field(repr=False)  # the SHA-256 of the cookie's id, as stored
    csrf_token: str = field(repr=False)

    @property
    def actor(self) -> str:
        return f"local:{self.name}"

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))


def settings_of(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


def inventory_of(request: Request) -> Inventory:
    inv: Inventory = request.app.state.inventory
    return inv


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def _serializer(settings: WebSettings, purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key.reveal(), salt=f"oathdesk.{purpose}")


def csrf_token(settings: WebSettings, binding: str) -> str:
    mac = hmac.new(settings.secret_key.reveal(), b"csrf\0" + binding.encode(), hashlib.sha256)
    return mac.hexdigest()


def _set_cookie(response: Response, settings: WebSettings, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def set_session_cookie(response: Response, settings: WebSettings, token: str) -> None:
    signed = str(_serializer(settings, "session").dumps(token))
    _set_cookie(
        response,
        settings,
        settings.session_cookie,
        signed,
        int(settings.session_lifetime.total_seconds()),
    )


def clear_cookie(response: Response, settings: WebSettings, name: str) -> None:
    response.delete_cookie(
        name, path="/", secure=settings.secure_cookies, httponly=True, samesite="lax"
    )


def _unsign(settings: WebSettings, purpose: str, value: str | None) -> str | None:
    if not value:
        return None
    try:
        token = _serializer(settings, purpose).loads(value)
    except BadSignature:
        return None
    return token if isinstance(token, str) else None


def current_principal(request: Request) -> Principal | None:
    """The signed-in person, or None (no cookie, a forged one, or an ended session)."""
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    settings = settings_of(request)
    token = _unsign(settings, "session", request.cookies.get(settings.session_cookie))
    principal = None
    if token is not None:
        session = resolve_session(inventory_of(request), token, idle=settings.session_idle)
        if session is not None:
            principal = Principal(
                name=session.account.name,
                roles=frozenset(session.account.roles),
                session_id=session.id_hash,
                csrf_token=csrf_token(settings, "session:" + session.id_hash),
            )
    request.state.principal = principal
    return principal


def presession(request: Request) -> tuple[str, str | None]:
    """The CSRF token for the sign-in form, bound to a signed nonce cookie; the second value is
    that cookie's new value when the browser has none yet (pass it to ``set_presession``)."""
    settings = settings_of(request)
    nonce = _unsign(settings, "pre", request.cookies.get(settings.presession_cookie))
    fresh = None
    if nonce is None:
        nonce = secrets.token_urlsafe(24)
        fresh = str(_serializer(settings, "pre").dumps(nonce))
    return csrf_token(settings, "pre:" + nonce), fresh


def set_presession(response: Response, settings: WebSettings, value: str) -> None:
    _set_cookie(response, settings, settings.presession_cookie, value, 3600)


def _csrf_refused() -> AuthError:
    return AuthError(
        "this form has expired or did not come from this site; reload the page and try again",
        code="auth.csrf",
    )


async def _sent_token(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def check_presession_csrf(request: Request) -> None:
    """For the sign-in form: the token must match the pre-session nonce cookie."""
    settings = settings_of(request)
    nonce = _unsign(settings, "pre", request.cookies.get(settings.presession_cookie))
    sent = await _sent_token(request)
    if nonce is None or not hmac.compare_digest(sent, csrf_token(settings, "pre:" + nonce)):
        raise _csrf_refused()


def _require(*roles: str, csrf: bool = True) -> object:
    """A dependency: the principal, if signed in and holding one of ``roles`` (any role when
    none are named); writes (not GET/HEAD/OPTIONS) must also carry the session's CSRF token."""

    async def dependency(
        request: Request, principal: Annotated[Principal | None, Depends(current_principal)]
    ) -> Principal:
        if principal is None:
            raise AuthError("sign in to continue", code="auth.required")
        if roles and not principal.has(*roles):
            raise AuthError(
                f"your account does not have the role this needs ({' or '.join(roles)})",
                code="auth.forbidden",
                details={"needs": list(roles)},
            )
        if csrf and request.method not in SAFE_METHODS:
            sent = await _sent_token(request)
            if not hmac.compare_digest(sent, principal.csrf_token):
                raise _csrf_refused()
        return principal

    return dependency


# One dependency per role: a route names exactly one of these.
Admin = Annotated[Principal, Depends(_require("admin"))]
Helpdesk = Annotated[Principal, Depends(_require("admin", "helpdesk"))]
Auditor = Annotated[Principal, Depends(_require("admin", "auditor"))]
Staff = Annotated[Principal, Depends(_require("admin", "helpdesk", "auditor"))]
SignedIn = Annotated[Principal, Depends(_require())]
MaybeSignedIn = Annotated[Principal | None, Depends(current_principal)]
InventoryDep = Annotated[Inventory, Depends(inventory_of)]
SettingsDep = Annotated[WebSettings, Depends(settings_of)]
