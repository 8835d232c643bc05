"""Who is asking the delivery app: the team's signed-in accounts (role ``delivery``) and the
anonymous customer's CSRF and visit cookies.

Why a thin adapter of our own: the delivery app may not import the console's web layer, so it
signs cookies and derives CSRF tokens the same way (itsdangerous, HMAC) over the same
server-side sessions (``service.accounts``), under cookie names of its own.
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

from oathdesk.delivery.context import Delivery
from oathdesk.delivery.settings import DeliverySettings
from oathdesk.service.accounts import AuthError, resolve_session

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
TEAM_ROLE = "delivery"


@dataclass(frozen=True)
class Principal:
    name: str
    roles: frozenset[str]
    session_id: str = field(repr=False)
    csrf_token: str = field(repr=False)

    @property
    def actor(self) -> str:
        return f"local:{self.name}"


def delivery_of(request: Request) -> Delivery:
    dl: Delivery = request.app.state.delivery
    return dl


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def cookie_name(settings: DeliverySettings, name: str) -> str:
    return f"__Host-oathdesk_delivery_{name}" if settings.secure_cookies else f"delivery_{name}"


def _serializer(settings: DeliverySettings, purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key.reveal(), salt=f"oathdesk.delivery.{purpose}")


def csrf_token(settings: DeliverySettings, binding: str) -> str:
    key = settings.secret_key.reveal()
    return hmac.new(key, b"csrf\0" + binding.encode(), hashlib.sha256).hexdigest()


def set_cookie(
    response: Response, settings: DeliverySettings, purpose: str, value: str, age: int
) -> None:
    response.set_cookie(
        cookie_name(settings, purpose),
        str(_serializer(settings, purpose).dumps(value)),
        max_age=age,
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def clear_cookie(response: Response, settings: DeliverySettings, purpose: str) -> None:
    response.delete_cookie(
        cookie_name(settings, purpose),
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def read_cookie(request: Request, settings: DeliverySettings, purpose: str) -> str | None:
    raw = request.cookies.get(cookie_name(settings, purpose))
    if not raw:
        return None
    try:
        value = _serializer(settings, purpose).loads(raw)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def current_principal(request: Request) -> Principal | None:
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    dl = delivery_of(request)
    token = read_cookie(request, dl.settings, "session")
    principal = None
    if token is not None:
        session = resolve_session(dl.inv, token, idle=dl.settings.session_idle)
        if session is not None:
            principal = Principal(
                name=session.account.name,
                roles=frozenset(session.account.roles),
                session_id=session.id_hash,
                csrf_token=csrf_token(dl.settings, "session:" + session.id_hash),
            )
    request.state.principal = principal
    return principal


def anonymous_csrf(request: Request) -> tuple[str, str | None]:
    """The CSRF token of a customer's forms, bound to a signed nonce cookie; the second value is
    the nonce to set when the browser has none yet."""
    settings = delivery_of(request).settings
    nonce = read_cookie(request, settings, "pre")
    fresh = None
    if nonce is None:
        nonce = fresh = secrets.token_urlsafe(24)
    return csrf_token(settings, "pre:" + nonce), fresh


def _refused() -> AuthError:
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


async def check_anonymous_csrf(request: Request) -> None:
    settings = delivery_of(request).settings
    nonce = read_cookie(request, settings, "pre")
    sent = await _sent_token(request)
    if nonce is None or not hmac.compare_digest(sent, csrf_token(settings, "pre:" + nonce)):
        raise _refused()


def _require(role: str | None) -> object:
    """Signed in (and holding ``role`` when named); writes must carry the session's CSRF token."""

    async def dependency(
        request: Request, principal: Annotated[Principal | None, Depends(current_principal)]
    ) -> Principal:
        return await _check(request, principal, role)

    return dependency


async def _check(request: Request, principal: Principal | None, role: str | None) -> Principal:
    if principal is None:
        raise AuthError("sign in to continue", code="auth.required")
    if role is not None and role not in principal.roles:
        raise AuthError(
            f"your account does not have the role this needs ({role}); ask an administrator",
            code="auth.forbidden",
            details={"needs": [role]},
        )
    if request.method not in SAFE_METHODS:
        sent = await _sent_token(request)
        if not hmac.compare_digest(sent, principal.csrf_token):
            raise _refused()
    return principal


# One dependency per route: the team's routes, and signing out (any signed-in account).
DeliveryTeam = Annotated[Principal, Depends(_require(TEAM_ROLE))]
SignedIn = Annotated[Principal, Depends(_require(None))]
MaybeSignedIn = Annotated[Principal | None, Depends(current_principal)]
DeliveryDep = Annotated[Delivery, Depends(delivery_of)]
AnonymousCsrf = Depends(check_anonymous_csrf)
