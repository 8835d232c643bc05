"""The signed-in principal of a request and ``require(roles)``, the one dependency routes use
to insist on a role.

Why: every route must check roles on the server, the same way in both apps; a write authorised
by the session cookie must also carry the session's CSRF token (a bearer-token write has no
cookie, so no cross-site forgery is possible).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from starlette.requests import Request

from oathdesk.http.cookies import read_text_cookie
from oathdesk.http.csrf import SAFE_METHODS, check_token, session_csrf
from oathdesk.http.principal import Principal
from oathdesk.http.site import Site, site_of
from oathdesk.service.accounts import AuthError, resolve_session

SESSION = "session"  # the purpose (and name suffix) of the session cookie


def client_address(request: Request) -> str:
    """The client's address: the socket's peer, or the client ``X-Forwarded-For`` names when
    the peer is a trusted proxy (uvicorn's proxy headers, ``--trusted-proxies``). Throttles
    count it by network (``oathdesk.domain.networks``), audits keep it as it is."""
    return request.client.host if request.client is not None else "unknown"


def current_principal(request: Request) -> Principal | None:
    """The signed-in person, or None (no cookie, a forged one, or an ended session)."""
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    site = site_of(request)
    principal = site.authenticate(request) if site.authenticate is not None else None
    if principal is None:
        principal = _session_principal(request, site)
    request.state.principal = principal
    return principal


def _session_principal(request: Request, site: Site) -> Principal | None:
    token = read_text_cookie(request, site.cookies, SESSION)
    if token is None:
        return None
    session = resolve_session(site.inventory, token, idle=site.cookies.idle)
    if session is None:
        return None
    return Principal(
        name=session.account.name,
        roles=frozenset(session.account.roles),
        session_id=session.id_hash,
        csrf_token=session_csrf(site.cookies, session.id_hash),
        source=session.account.source,
    )


def require(*roles: str, csrf: bool = True) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the principal, if signed in and holding one of ``roles`` (any role when
    none are named); writes (not GET/HEAD/OPTIONS) must also carry the session's CSRF token
    unless ``csrf`` is off or they come with a bearer token."""

    async def dependency(
        request: Request, principal: Annotated[Principal | None, Depends(current_principal)]
    ) -> Principal:
        if principal is None:
            raise AuthError("Sign in to continue.", code="auth.required")
        if roles and not principal.has(*roles):
            raise AuthError(
                f"Your account does not have the role this needs ({' or '.join(roles)}).",
                code="auth.forbidden",
                details={"needs": list(roles)},
            )
        if csrf and request.method not in SAFE_METHODS and not principal.is_bearer:
            await check_token(request, principal.csrf_token)
        return principal

    return dependency


SignedIn = Annotated[Principal, Depends(require())]
MaybeSignedIn = Annotated[Principal | None, Depends(current_principal)]
