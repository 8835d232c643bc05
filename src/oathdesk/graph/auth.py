"""Access tokens for Graph through MSAL: client secret, certificate, or device code (delegated).

MSAL is built lazily (it talks to the network in its constructor) with our own
``requests.Session``: ``REQUESTS_CA_BUNDLE`` would otherwise silently override the CA we trust
for the emulator. Tokens are kept until five minutes before they expire.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

import requests

from oathdesk.domain import Clock, InputFileError, SystemClock
from oathdesk.domain.wording import clause
from oathdesk.graph.errors import GraphAuthError, GraphUnavailable
from oathdesk.graph.settings import GraphSettings

log = logging.getLogger("oathdesk.graph")
REFRESH_MARGIN = 300.0


class TokenSource(Protocol):
    def token(self) -> str: ...

    def invalidate(self) -> None: ...


class StaticToken:
    """A fixed bearer token (tests, or a token obtained elsewhere)."""

    def __init__(self, value: str) -> None:
        self._value = value

    def token(self) -> str:
        return self._value

    def invalidate(self) -> None:
        """Nothing to refresh."""

    def __repr__(self) -> str:
        return "StaticToken(<redacted>)"


def http_session(settings: GraphSettings) -> requests.Session:
    session = requests.Session()
    if settings.ca_file is not None:
        session.verify = str(settings.ca_file)
        session.trust_env = False  # REQUESTS_CA_BUNDLE must not override our CA
    return session


def certificate_credential(path: Any) -> dict[str, str]:
    """MSAL's certificate credential from a PEM file holding the private key and certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(
            f"{path}: cannot read the certificate file ({exc.strerror})."
        ) from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
        cert = x509.load_pem_x509_certificate(data)
    except (ValueError, TypeError):
        raise GraphAuthError(
            f"{path}: the certificate file must hold an unencrypted PEM private key and its "
            "PEM certificate.",
            code="graph.auth.bad_certificate",
        ) from None
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    thumbprint = cert.fingerprint(hashes.SHA1()).hex()  # noqa: S303 - x5t is SHA-1 by definition
    return {"private_key": key_pem, "thumbprint": thumbprint}


class MsalTokenSource:
    """App-only (secret or certificate) or delegated (device code) tokens from MSAL."""

    def __init__(
        self,
        settings: GraphSettings,
        *,
        device_code: bool = False,
        prompt: Callable[[str], None] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.device_code = device_code
        self._prompt = prompt or (lambda message: log.warning("%s", message))
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._app: Any = None
        self._http: requests.Session | None = None
        self._cached: tuple[str, float] | None = None
        self._claims: str | None = None  # a claims challenge the next token must answer

    def __repr__(self) -> str:
        kind = "device-code" if self.device_code else "app"
        return f"MsalTokenSource({kind}, client_id={self.settings.client_id!r})"

    def _build(self) -> Any:
        import msal  # type: ignore[import-untyped, unused-ignore]

        s = self.settings
        self._http = http_session(s)
        common: dict[str, Any] = {
            "authority": s.authority,
            "http_client": self._http,
            "instance_discovery": s.authority_host.rstrip("/")
            in ("https://login.microsoftonline.com",),
        }
        try:
            if self.device_code:
                return msal.PublicClientApplication(s.client_id, **common)
            credential: Any
            if s.certificate_file is not None:
                credential = certificate_credential(s.certificate_file)
            elif s.client_secret is not None:
                credential = s.client_secret.reveal().decode()
            else:
                raise GraphAuthError("No client secret or certificate is configured.")
            return msal.ConfidentialClientApplication(
                s.client_id, client_credential=credential, **common
            )
        except ValueError as exc:
            raise GraphAuthError(
                f"Cannot use the authority {s.authority}: {clause(str(exc)[:200])}.",
                code="graph.auth.authority",
            ) from None
        except requests.RequestException as exc:
            raise GraphUnavailable(
                f"Cannot reach the sign-in service at {s.authority_host} ({type(exc).__name__})."
            ) from None

    def _acquire(self) -> dict[str, Any]:
        if self._app is None:
            self._app = self._build()
        app = self._app
        try:
            claims: dict[str, Any] = {"claims_challenge": self._claims} if self._claims else {}
            if not self.device_code:
                result: dict[str, Any] = app.acquire_token_for_client(
                    self.settings.app_scopes, **claims
                )
                return result
            scopes = self.settings.delegated_scopes
            accounts = app.get_accounts()
            if accounts:  # with claims, MSAL skips its cache and asks Entra (refresh token)
                silent = app.acquire_token_silent(scopes, account=accounts[0], **claims)
                if silent and "access_token" in silent:
                    return dict(silent)
            flow = app.initiate_device_flow(scopes=scopes, **claims)
            if "user_code" not in flow:
                return dict(flow)
            self._prompt(str(flow.get("message", "")))
            return dict(app.acquire_token_by_device_flow(flow))
        except requests.RequestException as exc:
            raise GraphUnavailable(
                f"Cannot reach the sign-in service at {self.settings.authority_host} "
                f"({type(exc).__name__})."
            ) from None

    def token(self) -> str:
        with self._lock:
            now = self._clock.monotonic()  # expiry is a lifetime from now: a duration
            if self._cached is not None and self._cached[1] - REFRESH_MARGIN > now:
                return self._cached[0]
            result = self._acquire()
            if "access_token" not in result:
                error = str(result.get("error") or "unknown_error")
                description = str(result.get("error_description") or "").splitlines()
                first = description[0][:200] if description else ""
                raise GraphAuthError(
                    f"sign-in to {self.settings.authority} failed: {error}"
                    + (f" ({first})" if first else "")
                    + "; check tenant_id, client_id and the credential",
                    graph_code=error,
                )
            expires_in = float(result.get("expires_in") or 3599)
            self._claims = None  # answered
            self._cached = (str(result["access_token"]), now + expires_in)
            log.debug("graph: new access token, valid %.0f s", expires_in)
            return self._cached[0]

    def invalidate(self) -> None:
        with self._lock:
            self._cached = None

    def answer_challenge(self, claims: str) -> None:
        """Make the next token answer a claims challenge (``GraphClaimsChallenge.claims``):
        the cached token is dropped, and MSAL is asked with ``claims_challenge``; a delegated
        source whose refresh cannot satisfy it signs the user in again (device code)."""
        with self._lock:
            self._cached = None
            self._claims = claims

    def close(self) -> None:
        """Close the sign-in connections (a server shutting down waits for them)."""
        with self._lock:
            if self._http is not None:
                self._http.close()
