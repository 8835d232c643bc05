"""The security token service's rules: who a client or user is, which scopes they get, and the
token responses MSAL expects (``access_token``, ``id_token``, ``client_info``, refresh tokens).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from oathdesk.emulator.errors import GraphError, OAuthError
from oathdesk.emulator.model import DELEGATED_PERMISSIONS, ROLE_IDS, App, User
from oathdesk.emulator.state import EmulatorState, PendingCode
from oathdesk.emulator.tokens import TOKEN_LIFETIME, access_token, client_info, id_token

GRAPH_RESOURCES = ("https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000")
RESERVED = {"openid", "profile", "offline_access", "email"}
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def find_app(state: EmulatorState, client_id: str | None) -> App:
    app = state.directory.apps.get(client_id or "")
    if app is None:
        raise OAuthError(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the "
            f"directory '{state.directory.tenant.id}'.",
        )
    return app


def _assertion_ok(state: EmulatorState, app: App, assertion: str) -> bool:
    for pem in app.certificates:
        try:
            key = x509.load_pem_x509_certificate(pem.encode()).public_key()
            if not isinstance(key, rsa.RSAPublicKey):
                continue
            claims = jwt.decode(
                assertion,
                key,
                algorithms=["RS256", "PS256"],
                options={
                    "verify_aud": False,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except (ValueError, jwt.PyJWTError):
            continue
        fresh = float(claims.get("exp", 0)) > state.now() - 300
        aimed = str(claims.get("aud", "")).endswith("/oauth2/v2.0/token")
        if claims.get("iss") == app.client_id == claims.get("sub") and fresh and aimed:
            return True
    return False


def authenticate_client(state: EmulatorState, form: dict[str, str], *, confidential: bool) -> App:
    """Check the client's secret or assertion; public flows may present neither."""
    app = find_app(state, form.get("client_id"))
    secret, assertion = form.get("client_secret"), form.get("client_assertion")
    if assertion is not None:
        if form.get("client_assertion_type") != ASSERTION_TYPE or not _assertion_ok(
            state, app, assertion
        ):
            raise OAuthError(
                401,
                "invalid_client",
                700027,
                "Client assertion failed signature validation or has expired.",
            )
        return app
    if secret is not None:
        if app.client_secret is None or not hmac.compare_digest(
            secret.encode(), app.client_secret.encode()
        ):
            raise OAuthError(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in "
                f"the request is the client secret value for app '{app.client_id}'.",
            )
        return app
    if confidential or not app.public_client:
        raise OAuthError(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: "
            "'client_assertion' or 'client_secret'.",
        )
    return app


def app_scope(scope: str) -> None:
    wanted = scope.split()
    if len(wanted) != 1 or not any(wanted[0] == f"{r}/.default" for r in GRAPH_RESOURCES):
        raise OAuthError(
            400,
            "invalid_scope",
            1002012,
            "The provided value for scope is not valid. Client credential flows "
            "must have a scope value with /.default suffixed to the resource "
            "identifier: https://graph.microsoft.com/.default",
        )


def delegated_scopes(scope: str) -> list[str]:
    """Requested scopes → granted Graph scopes (consent is assumed granted in the emulator)."""
    granted: list[str] = []
    for raw in scope.split():
        name = raw
        for resource in GRAPH_RESOURCES:
            name = name.removeprefix(f"{resource}/")
        if name in RESERVED:
            continue
        if name == ".default":
            granted.extend(DELEGATED_PERMISSIONS)
        elif name in DELEGATED_PERMISSIONS:
            granted.append(name)
        else:
            raise OAuthError(
                400,
                "invalid_scope",
                70011,
                f"The provided value for the input parameter 'scope' is not valid. "
                f"The scope '{raw}' does not exist.",
            )
    return list(dict.fromkeys(granted))


def app_token_response(state: EmulatorState, app: App) -> dict[str, Any]:
    token = access_token(
        state.signing_key,
        tenant_id=state.directory.tenant.id,
        app_id=app.client_id,
        now=state.now(),
        object_id=_app_object_id(app),
        roles=list(app.roles),
    )
    return {
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME,
        "ext_expires_in": TOKEN_LIFETIME,
        "access_token": token,
    }


def _app_object_id(app: App) -> str:
    digest = hashlib.sha256(f"sp:{app.client_id}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def user_token_response(
    state: EmulatorState,
    app: App,
    user: User,
    requested: list[str],
    granted: list[str],
    issuer: str,
    nonce: str | None,
    signed_in: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Access, ID and refresh tokens for ``user``; ``signed_in`` (``auth_time``, ``amr``) is
    when and how the user last signed in interactively, carried unchanged by refresh tokens:
    a refresh is not a sign-in, so it does not satisfy the ``/me`` re-prompt."""
    signed_in = signed_in or {}
    now, tid = state.now(), state.directory.tenant.id
    role_ids = [ROLE_IDS[r] for r in user.roles if r in ROLE_IDS]
    auth_time = float(signed_in.get("auth_time", now))
    amr = [str(m) for m in signed_in.get("amr", ["pwd", "mfa"])]
    result: dict[str, Any] = {
        "token_type": "Bearer",
        "scope": " ".join(f"https://graph.microsoft.com/{s}" for s in granted),
        "expires_in": TOKEN_LIFETIME,
        "ext_expires_in": TOKEN_LIFETIME,
        "access_token": access_token(
            state.signing_key,
            tenant_id=tid,
            app_id=app.client_id,
            now=now,
            object_id=user.id,
            scopes=granted,
            role_ids=role_ids,
            upn=user.user_principal_name,
            name=user.display_name,
            signed_in=(auth_time, amr),
        ),
        "client_info": client_info(user.id, tid),
    }
    if "openid" in requested:
        result["id_token"] = id_token(
            state.signing_key,
            issuer=issuer,
            tenant_id=tid,
            client_id=app.client_id,
            now=now,
            object_id=user.id,
            upn=user.user_principal_name,
            name=user.display_name,
            nonce=nonce,
            roles=user.app_roles.get(app.client_id),
            auth_time=auth_time,
        )
    if "offline_access" in requested:
        refresh = secrets.token_urlsafe(32)
        state.auth_codes[f"rt:{refresh}"] = PendingCode(
            client_id=app.client_id,
            scopes=requested,
            expires=now + 90 * 86400,
            user_id=user.id,
            extra={"auth_time": auth_time, "amr": amr},
        )
        result["refresh_token"] = refresh
    return result


def purge_expired(state: EmulatorState) -> None:
    """Forget codes an hour past their lifetime (until then a poll still hears
    ``expired_token``), so a long-running emulator does not grow."""
    cutoff = state.now() - 3600
    for codes in (state.auth_codes, state.device_codes):
        for key in [k for k, v in codes.items() if v.expires < cutoff]:
            del codes[key]


def check_pkce(pending: PendingCode, verifier: str | None) -> None:
    if pending.challenge is None:
        return
    if not verifier:
        raise OAuthError(
            400,
            "invalid_grant",
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the "
            "authorization request.",
        )
    if (pending.challenge_method or "plain").upper() == "S256":
        computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        expected = computed.decode().rstrip("=")
    else:
        expected = verifier
    if not hmac.compare_digest(expected.encode(), pending.challenge.encode()):
        raise OAuthError(
            400,
            "invalid_grant",
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the "
            "authorization request.",
        )


def parse_claims(claims: str | None) -> dict[str, Any]:
    """The ``claims`` request parameter (OIDC §5.5: a JSON object), {} when absent."""
    if not claims:
        return {}
    try:
        wanted = json.loads(claims)
    except ValueError:
        wanted = None
    if not isinstance(wanted, dict):
        raise OAuthError(
            400, "invalid_request", 90014, "The claims parameter is not a valid JSON object."
        )
    return wanted


def requested_max_age(wanted: dict[str, Any]) -> int | None:
    """The ``access_token.max_age`` a claims request asks for (the ``/me`` re-prompt's)."""
    asked = wanted.get("access_token")
    entry = asked.get("max_age") if isinstance(asked, dict) else None
    value = entry.get("value") if isinstance(entry, dict) else None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def signed_in_now(state: EmulatorState) -> dict[str, Any]:
    """What an interactive sign-in records for the tokens it leads to: now, password + MFA
    (the emulator's sign-in page stands for both)."""
    return {"auth_time": state.now(), "amr": ["pwd", "mfa"]}


def sign_in(state: EmulatorState, username: str, password: str) -> User | None:
    try:
        user = state.directory.user(username.strip())
    except GraphError:  # an unknown name is just a failed sign-in
        return None
    if user.password is None or not hmac.compare_digest(user.password.encode(), password.encode()):
        return None
    return user
