"""The emulator's two plain sign-in pages: the authorization endpoint (UPN and password, then a
redirect or form post with the code) and the device-code page where a user enters the code.

Both are interactive sign-ins: the tokens they lead to carry ``auth_time`` (now) and ``amr``
(``pwd``, ``mfa``). The authorize endpoint accepts a ``claims`` request (what a client sends
after a claims challenge, ``emulator.reauth``); signing in on the page satisfies it."""

from __future__ import annotations

import html
import secrets
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from oathdesk.emulator import identity as sts
from oathdesk.emulator.common import emu
from oathdesk.emulator.errors import OAuthError
from oathdesk.emulator.model import App
from oathdesk.emulator.routes_identity import CODE_LIFETIME, tenant_of
from oathdesk.emulator.state import PendingCode

_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family:sans-serif;max-width:28em;margin:3em auto"><h1>{title}</h1>
<p style="color:#a00">{error}</p><form method="post">{hidden}{fields}
<p><button type="submit" name="action" value="approve">Sign in</button>{extra}</p></form>
<p><small>oathdesk Entra emulator: local test accounts only.</small></p></body></html>"""
_LOGIN = (
    '<p><label>User name <input name="username" autocomplete="username" value="{hint}">'
    '</label></p><p><label>Password <input name="password" type="password"></label></p>'
)


def _page(
    title: str, hidden: dict[str, str], fields: str, error: str = "", extra: str = ""
) -> HTMLResponse:
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in hidden.items()
    )
    return HTMLResponse(
        _PAGE.format(
            title=html.escape(title),
            error=html.escape(error),
            hidden=inputs,
            fields=fields,
            extra=extra,
        )
    )


def _redirect_allowed(app: App, uri: str) -> bool:
    if uri in app.redirect_uris:
        return True
    parts = urlsplit(uri)
    return (
        not app.redirect_uris
        and parts.scheme == "http"
        and parts.hostname in ("localhost", "127.0.0.1")
    )


_AUTH_KEYS = (
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
    "response_type",
    "login_hint",
    "response_mode",
    "claims",  # a claims request (e.g. a claims challenge's): honoured by signing in again
)


async def authorize(request: Request) -> Response:
    tenant_of(request)
    state = emu(request)
    params = (
        dict(request.query_params)
        if request.method == "GET"
        else {k: str(v) for k, v in (await request.form()).items()}
    )
    app = sts.find_app(state, params.get("client_id"))
    redirect = params.get("redirect_uri", "")
    if not _redirect_allowed(app, redirect):
        raise OAuthError(
            400,
            "invalid_request",
            50011,
            f"The redirect URI '{redirect}' does not match the app's redirect URIs.",
        )
    if params.get("response_mode", "query") not in ("query", "fragment", "form_post"):
        raise OAuthError(400, "invalid_request", 900144, "response_mode is not supported.")
    if params.get("response_type", "code") != "code":
        raise OAuthError(400, "unsupported_response_type", 700054, "Only 'code' is supported.")
    sts.parse_claims(params.get("claims"))  # well-formed; the sign-in below satisfies it
    hidden = {k: params[k] for k in _AUTH_KEYS if k in params}
    hint = html.escape(params.get("login_hint", ""))
    if request.method == "GET":
        return _page("Sign in", hidden, _LOGIN.format(hint=hint), extra=_CANCEL)
    if params.get("action") == "decline":  # Entra's answer when the user cancels
        return _reply(
            redirect,
            params,
            {"error": "access_denied", "error_description": "AADSTS65004: User declined."},
        )
    user = sts.sign_in(state, params.get("username", ""), params.get("password", ""))
    if user is None:
        return _page(
            "Sign in",
            hidden,
            _LOGIN.format(hint=hint),
            "Your account or password is incorrect.",
            _CANCEL,
        )
    scopes = params.get("scope", "").split()
    sts.delegated_scopes(" ".join(scopes))
    sts.purge_expired(state)
    code = secrets.token_urlsafe(32)
    state.auth_codes[code] = PendingCode(
        client_id=app.client_id,
        scopes=scopes,
        expires=state.now() + CODE_LIFETIME,
        user_id=user.id,
        redirect_uri=redirect,
        challenge=params.get("code_challenge"),
        challenge_method=params.get("code_challenge_method"),
        nonce=params.get("nonce"),
        extra=sts.signed_in_now(state),
    )
    return _reply(redirect, params, {"code": code})


_CANCEL = ' <button type="submit" name="action" value="decline" formnovalidate>Cancel</button>'


def _reply(redirect: str, params: dict[str, str], answer: dict[str, str]) -> Response:
    """Send ``answer`` (a code or an error, plus the state) back to the app's redirect URI."""
    reply = {**answer, **({"state": params["state"]} if "state" in params else {})}
    mode = params.get("response_mode", "query")
    if mode == "form_post":  # what MSAL recommends: the code travels in a POST body
        fields = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in reply.items()
        )
        return HTMLResponse(
            f'<!doctype html><body onload="document.forms[0].submit()"><form method="post" '
            f'action="{html.escape(redirect)}">{fields}<noscript><button>Continue</button>'
            "</noscript></form></body>"
        )
    joiner = "#" if mode == "fragment" else "?"
    return RedirectResponse(f"{redirect}{joiner}{urlencode(reply)}", status_code=302)


_DEVICE_FIELDS = '<p><label>Code <input name="user_code" value="{code}"></label></p>' + _LOGIN
_DECLINE = ' <button type="submit" name="action" value="decline">Cancel</button>'


async def device_login(request: Request) -> Response:
    state = emu(request)
    if request.method == "GET":
        return _page("Enter code", {}, _DEVICE_FIELDS.format(code="", hint=""), extra=_DECLINE)
    form = {k: str(v) for k, v in (await request.form()).items()}
    entered = form.get("user_code", "").strip().upper()
    pending = next(
        (
            p
            for p in state.device_codes.values()
            if p.user_code == entered and p.expires >= state.now()
        ),
        None,
    )
    fields = _DEVICE_FIELDS.format(code=html.escape(entered), hint="")
    if pending is None:
        return _page("Enter code", {}, fields, "That code is unknown or has expired.", _DECLINE)
    if form.get("action") == "decline":
        pending.declined = True
        return _page("Cancelled", {}, "", "You declined the sign-in; close this window.")
    user = sts.sign_in(state, form.get("username", ""), form.get("password", ""))
    if user is None:
        return _page("Enter code", {}, fields, "Your account or password is incorrect.", _DECLINE)
    pending.user_id = user.id
    pending.extra.update(sts.signed_in_now(state))
    return HTMLResponse("<!doctype html><p>You have signed in. You may close this window.</p>")


routes = [
    Route("/{tenant}/oauth2/v2.0/authorize", authorize, methods=["GET", "POST"]),
    Route("/devicelogin", device_login, methods=["GET", "POST"]),
]
