"""Settings that more than one app reads, defined once so they cannot drift apart: where Entra
signs in (Graph and the console's Entra sign-in), and the cookie and session rules of the two
web apps (the console under ``[web]``, the delivery app under ``[delivery]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from oathdesk.config import Config
from oathdesk.domain import ConfigError

DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"
SESSION_LIFETIME = timedelta(hours=8)
SESSION_IDLE = timedelta(minutes=30)


def authority_host(config: Config) -> str:
    """Where Entra signs in: ``[graph] authority_host``, else global Entra. The console's Entra
    sign-in uses it too unless ``[web] entra_authority_host`` says otherwise."""
    return config.text("graph", "authority_host") or DEFAULT_AUTHORITY_HOST


def ca_file(config: Config, section: str, key: str) -> Path | None:
    """An extra CA to trust (the emulator's) from ``[section] key``; it must exist."""
    return existing_ca(config.path(section, key))


def existing_ca(path: Path | None) -> Path | None:
    """``path`` when it is a file (or None); a missing CA is ``config.ca_file_missing``."""
    if path is not None and not path.is_file():
        raise ConfigError(f"The CA file {path} does not exist.", code="config.ca_file_missing")
    return path


@dataclass(frozen=True)
class SessionRules:
    """How a web app's cookies and sessions behave: ``secure_cookies=False`` only for plain HTTP
    on loopback (local tests), never in production; a session ends ``lifetime`` after sign-in
    or ``idle`` after its last request.

    Each app has its own keys (``[web]`` or ``[delivery]`` ``secure_cookies``,
    ``session_minutes``, ``idle_minutes``) with the same meaning and defaults.
    """

    secure_cookies: bool = True
    lifetime: timedelta = SESSION_LIFETIME
    idle: timedelta = SESSION_IDLE

    @classmethod
    def from_config(cls, config: Config, section: str) -> SessionRules:
        return cls(
            secure_cookies=config.boolean(section, "secure_cookies", True),
            lifetime=config.duration(section, "session_minutes", SESSION_LIFETIME, unit="minutes"),
            idle=config.duration(section, "idle_minutes", SESSION_IDLE, unit="minutes"),
        )
