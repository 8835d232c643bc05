"""The self-service MFA re-prompt: a person signed in with Microsoft whose last sign-in is older
than 10 minutes signs in again (with the claims Graph asks for) before ``/me`` shows or changes
anything, and the change they asked for is then completed.

Why: Microsoft's own self-service (``/me`` in Graph, Security info) asks for MFA again when the
last sign-in is older than 10 minutes, with a claims challenge (graph-api.md §3, 2026-12
update). oathdesk's portal acts for the person, so it applies the same rule to them, and it
handles a :class:`GraphClaimsChallenge` from Graph the same way. When the person last signed in
is kept in an encrypted cookie set by the Entra callback (``auth_time`` from the ID token, else
the moment the callback completed); a change posted with a stale sign-in is kept (without any
code) in another encrypted cookie for the 10 minutes the sign-in may take, then completed.
Local and API principals are not Entra sign-ins and are not re-prompted.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from oathdesk.domain import OathdeskError
from oathdesk.http import CookiePolicy, Principal
from oathdesk.web.oidc_cookie import seal, unseal
from oathdesk.web.settings import WebSettings

MAX_AGE = 600  # seconds: Microsoft's /me re-prompt threshold
# what Graph's /me re-prompt asks for (the emulator's choice, docs/emulator.md): a sign-in at
# most MAX_AGE old; sent back to Entra as the ``claims`` of the new sign-in
CLAIMS = '{"access_token":{"max_age":{"essential":true,"value":"600"}}}'
PENDING_SECONDS = 600
SIGNED_IN, PENDING = "signed_in", "pending"


class ReauthRequired(OathdeskError):
    """The person must sign in with Microsoft again first; ``claims`` go with that sign-in."""

    code = "auth.reauth_required"


def _name(settings: WebSettings, purpose: str) -> str:
    return CookiePolicy(settings.secret_key, secure=settings.secure_cookies).name(purpose)


def remember_sign_in(
    response: Response, settings: WebSettings, who: str, auth_time: float, now: datetime
) -> None:
    """Keep when ``who`` last signed in with Microsoft, for the session's lifetime."""
    name = _name(settings, SIGNED_IN)
    data = {"who": who, "at": auth_time}
    _set(response, settings, name, seal(settings, SIGNED_IN, name, data, now), lifetime(settings))


def lifetime(settings: WebSettings) -> int:
    return int(settings.session_lifetime.total_seconds())


def _set(response: Response, settings: WebSettings, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def needs_reauth(request: Request, principal: Principal, now: datetime) -> bool:
    """True when ``principal`` signed in with Microsoft more than :data:`MAX_AGE` ago (or
    this browser cannot tell when)."""
    if principal.source != "entra":
        return False
    settings: WebSettings = request.app.state.settings
    name = _name(settings, SIGNED_IN)
    value = request.cookies.get(name)
    data = unseal(settings, SIGNED_IN, name, value, now, lifetime(settings)) if value else None
    if not isinstance(data, dict) or data.get("who") != principal.name:
        return True
    return now.timestamp() - float(data.get("at", 0)) > MAX_AGE


def signin_url(next_path: str, claims: str = CLAIMS) -> str:
    """Where the browser signs in again: the Entra start with the claims and the way back."""
    return "/signin/entra?" + urlencode({"next": next_path, "claims": claims})


def reprompt(
    request: Request,
    next_path: str,
    now: datetime,
    *,
    claims: str = CLAIMS,
    pending: dict[str, Any] | None = None,
) -> Response:
    """Send the browser through the Microsoft sign-in again, keeping ``pending`` (never a
    code) to complete afterwards at ``next_path``. A page (GET) goes straight to the sign-in;
    a form's answer goes to ``/me/reauth``, a page with the link: browsers apply the form's
    ``form-action 'self'`` to the redirects after a post, so a post may not end at Entra."""
    if pending is None:
        target = signin_url(next_path, claims)
    else:
        target = "/me/reauth?" + urlencode({"next": next_path, "claims": claims})
    response = RedirectResponse(target, status_code=303)
    if pending is not None:
        settings: WebSettings = request.app.state.settings
        name = _name(settings, PENDING)
        _set(response, settings, name, seal(settings, PENDING, name, pending, now), PENDING_SECONDS)
    return response


def pending_of(request: Request, now: datetime) -> dict[str, Any] | None:
    """The change kept by :func:`reprompt` (still within its 10 minutes), or None."""
    settings: WebSettings = request.app.state.settings
    name = _name(settings, PENDING)
    value = request.cookies.get(name)
    data = unseal(settings, PENDING, name, value, now, PENDING_SECONDS) if value else None
    return data if isinstance(data, dict) else None


def drop_pending(response: Response, settings: WebSettings) -> Response:
    """Forget the kept change (it is being completed now: once only)."""
    name = _name(settings, PENDING)
    response.delete_cookie(name, path="/", secure=settings.secure_cookies, httponly=True)
    return response


def api_refusal(claims: str = CLAIMS) -> ReauthRequired:
    """The API twins' answer (401): sign in again at ``signin``, as Graph's claims challenge."""
    return ReauthRequired(
        "Your last sign-in with Microsoft is older than 10 minutes; sign in again "
        "(with multifactor authentication) and repeat the request.",
        details={"claims": claims, "signin": signin_url("/me", claims)},
    )


def challenge_header(claims: str = CLAIMS) -> str:
    """``WWW-Authenticate`` as Graph words a claims challenge."""
    encoded = base64.b64encode(claims.encode()).decode()
    return f'Bearer realm="", error="insufficient_claims", claims="{encoded}"'
