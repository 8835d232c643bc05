"""Routes of the emulated identity platform: OIDC discovery, JWKS, the device-code start and the
token endpoint (client credentials, authorization code with PKCE, device code, refresh)."""

from __future__ import annotations

import base64
import contextlib
import secrets
import string
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from oathdesk.domain.clock import utc
from oathdesk.emulator import identity as sts
from oathdesk.emulator.common import emu
from oathdesk.emulator.errors import OAuthError
from oathdesk.emulator.model import App
from oathdesk.emulator.state import EmulatorState, PendingCode

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CODE_LIFETIME, DEVICE_LIFETIME, DEVICE_INTERVAL = 600, 900, 5


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def tenant_of(request: Request) -> str:
    state = emu(request)
    given = request.path_params["tenant"].lower()
    tenant = state.directory.tenant
    if given not in (tenant.id.lower(), tenant.domain.lower(), "organizations", "common"):
        raise OAuthError(
            400,
            "invalid_tenant",
            90002,
            f"Tenant '{given}' not found. Check the tenant id or domain.",
        )
    return tenant.id


def oauth_error_response(exc: OAuthError, now: float) -> JSONResponse:
    """The STS error body; ``now`` (the emulator's time) stamps it."""
    trace = secrets.token_hex(16)
    return JSONResponse(
        {
            "error": exc.error,
            "error_description": exc.message,
            "error_codes": [exc.aadsts],
            "timestamp": utc(now).strftime("%Y-%m-%d %H:%M:%SZ"),
            "trace_id": trace,
            "correlation_id": trace,
        },
        status_code=exc.status,
    )


async def discovery(request: Request) -> Response:
    tid, base = tenant_of(request), _base(request)
    oauth = f"{base}/{tid}/oauth2/v2.0"
    return JSONResponse(
        {
            "issuer": f"{base}/{tid}/v2.0",
            "authorization_endpoint": f"{oauth}/authorize",
            "token_endpoint": f"{oauth}/token",
            "device_authorization_endpoint": f"{oauth}/devicecode",
            "jwks_uri": f"{base}/{tid}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "nonce",
                "name",
                "tid",
                "oid",
                "preferred_username",
                "roles",
            ],
            "request_uri_parameter_supported": False,
            "tenant_region_scope": "WW",
            "cloud_instance_name": "microsoftonline.com",
            "msgraph_host": "graph.microsoft.com",
        }
    )


async def jwks(request: Request) -> Response:
    tenant_of(request)
    return JSONResponse({"keys": [emu(request).signing_key.jwk()]})


def _pop(codes: dict[str, PendingCode], key: str, now: float) -> PendingCode:
    pending = codes.pop(key, None)
    if pending is None or pending.expires < now:
        raise OAuthError(
            400,
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired or was "
            "already used. Send a new interactive authorization request.",
        )
    return pending


async def token(request: Request) -> Response:
    tid = tenant_of(request)
    state = emu(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    scheme, _, basic = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":  # client_secret_basic
        with contextlib.suppress(ValueError):
            user, _, password = base64.b64decode(basic).decode().partition(":")
            form.setdefault("client_id", unquote(user))
            form.setdefault("client_secret", unquote(password))
    grant = form.get("grant_type", "")
    issuer = f"{_base(request)}/{tid}/v2.0"
    if grant == "client_credentials":
        app = sts.authenticate_client(state, form, confidential=True)
        sts.app_scope(form.get("scope", ""))
        return JSONResponse(sts.app_token_response(state, app))
    if grant in ("authorization_code", "refresh_token"):
        app = sts.authenticate_client(state, form, confidential=False)
        key = (
            form.get("code", "")
            if grant == "authorization_code"
            else f"rt:{form.get('refresh_token', '')}"
        )
        pending = _pop(state.auth_codes, key, state.now())
        if pending.client_id != app.client_id:
            raise OAuthError(400, "invalid_grant", 70000, "The code was issued to another app.")
        if grant == "authorization_code":
            if form.get("redirect_uri") != pending.redirect_uri:
                raise OAuthError(
                    400,
                    "invalid_grant",
                    50148,
                    "The redirect_uri does not match the one used to get the code.",
                )
            sts.check_pkce(pending, form.get("code_verifier"))
        else:
            _refresh_satisfies(state, pending, form.get("claims"))
        return _user_tokens(state, app, pending, issuer)
    if grant == DEVICE_GRANT:
        app = sts.authenticate_client(state, form, confidential=False)
        code = form.get("device_code") or form.get("code") or ""
        waiting = state.device_codes.get(code)
        if waiting is None or waiting.client_id != app.client_id:
            raise OAuthError(
                400,
                "bad_verification_code",
                70019,
                "The device code is not known; start the flow again.",
            )
        if waiting.expires < state.now():
            state.device_codes.pop(code, None)
            raise OAuthError(400, "expired_token", 70020, "The device code has expired.")
        if waiting.declined:
            state.device_codes.pop(code, None)
            raise OAuthError(400, "authorization_declined", 70000, "The user declined.")
        if waiting.user_id is None:
            raise OAuthError(
                400,
                "authorization_pending",
                70016,
                "The user has not finished signing in yet; keep polling.",
            )
        state.device_codes.pop(code, None)
        return _user_tokens(state, app, waiting, issuer)
    raise OAuthError(
        400,
        "unsupported_grant_type",
        70003,
        f"The grant type '{grant}' is not supported by the emulator.",
    )


def _user_tokens(state: EmulatorState, app: App, pending: PendingCode, issuer: str) -> Response:
    user = state.directory.users.get(pending.user_id or "")
    if user is None:
        raise OAuthError(400, "invalid_grant", 50034, "The user account no longer exists.")
    granted = sts.delegated_scopes(" ".join(pending.scopes))
    return JSONResponse(
        sts.user_token_response(
            state, app, user, pending.scopes, granted, issuer, pending.nonce, pending.extra
        )
    )


def _refresh_satisfies(state: EmulatorState, pending: PendingCode, claims: str | None) -> None:
    """A refresh carrying a claims request (MSAL sends the challenge's claims) cannot make a
    sign-in fresher: when the request asks for a ``max_age`` the original sign-in is past,
    the user must sign in again, as Entra answers ``interaction_required``."""
    wanted = sts.parse_claims(claims)
    max_age = sts.requested_max_age(wanted)
    signed_at = float(pending.extra.get("auth_time", 0))
    if max_age is not None and state.now() - signed_at > max_age:
        raise OAuthError(
            400,
            "interaction_required",
            50076,
            "The claims request needs a recent sign-in with multifactor authentication; "
            "the user must sign in interactively.",
        )


async def device_code(request: Request) -> Response:
    tenant_of(request)
    state = emu(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    app = sts.authenticate_client(state, form, confidential=False)
    scopes = form.get("scope", "").split()
    sts.delegated_scopes(" ".join(scopes))
    user_code = "".join(secrets.choice(string.ascii_uppercase) for _ in range(9))
    sts.purge_expired(state)
    code = secrets.token_urlsafe(48)
    state.device_codes[code] = PendingCode(
        client_id=app.client_id,
        scopes=scopes,
        expires=state.now() + DEVICE_LIFETIME,
        user_code=user_code,
    )
    uri = f"{_base(request)}/devicelogin"
    return JSONResponse(
        {
            "user_code": user_code,
            "device_code": code,
            "verification_uri": uri,
            "expires_in": DEVICE_LIFETIME,
            "interval": DEVICE_INTERVAL,
            "message": f"To sign in, use a web browser to open the page {uri} and enter the code "
            f"{user_code} to authenticate.",
        }
    )


routes = [
    Route("/{tenant}/v2.0/.well-known/openid-configuration", discovery, methods=["GET"]),
    Route("/{tenant}/discovery/v2.0/keys", jwks, methods=["GET"]),
    Route("/{tenant}/oauth2/v2.0/token", token, methods=["POST"]),
    Route("/{tenant}/oauth2/v2.0/devicecode", device_code, methods=["POST"]),
]
