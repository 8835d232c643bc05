"""Sign-in with Entra ID (``/signin/entra`` and its callback) and the API tokens automation uses
(``/api/v1/api-tokens``, administrators only).

Why: people should sign in with their organisation account, with the roles Entra's app role
assignments give them, while local accounts stay for break-glass; scripts get scoped, expiring,
revocable tokens instead of a person's password. Any failure of the Entra leg lands on the
sign-in page with a readable message, never a stack trace. The callback is open to anyone, so a
failed reply that names nobody (no flow cookie, wrong state, an error from Entra, a bad token)
is counted per client address and answered with a coded 429 past the limit
(``service.entra_signin``); the account is bound to the Entra user's ``tid`` + ``oid``.
"""

from __future__ import annotations

import json
import threading
from typing import Annotated, Any

from fastapi import APIRouter, Body, Form, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import RedirectResponse, Response

from oathdesk.domain import OathdeskError
from oathdesk.http import client_address, start_session
from oathdesk.http.csrf import NONCE
from oathdesk.service.api_tokens import (
    DEFAULT_DAYS,
    MAX_DAYS,
    create_api_token,
    list_api_tokens,
    revoke_api_token,
)
from oathdesk.service.entra_signin import (
    EntraUser,
    callback_failed,
    check_callback,
    entra_refused,
    sign_in_entra,
)
from oathdesk.web.oidc import EntraClient, EntraIdentity, EntraSignInError
from oathdesk.web.oidc_cookie import oidc_flow, set_oidc_flow
from oathdesk.web.reauth import MAX_AGE, remember_sign_in
from oathdesk.web.routes_api import ErrorEnvelope
from oathdesk.web.routes_auth import safe_next, signin_form
from oathdesk.web.security import (
    OIDC,
    Admin,
    InventoryDep,
    MaybeSignedIn,
    SettingsDep,
    clear_cookie,
)
from oathdesk.web.settings import WebSettings

pages = APIRouter(include_in_schema=False)
router = APIRouter(prefix="/api/v1", tags=["auth"])
_LOCK = threading.Lock()


def _client(request: Request, settings: WebSettings) -> EntraClient:
    """The app's Entra client (one per app, made on first use)."""
    if settings.entra is None:
        raise EntraSignInError(
            "Sign-in with Microsoft is not configured on this server; use a local account.",
            code="auth.entra_not_configured",
        )
    with _LOCK:
        client: EntraClient | None = getattr(request.app.state, "entra_client", None)
        if client is None or client.settings is not settings.entra:
            client = EntraClient(settings.entra)
            request.app.state.entra_client = client
    return client


def _refused(
    request: Request,
    settings: WebSettings,
    error: OathdeskError,
    identity: EntraIdentity | None = None,
) -> Response:
    """The sign-in page with the reason; a failure that names nobody is counted (and audited
    once per window), one Entra completed for a known person is audited each time."""
    inv, address = request.app.state.inventory, client_address(request)
    if error.code == "auth.entra_throttled":
        pass  # refused before anything was looked at: counted and audited when the lock began
    elif identity is not None:
        entra_refused(inv, error.code, identity.upn, address=address)
    elif error.code != "auth.entra_unreachable":  # Entra being down is not the sender's doing
        callback_failed(inv, error.code, address=address)
    response = signin_form(request, error=error)
    clear_cookie(response, settings, settings.oidc_cookie)
    return response


def _claims(claims: str | None) -> str | None:
    """A claims request to pass on (a JSON object, as a claims challenge carries), or None."""
    if not claims:
        return None
    try:
        parsed = json.loads(claims)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise EntraSignInError(
            "The sign-in link is damaged (claims); start again.", code="auth.entra_failed"
        )
    return json.dumps(parsed, separators=(",", ":"))


ClaimsQuery = Annotated[str | None, Query(max_length=2000)]


@pages.get("/signin/entra")
def entra_start(
    request: Request,
    settings: SettingsDep,
    principal: MaybeSignedIn,
    next: str | None = None,
    claims: ClaimsQuery = None,
) -> Response:
    """Start the authorization code flow (PKCE, state, nonce by MSAL) and go to Entra;
    ``claims`` (the self-service re-prompt's) makes Entra sign the user in again."""
    try:
        client = _client(request, settings)
        redirect_uri = client.settings.redirect_uri or str(request.url_for("entra_callback"))
        wanted = _claims(claims)
        url, flow = client.start(redirect_uri, wanted)
    except EntraSignInError as exc:
        return signin_form(request, next_path=safe_next(next), error=exc)
    flow["next"] = safe_next(next)
    flow["again"] = wanted is not None
    response = RedirectResponse(url, status_code=303)
    set_oidc_flow(response, settings, flow, request.app.state.inventory.now())
    return response


ReplyField = Annotated[str | None, Form(max_length=4096)]


@pages.post("/signin/entra/callback", name="entra_callback")
def entra_callback(
    request: Request,
    inv: InventoryDep,
    settings: SettingsDep,
    previous: MaybeSignedIn,
    code: ReplyField = None,
    state: ReplyField = None,
    client_info: ReplyField = None,
    error: ReplyField = None,
    error_description: ReplyField = None,
) -> Response:
    """Finish the flow Entra posts back to: state, code, ID token; then the account and a
    normal session. No CSRF token here: the state bound to this browser's cookie is the check."""
    sent = {
        "code": code,
        "state": state,
        "client_info": client_info,
        "error": error,
        "error_description": error_description,
    }
    reply = {k: v for k, v in sent.items() if v is not None}
    address = client_address(request)
    identity: EntraIdentity | None = None
    try:
        check_callback(inv, address=address)
        client = _client(request, settings)
        flow = oidc_flow(request, inv.now())
        if flow is None:
            raise EntraSignInError(
                "This sign-in expired or was started in another browser; start again.",
                code="auth.entra_state",
            )
        next_path = safe_next(str(flow.pop("next", "")))
        again = bool(flow.pop("again", False))
        identity = client.finish(flow, reply)
        now = inv.now().timestamp()
        auth_time = min(identity.auth_time or now, now)
        if again and now - auth_time > MAX_AGE:  # asked to sign in again, and it did not
            raise EntraSignInError(
                "Microsoft did not sign you in again; sign out, then sign in with Microsoft.",
                code="auth.entra_not_fresh",
            )
        who = EntraUser(identity.tenant_id, identity.object_id, identity.upn)
        roles = client.settings.roles_for(list(identity.role_values))
        account = sign_in_entra(inv, who, roles, address=address)
    except OathdeskError as exc:
        return _refused(request, settings, exc, identity)
    mine = next_path == "/me" or next_path.startswith(("/me/", "/me?"))  # self-service
    target = next_path if account.roles or mine else "/me"
    response = start_session(request, account.name, previous, target, clear=(OIDC, NONCE))
    remember_sign_in(response, settings, account.name, auth_time, inv.now())
    return response


class NewApiToken(BaseModel):
    """What to create: a unique name, the roles it carries, how many days it lives."""

    name: str = Field(min_length=1, max_length=100)
    roles: list[str] = Field(min_length=1, max_length=8)
    expires_days: int = Field(default=DEFAULT_DAYS, ge=1, le=MAX_DAYS)


@router.get("/api-tokens")
def api_tokens(inv: InventoryDep, principal: Admin) -> dict[str, Any]:
    """Every API token, revoked and expired ones included; never a value or hash."""
    now = inv.now()
    return {"items": [t.to_dict(now) for t in list_api_tokens(inv)]}


MAX_ID = 2**63 - 1  # ids are 64-bit integers in the database


@router.post(
    "/api-tokens",
    status_code=201,
    responses={
        400: {"model": ErrorEnvelope, "description": "A bad name, role or lifetime."},
        409: {"model": ErrorEnvelope, "description": "A token with that name exists."},
    },
)
def api_token_create(
    inv: InventoryDep, principal: Admin, body: Annotated[NewApiToken, Body()]
) -> dict[str, Any]:
    """A new token; ``token`` (its value) is in this answer only: store it now."""
    value, view = create_api_token(
        inv, body.name, body.roles, actor=principal.actor, days=body.expires_days
    )
    return {**view.to_dict(inv.now()), "token": value.reveal().decode()}


@router.delete(
    "/api-tokens/{token_id}",
    responses={404: {"model": ErrorEnvelope, "description": "No token has that id."}},
)
def api_token_revoke(
    token_id: Annotated[int, Path(ge=1, le=MAX_ID, description="The token's id.")],
    inv: InventoryDep,
    principal: Admin,
) -> dict[str, Any]:
    """Revoke a token at once; revoking it again changes nothing."""
    view = revoke_api_token(inv, token_id, actor=principal.actor)
    return view.to_dict(inv.now())
