"""The Entra ID side of sign-in: start an authorization code flow with PKCE through MSAL, finish
it, and check the ID token before anyone is signed in.

Why: MSAL does state, nonce and PKCE but (since 1.38) no longer validates the ID token, so this
module checks its signature against the tenant's published keys, its issuer (from discovery),
audience (our client id), lifetime and tenant (``tid``: our tenant's id, or the token is from
another directory), and requires the user's object id (``oid``): accounts are bound to
``tid`` + ``oid``, never to a UPN, which can be renamed or given to someone else. The same code
talks to real Entra or the emulator: only the authority host and an extra trusted CA differ, and
our own ``requests.Session`` (with ``trust_env=False``) makes sure ``REQUESTS_CA_BUNDLE`` cannot
silently replace that CA.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

import jwt
import msal
import requests

from oathdesk.domain import OathdeskError
from oathdesk.web.settings import EntraSettings

log = logging.getLogger("oathdesk.web.oidc")
LEEWAY = 120  # seconds of clock skew tolerated on exp/nbf/iat, as MSAL does
FLOW_KEYS = ("state", "redirect_uri", "scope", "code_verifier", "nonce")
GUID_RE = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


class EntraSignInError(OathdeskError):
    """The Entra sign-in did not complete; the message says what the person can do."""

    code = "auth.entra_failed"


@dataclass(frozen=True)
class EntraIdentity:
    """Who Entra signed in, after every check: the immutable tenant and object ids (what the
    account is bound to), the UPN (what it is named), and the app role values in the token."""

    upn: str
    display_name: str
    role_values: tuple[str, ...]
    tenant_id: str = ""
    object_id: str = ""
    auth_time: float | None = None  # when Entra last authenticated the user, if it says


class _NoCache(msal.TokenCache):  # type: ignore[misc]
    """Sign-in needs the ID token once; keeping every user's tokens would only grow memory."""

    def add(self, event: Any, now: Any = None) -> None:
        return None


class EntraClient:
    """One app registration's sign-in: MSAL (built on first use: it talks to the network) and
    the tenant's signing keys (fetched on first use and again when a key id is unknown)."""

    def __init__(self, settings: EntraSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._app: Any = None
        self._meta: dict[str, Any] | None = None
        self._keys: dict[str, Any] = {}

    def _http(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # no proxy or CA bundle from the environment overrides ours
        if self.settings.ca_file is not None:
            session.verify = str(self.settings.ca_file)
        return session

    def _msal(self) -> Any:
        with self._lock:
            if self._app is None:
                try:
                    self._app = msal.ConfidentialClientApplication(
                        self.settings.client_id,
                        client_credential=self.settings.client_secret.reveal().decode(),
                        authority=self.settings.authority,
                        instance_discovery=False,
                        http_client=self._http(),
                        token_cache=_NoCache(),
                        exclude_scopes=["offline_access"],
                    )
                except (ValueError, requests.RequestException) as exc:
                    log.warning("Entra sign-in unavailable: %s", type(exc).__name__)
                    raise _unreachable() from None
            return self._app

    def start(self, redirect_uri: str, claims: str | None = None) -> tuple[str, dict[str, Any]]:
        """(the URL to send the browser to, what must be kept until the callback). Entra posts
        its reply (``form_post``, RFC 9700 4.3.1): the code never sits in a URL or history.
        ``claims`` (a claims challenge's JSON) asks Entra to sign the user in again
        (``prompt=login``) with those claims: the self-service MFA re-prompt."""
        again: dict[str, Any] = {"claims_challenge": claims, "prompt": "login"} if claims else {}
        flow = self._msal().initiate_auth_code_flow(
            [], redirect_uri=redirect_uri, response_mode="form_post", **again
        )
        return str(flow["auth_uri"]), {k: flow[k] for k in FLOW_KEYS}

    def finish(self, flow: dict[str, Any], reply: dict[str, str]) -> EntraIdentity:
        """Check the reply against the kept flow, redeem the code, check the ID token."""
        if reply.get("error"):
            raise _reply_error(reply)
        try:
            result = self._msal().acquire_token_by_auth_code_flow(dict(flow), reply)
        except ValueError:  # state mismatch or a reply without code: not our sign-in
            raise EntraSignInError(
                "This sign-in reply does not belong to the sign-in this browser started; "
                "start again.",
                code="auth.entra_state",
            ) from None
        except RuntimeError:  # nonce mismatch: the ID token was made for another sign-in
            raise _bad_token("it answers another sign-in request") from None
        except requests.RequestException as exc:
            log.warning("Entra token endpoint unreachable: %s", type(exc).__name__)
            raise _unreachable() from None
        if "error" in result:
            log.warning("Entra refused the code: %s", result.get("error"))
            raise EntraSignInError(
                f"Entra ID refused to complete the sign-in ({result.get('error')}); start again.",
                code="auth.entra_refused",
            )
        claims = self.validate(str(result.get("id_token", "")))  # MSAL checked the nonce
        upn = str(claims.get("upn") or claims.get("preferred_username") or "")
        roles = claims.get("roles") or []
        if not upn or not isinstance(roles, list):
            raise _bad_token("it names no user")
        return EntraIdentity(
            upn=upn,
            display_name=str(claims.get("name") or upn),
            role_values=tuple(str(r) for r in roles),
            tenant_id=str(claims["tid"]).lower(),
            object_id=str(claims["oid"]).lower(),
            auth_time=_number(claims.get("auth_time")),
        )

    def tenant_id(self) -> str:
        """Our tenant's id: the configured tenant when it is a GUID, else the one in the
        issuer Entra's discovery document names (a domain name is configured)."""
        if GUID_RE.fullmatch(self.settings.tenant):
            return self.settings.tenant.lower()
        found = GUID_RE.search(str(self._metadata().get("issuer", "")))
        return found.group(0).lower() if found else self.settings.tenant.lower()

    def _metadata(self) -> dict[str, Any]:
        if self._meta is None:
            url = f"{self.settings.authority}/v2.0/.well-known/openid-configuration"
            self._meta = self._get_json(url)
        return self._meta

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            with self._http() as http:
                response = http.get(url, timeout=15)
            response.raise_for_status()
            data = response.json()
        except (requests.RequestException, ValueError) as exc:
            log.warning("Entra metadata unreachable: %s", type(exc).__name__)
            raise _unreachable() from None
        if not isinstance(data, dict):
            raise _unreachable()
        return data

    def _key(self, kid: str) -> Any:
        if kid not in self._keys:  # a new kid: Entra rolled its keys, fetch them again
            jwks = self._get_json(str(self._metadata()["jwks_uri"]))
            self._keys = {
                str(k.get("kid")): jwt.PyJWK.from_json(json.dumps(k)).key
                for k in jwks.get("keys", [])
                if isinstance(k, dict) and k.get("kty") == "RSA"
            }
        if kid not in self._keys:
            raise _bad_token("it is signed by a key Entra does not publish")
        return self._keys[kid]

    def validate(self, token: str) -> dict[str, Any]:
        """The ID token's claims if signature, issuer, audience, lifetime and tenant are right
        and it carries the user's object id."""
        try:
            header = jwt.get_unverified_header(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key(str(header.get("kid", ""))),
                algorithms=["RS256"],
                audience=self.settings.client_id,
                issuer=str(self._metadata().get("issuer", "")),
                leeway=LEEWAY,
                options={"require": ["iss", "aud", "exp", "iat", "sub", "tid", "oid"]},
            )
        except jwt.PyJWTError as exc:
            raise _bad_token(type(exc).__name__) from None
        if str(claims["tid"]).lower() != self.tenant_id():
            log.warning("Entra ID token refused: it is from another tenant")
            raise EntraSignInError(
                "This Microsoft account belongs to another organisation; sign in with an "
                "account of this organisation.",
                code="auth.entra_wrong_tenant",
            )
        if not str(claims["oid"]).strip():
            raise _bad_token("it names no user")
        return claims


def _number(value: object) -> float | None:
    try:
        return float(value) if isinstance(value, int | float | str) else None
    except ValueError:
        return None


def _bad_token(why: str) -> EntraSignInError:
    log.warning("Entra ID token refused: %s", why)
    return EntraSignInError(
        f"The identity token from Entra ID was refused ({why}); start again, and tell your "
        "administrator if this keeps happening.",
        code="auth.entra_bad_token",
    )


def _unreachable() -> EntraSignInError:
    return EntraSignInError(
        "Entra ID cannot be reached right now; try again shortly or use a local account.",
        code="auth.entra_unreachable",
    )


def _reply_error(reply: dict[str, str]) -> EntraSignInError:
    error = reply.get("error", "")
    if error == "access_denied":
        return EntraSignInError(
            "The sign-in with Microsoft was cancelled; you can start it again.",
            code="auth.entra_cancelled",
        )
    description = reply.get("error_description", "")[:200]
    return EntraSignInError(
        f"Entra ID did not sign you in ({error}{': ' + description if description else ''}).",
        code="auth.entra_refused",
    )
