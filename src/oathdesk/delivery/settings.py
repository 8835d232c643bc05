"""``[delivery]`` settings: where files go, how links look and live, mail, look-up limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from oathdesk.config import Config
from oathdesk.domain import ConfigError, Secret


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "seeds@localhost"
    starttls: bool = False
    username: str = ""
    password: Secret | None = field(default=None, repr=False)
    timeout: float = 30.0


@dataclass(frozen=True)
class FindPolicy:
    """Order look-ups: after ``address_failures`` failures from one address (or
    ``number_failures`` on one order number) within ``window``, refuse for ``lockout``."""

    address_failures: int = 10
    number_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class DeliverySettings:
    """``[delivery]`` in oathdesk.toml: where files go, how links look and live, the mail server."""

    secret_key: Secret = field(repr=False)
    storage_dir: Path
    base_url: str = "https://localhost:8444"
    link_lifetime: timedelta = timedelta(days=7)
    visit_lifetime: timedelta = timedelta(hours=1)
    password_attempts: int = 5  # wrong download passwords before a link is locked
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    find: FindPolicy = field(default_factory=FindPolicy)
    secure_cookies: bool = True
    session_lifetime: timedelta = timedelta(hours=8)
    session_idle: timedelta = timedelta(minutes=30)
    title: str = "oathdesk seed delivery"

    @classmethod
    def from_config(cls, config: Config, secret_key: Secret) -> DeliverySettings:
        def get(key: str, default: Any) -> Any:
            return config.get("delivery", key, default)

        def number(key: str, default: float) -> float:
            try:
                value = float(get(key, default))
            except (TypeError, ValueError):
                value = -1
            if value <= 0:
                raise ConfigError(f"[delivery] {key} must be a positive number")
            return value

        def flag(key: str, default: bool) -> bool:
            value = get(key, default)
            return value if isinstance(value, bool) else str(value).lower() in {"1", "true", "yes"}

        password = get("smtp_password", "")
        return cls(
            secret_key=secret_key,
            storage_dir=Path(str(get("storage_dir", config.data_dir / "delivery"))),
            base_url=str(get("base_url", "https://localhost:8444")).rstrip("/"),
            link_lifetime=timedelta(hours=number("link_hours", 168)),
            secure_cookies=flag("secure_cookies", True),
            smtp=SmtpSettings(
                host=str(get("smtp_host", "127.0.0.1")),
                port=int(number("smtp_port", 25)),
                sender=str(get("smtp_from", "seeds@localhost")),
                starttls=flag("smtp_starttls", False),
                username=str(get("smtp_user", "")),
                password=Secret(str(password).encode()) if password else None,
            ),
        )
