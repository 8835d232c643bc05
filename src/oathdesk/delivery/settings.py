"""``[delivery]`` settings: where files go, how links look and live, mail, look-up limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from oathdesk.config import Config
from oathdesk.domain import Secret
from oathdesk.mailing import SmtpSettings
from oathdesk.shared_settings import SESSION_IDLE, SESSION_LIFETIME, SessionRules

MAX_DOWNLOADS = 10
__all__ = ["DeliverySettings", "FindPolicy", "SmtpSettings"]


@dataclass(frozen=True)
class FindPolicy:
    """Order look-ups and serial checks, counted within ``window`` (docs/security.md,
    Throttles): ``address_failures`` from one client network (an IPv4 address or an IPv6 /64),
    ``number_failures`` on one order number from one network, ``number_total`` on one number
    from all networks; ``visit_failures`` wrong serials in one visit, ``serial_total`` on one
    order from all visits. Past a limit, refused for ``first_lockout``, doubled at each further
    failure up to ``lockout``."""

    address_failures: int = 10
    number_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)
    number_total: int = 50
    visit_failures: int = 5
    serial_total: int = 20
    first_lockout: timedelta = timedelta(minutes=1)


@dataclass(frozen=True)
class DeliverySettings:
    """``[delivery]`` in oathdesk.toml: where files go, how links look and live, the mail server."""

    secret_key: Secret = field(repr=False)
    base_url: str = "https://localhost:8444"
    link_lifetime: timedelta = timedelta(days=7)
    visit_lifetime: timedelta = timedelta(hours=1)
    password_attempts: int = 5  # wrong download passwords before a link is locked
    downloads: int = 1  # downloads a link serves before it closes (``[delivery] downloads``)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    find: FindPolicy = field(default_factory=FindPolicy)
    secure_cookies: bool = True  # these three follow SessionRules, as the console's do
    session_lifetime: timedelta = SESSION_LIFETIME
    session_idle: timedelta = SESSION_IDLE
    title: str = "oathdesk seed delivery"

    @classmethod
    def from_config(cls, config: Config, secret_key: Secret) -> DeliverySettings:
        smtp = SmtpSettings()
        password = config.text("delivery", "smtp_password")
        rules = SessionRules.from_config(config, "delivery")
        return cls(
            secret_key=secret_key,
            base_url=config.text("delivery", "base_url", cls.base_url).rstrip("/"),
            link_lifetime=config.duration(
                "delivery", "link_hours", cls.link_lifetime, unit="hours"
            ),
            downloads=config.integer("delivery", "downloads", cls.downloads, maximum=MAX_DOWNLOADS),
            secure_cookies=rules.secure_cookies,
            session_lifetime=rules.lifetime,
            session_idle=rules.idle,
            smtp=SmtpSettings(
                host=config.text("delivery", "smtp_host", smtp.host),
                port=config.integer("delivery", "smtp_port", smtp.port, maximum=65535),
                sender=config.text("delivery", "smtp_from", smtp.sender),
                starttls=config.boolean("delivery", "smtp_starttls", smtp.starttls),
                username=config.text("delivery", "smtp_user", smtp.username),
                password=Secret(password.encode()) if password else None,
                mail_dir=config.path("delivery", "mail_dir"),
            ),
        )
