"""Web console settings from ``[web]`` in ``oathdesk.toml`` (or ``OATHDESK_WEB_*``), with the
signing key kept in a file of its own.

Why: cookie signing and CSRF tokens need one secret shared by every server process and kept
across restarts (else every restart signs everybody out), but never in the configuration file
that gets pasted into tickets; it is made once, owner-only, in the data folder's ``keys/``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from oathdesk.config import Config
from oathdesk.domain import ConfigError, Secret
from oathdesk.service import HandoutSettings
from oathdesk.service.accounts import ROLES, ThrottlePolicy
from oathdesk.shared_settings import (
    DEFAULT_AUTHORITY_HOST,
    SESSION_IDLE,
    SESSION_LIFETIME,
    SessionRules,
    authority_host,
    ca_file,
)

KEY_FILE = "web-secret.key"
LOW_STOCK = 10  # tokens
UNACTIVATED_DAYS = 14


@dataclass(frozen=True)
class EntraSettings:
    """Sign-in with Entra ID (OIDC code flow with PKCE through MSAL): the app registration, where
    Entra is (``authority_host``: real Entra or the emulator), an extra CA to trust (emulator),
    and which app role value grants which console role."""

    tenant: str
    client_id: str
    client_secret: Secret = field(repr=False)
    authority_host: str = DEFAULT_AUTHORITY_HOST
    ca_file: Path | None = None
    redirect_uri: str | None = None  # None: this site's /signin/entra/callback
    role_values: dict[str, str] = field(
        default_factory=lambda: {f"oathdesk.{r}": r for r in ROLES}
    )  # app role value -> console role

    @property
    def authority(self) -> str:
        return f"{self.authority_host.rstrip('/')}/{self.tenant}"

    def roles_for(self, values: list[str]) -> list[str]:
        """The console roles an ID token's ``roles`` claim grants (unknown values grant none)."""
        granted = {self.role_values[v] for v in values if v in self.role_values}
        return [r for r in ROLES if r in granted]

    @classmethod
    def from_config(cls, config: Config) -> EntraSettings | None:
        """``[web] entra_*`` keys; None when ``entra_client_id`` is not set. Tenant, authority
        host and CA file default to ``[graph]``'s, so one emulator serves both."""

        client_id = config.text("web", "entra_client_id")
        if client_id is None:
            return None
        tenant = config.text("web", "entra_tenant") or config.text("graph", "tenant_id")
        secret = config.text("web", "entra_client_secret")
        secret_file = config.path("web", "entra_client_secret_file")
        if secret is None and secret_file is not None:
            try:
                secret = secret_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(
                    f"[web] entra_client_secret_file {secret_file}: cannot be read "
                    f"({exc.strerror}).",
                    code="config.entra_secret_unreadable",
                ) from None
        if not tenant or not secret:
            raise ConfigError(
                "Entra sign-in needs [web] entra_tenant (or [graph] tenant_id) and "
                "entra_client_secret or entra_client_secret_file besides entra_client_id.",
                code="config.entra_incomplete",
            )
        host = config.text("web", "entra_authority_host") or authority_host(config)
        if not host.startswith("https://"):
            raise ConfigError(
                f"[web] entra_authority_host (or [graph] authority_host) must be an https:// "
                f"URL, not {host!r}.",
                code="config.invalid_value",
            )
        ca = ca_file(config, "web", "entra_ca_file") or ca_file(config, "graph", "ca_file")
        values = {
            config.text("web", f"entra_{role}_role", f"oathdesk.{role}"): role for role in ROLES
        }
        return cls(
            tenant=tenant,
            client_id=client_id,
            client_secret=Secret(secret.encode()),
            authority_host=host,
            ca_file=ca,
            redirect_uri=config.text("web", "entra_redirect_uri"),
            role_values=values,
        )


@dataclass(frozen=True)
class AlertSettings:
    """When the dashboard warns: stock below ``low_stock`` tokens (``[web] alert_low_stock``;
    0 turns it off), a token assigned ``unactivated_days`` ago and still not activated
    (``[web] alert_unactivated_days``)."""

    low_stock: int = LOW_STOCK
    unactivated_days: int = UNACTIVATED_DAYS


@dataclass(frozen=True)
class WebSettings:
    """How the console signs, expires and throttles; the cookie and session fields follow
    :class:`SessionRules` (``secure_cookies=False`` only for plain HTTP on loopback)."""

    secret_key: Secret
    secure_cookies: bool = True
    session_lifetime: timedelta = SESSION_LIFETIME
    session_idle: timedelta = SESSION_IDLE
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    title: str = "oathdesk"
    entra: EntraSettings | None = None  # sign-in with Entra ID offered when set
    alerts: AlertSettings = field(default_factory=lambda: AlertSettings())
    graph_tenant_id: str | None = None  # [graph] tenant_id: the dashboard names the tenant
    handout: HandoutSettings = field(default_factory=lambda: HandoutSettings())  # [handout]

    @property
    def session_cookie(self) -> str:
        # __Host- cookies are refused by browsers unless Secure, path=/ and without a domain
        return "__Host-oathdesk_session" if self.secure_cookies else "oathdesk_session"

    @property
    def presession_cookie(self) -> str:
        return "__Host-oathdesk_pre" if self.secure_cookies else "oathdesk_pre"

    @property
    def oidc_cookie(self) -> str:
        """Holds a started Entra sign-in (state, PKCE verifier, nonce) for ten minutes."""
        return "__Host-oathdesk_oidc" if self.secure_cookies else "oathdesk_oidc"

    @classmethod
    def from_config(cls, config: Config) -> WebSettings:
        path = config.path("web", "secret_key_file", config.data_dir / "keys" / KEY_FILE)
        rules = SessionRules.from_config(config, "web")
        throttle = ThrottlePolicy()  # its defaults are the keys' defaults
        return cls(
            secret_key=load_or_create_key(path),
            secure_cookies=rules.secure_cookies,
            session_lifetime=rules.lifetime,
            session_idle=rules.idle,
            throttle=ThrottlePolicy(
                max_failures=config.integer("web", "signin_max_failures", throttle.max_failures),
                address_failures=config.integer(
                    "web", "signin_address_failures", throttle.address_failures
                ),
                window=throttle.window,
                lockout=config.duration(
                    "web", "signin_lockout_minutes", throttle.lockout, unit="minutes"
                ),
            ),
            entra=EntraSettings.from_config(config),
            alerts=AlertSettings(
                low_stock=config.integer("web", "alert_low_stock", LOW_STOCK, minimum=0),
                unactivated_days=config.integer(
                    "web", "alert_unactivated_days", UNACTIVATED_DAYS, minimum=1
                ),
            ),
            graph_tenant_id=config.text("graph", "tenant_id"),
            handout=HandoutSettings.from_config(config),
        )


def load_or_create_key(path: Path) -> Secret:
    """The signing key in ``path`` (made with 32 random bytes, mode 0600, on first use)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
    try:
        if path.stat().st_mode & 0o077:
            raise ConfigError(
                f"{path}: the web signing key is readable by others; run: chmod 600 {path}.",
                code="config.key_file_permissions",
            )
        text = path.read_text(encoding="ascii").strip()
        key = Secret.from_hex(text)
    except (OSError, ValueError):
        raise ConfigError(
            f"{path}: the web signing key cannot be read (64 hex digits expected); "
            "delete it to make a new one (everybody is signed out).",
            code="config.web_key_bad",
        ) from None
    if len(key.reveal()) < 32:
        raise ConfigError(f"{path}: the web signing key is shorter than 32 bytes.")
    return key
