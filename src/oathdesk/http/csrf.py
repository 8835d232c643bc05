"""CSRF tokens: derived by HMAC from what they are bound to (a session, or before sign-in a
signed nonce cookie), so nothing extra is stored, and checked on every browser write.

Why: a write carried by a cookie must prove it came from one of our own pages; the token is in
a hidden form field (``csrf_token``) or, from our JavaScript, the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Depends
from starlette.requests import Request
from starlette.responses import Response

from oathdesk.http.cookies import CookiePolicy, read_text_cookie, set_cookie
from oathdesk.http.site import site_of
from oathdesk.service.accounts import AuthError

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NONCE = "pre"  # the purpose of the pre-session nonce cookie
NONCE_SECONDS = 3600


def csrf_token(policy: CookiePolicy, binding: str) -> str:
    """The token of ``binding`` (``session:<id hash>`` or ``pre:<nonce>``)."""
    mac = hmac.new(policy.secret_key.reveal(), b"csrf\0" + binding.encode(), hashlib.sha256)
    return mac.hexdigest()


def session_csrf(policy: CookiePolicy, session_id: str) -> str:
    return csrf_token(policy, "session:" + session_id)


def csrf_refused() -> AuthError:
    return AuthError(
        "This form has expired or did not come from this site; reload the page and try again.",
        code="auth.csrf",
    )


async def sent_token(request: Request) -> str:
    """The token the request carries (header first, then the form field), or ``""``."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def check_token(request: Request, expected: str | None) -> None:
    """Refuse (``auth.csrf``) unless the request carries ``expected``.

    Compared as UTF-8 bytes: ``hmac.compare_digest`` raises ``TypeError`` on a string with
    non-ASCII characters, and a token is hex, so such a token is simply wrong."""
    sent = await sent_token(request)
    if expected is None or not hmac.compare_digest(
        sent.encode("utf-8", "surrogatepass"), expected.encode()
    ):
        raise csrf_refused()


def form_token(request: Request) -> tuple[str, str | None]:
    """The token for a form shown before sign-in, bound to the nonce cookie; the second value
    is a new nonce when the browser has none yet (keep it with :func:`keep_nonce`)."""
    policy = site_of(request).cookies
    nonce = read_text_cookie(request, policy, NONCE)
    fresh = None
    if nonce is None:
        nonce = fresh = secrets.token_urlsafe(24)
    return csrf_token(policy, "pre:" + nonce), fresh


def keep_nonce(
    response: Response, policy: CookiePolicy, nonce: str, age: int = NONCE_SECONDS
) -> None:
    set_cookie(response, policy, NONCE, nonce, age=age)


async def check_form_token(request: Request) -> None:
    """A dependency for forms posted before sign-in: the token must match the nonce cookie."""
    policy = site_of(request).cookies
    nonce = read_text_cookie(request, policy, NONCE)
    await check_token(request, None if nonce is None else csrf_token(policy, "pre:" + nonce))


FormCsrf = Depends(check_form_token)
