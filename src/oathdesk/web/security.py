"""Who is asking and may they: session cookies, CSRF tokens and one dependency per role.

Why: every page and API route must check roles on the server, the same way, so each route names
one dependency (``Admin``, ``Helpdesk``, ``Auditor``, ``Staff``, ``SignedIn``) and nothing else;
a browser write is only accepted with a CSRF token bound to its session (synchronizer token
derived by HMAC, so nothing extra is stored), and before sign-in to a signed pre-session nonce.
Automation sends ``Authorization: Bearer <API token>`` on ``/api/v1/*`` instead: no cookie is
involved, so no CSRF token is needed, and a bad token is refused outright (never a fallback to
the cookie).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from starlette.responses import Response

from oathdesk.service import Inventory
from oathdesk.service.accounts import AuthError, resolve_session
from oathdesk.service.api_tokens import resolve_api_token
from oathdesk.web.settings import WebSettings

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
BEARER_PATHS = "/api/v1/"


@dataclass(frozen=True)
class Principal:
    """The signed-in person (or API token) as every route sees them: ``source`` is ``local``
    (a local account), ``entra`` (signed in with Entra ID; ``name`` is the UPN) or ``api`` (a
    bearer token; ``name`` is the token's name, and there is no session or CSRF token)."""

    name: str
    roles: frozenset[str]
    session_id: str = field(repr=False)  # the SHA-256 of the cookie's id, as stored
    csrf_token: str = field(repr=False)
    source: str = "local"

    @property
    def actor(self) -> str:
        """Who acts, for the audit log: ``local:<name>``, ``entra:<upn>`` or ``api:<name>``."""
        return f"{self.source}:{self.name}"

    @property
    def is_bearer(self) -> bool:
        return self.source == "api"

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


def _set_cookie(
    response: Response,
    settings: WebSettings,
    name: str,
    value: str,
    age: int,
    samesite: Literal["lax", "none"] = "lax",
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path="/",
        # browsers only keep SameSite=None with Secure; they accept Secure from http://127.0.0.1
        secure=settings.secure_cookies or samesite == "none",
        httponly=True,
        samesite=samesite,
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
    bearer = _bearer(request)
    if bearer is not None:
        by_token = _token_principal(request, bearer)
        request.state.principal = by_token
        return by_token
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
                source=session.account.source,
            )
    request.state.principal = principal
    return principal


def _bearer(request: Request) -> str | None:
    """The API token sent with ``Authorization: Bearer``, on API paths only (pages ignore it)."""
    if not request.url.path.startswith(BEARER_PATHS):
        return None
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _token_principal(request: Request, value: str) -> Principal:
    view = resolve_api_token(inventory_of(request), value)
    if view is None:  # the value itself is never echoed or logged
        raise AuthError(
            "the API token is invalid, expired or revoked; ask an administrator for a new one",
            code="auth.required",
            details={"reason": "invalid_token"},
        )
    return Principal(
        name=view.name, roles=frozenset(view.roles), session_id="", csrf_token="", source="api"
    )


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


OIDC_MINUTES = 10


def set_oidc_flow(response: Response, settings: WebSettings, flow: dict[str, Any]) -> None:
    """Keep a started Entra sign-in (state, PKCE verifier, nonce, next page) in a signed,
    HttpOnly, ten-minute cookie: nothing server-side, and any server process can finish it.
    Entra posts its reply from its own site (``form_post``), so the cookie is ``SameSite=None``
    (Secure, also on a plain-HTTP loopback console such as the demo's: browsers accept Secure
    cookies from 127.0.0.1); the state inside it is what ties the reply to this browser."""
    serializer = URLSafeTimedSerializer(settings.secret_key.reveal(), salt="oathdesk.oidc")
    signed = str(serializer.dumps(flow))
    _set_cookie(response, settings, settings.oidc_cookie, signed, OIDC_MINUTES * 60, "none")


def oidc_flow(request: Request) -> dict[str, Any] | None:
    """The sign-in this browser started, or None (none, forged, or older than ten minutes)."""
    settings = settings_of(request)
    value = request.cookies.get(settings.oidc_cookie)
    if not value:
        return None
    serializer = URLSafeTimedSerializer(settings.secret_key.reveal(), salt="oathdesk.oidc")
    try:
        flow = serializer.loads(value, max_age=OIDC_MINUTES * 60)
    except BadSignature:  # SignatureExpired is a BadSignature too
        return None
    return flow if isinstance(flow, dict) else None


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
    none are named); writes (not GET/HEAD/OPTIONS) must also carry the session's CSRF token,
    unless they come with a bearer token (no cookie, so no cross-site request forgery)."""

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
        if csrf and request.method not in SAFE_METHODS and not principal.is_bearer:
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
