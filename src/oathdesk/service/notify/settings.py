"""``[notify]`` settings: whether actions notify, the mail relay, the webhook, retries, reminders.

Why read once here: the lifecycle writes outbox rows only when ``enabled``, the sender needs the
relay and the webhook, the reminder run its two intervals; one typed object built from the
configuration (``NotifySettings.from_config``) serves them all. Passwords and the webhook secret
come from the file, a variable (``OATHDESK_NOTIFY_SMTP_PASSWORD``) or a ``*_file``, and are kept
as ``Secret`` so no repr or log shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal

from oathdesk.config import Config
from oathdesk.domain import ConfigError, Secret
from oathdesk.mailing import SmtpSettings

Security = Literal["none", "starttls", "tls"]
SECURITY: tuple[Security, ...] = ("none", "starttls", "tls")


@dataclass(frozen=True)
class NotifySettings:
    """Everything notifications need; the default is off (``[notify] enabled = false``)."""

    enabled: bool = False
    smtp: SmtpSettings = field(
        default_factory=lambda: SmtpSettings(host="", sender="oathdesk@localhost", timeout=15.0)
    )
    portal_url: str = ""
    helpdesk_contact: str = ""
    templates_dir: Path | None = None
    webhook_url: str = ""
    webhook_secret: Secret | None = field(default=None, repr=False)
    webhook_timeout: float = 10.0
    max_attempts: int = 8
    retry_base: timedelta = timedelta(seconds=60)
    reminder_after: timedelta = timedelta(days=7)
    reminder_every: timedelta = timedelta(days=7)

    @property
    def mail(self) -> bool:
        """Mails go out (to a relay or the pickup folder); without ``smtp_host`` or
        ``mail_dir`` only the webhook is used."""
        return bool(self.smtp.host) or self.smtp.mail_dir is not None

    @property
    def webhook(self) -> bool:
        return bool(self.webhook_url)

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt: doubling from ``retry_base``,
        at most a day."""
        wait: timedelta = self.retry_base * (2 ** max(attempts - 1, 0))
        return min(wait, timedelta(days=1))

    @classmethod
    def from_config(cls, config: Config) -> NotifySettings:
        base = cls()
        security = (config.text("notify", "smtp_security", "none")).lower()
        if security not in SECURITY:
            raise ConfigError(
                f"{config.name('notify', 'smtp_security')} must be one of "
                f"{', '.join(SECURITY)}, not {security!r}.",
                code="config.invalid_value",
                details={"section": "notify", "key": "smtp_security", "accepted": list(SECURITY)},
            )
        user = config.text("notify", "smtp_user", "")
        if user and security == "none":
            raise ConfigError(
                "[notify] smtp_user needs smtp_security = starttls or tls: the relay password is "
                "never sent over an unencrypted connection.",
                code="config.invalid_value",
                details={"section": "notify", "key": "smtp_security"},
            )
        default_port = {"none": 25, "starttls": 587, "tls": 465}[security]
        webhook_url = config.text("notify", "webhook_url", "")
        secret = _secret(config, "webhook_secret")
        if webhook_url and secret is None:
            raise ConfigError(
                "[notify] webhook_url needs a secret to sign each call: set [notify] "
                "webhook_secret or webhook_secret_file.",
                code="config.invalid_value",
                details={"section": "notify", "key": "webhook_secret"},
            )
        return cls(
            enabled=config.boolean("notify", "enabled", base.enabled),
            smtp=SmtpSettings(
                host=config.text("notify", "smtp_host", ""),
                port=config.integer("notify", "smtp_port", default_port, maximum=65535),
                sender=config.text("notify", "smtp_from", base.smtp.sender),
                starttls=security == "starttls",
                tls=security == "tls",
                username=user,
                password=_secret(config, "smtp_password"),
                timeout=config.number("notify", "smtp_timeout_seconds", base.smtp.timeout),
                mail_dir=config.path("notify", "mail_dir"),
                ca_file=config.path("notify", "smtp_ca_file"),
            ),
            portal_url=config.text("notify", "portal_url", ""),
            helpdesk_contact=config.text("notify", "helpdesk_contact", ""),
            templates_dir=config.path("notify", "templates_dir"),
            webhook_url=webhook_url,
            webhook_secret=secret,
            webhook_timeout=config.number("notify", "webhook_timeout_seconds", 10.0),
            max_attempts=config.integer("notify", "max_attempts", base.max_attempts, maximum=100),
            retry_base=config.duration("notify", "retry_seconds", base.retry_base, unit="seconds"),
            reminder_after=config.duration(
                "notify", "reminder_days", base.reminder_after, unit="days"
            ),
            reminder_every=config.duration(
                "notify", "reminder_interval_days", base.reminder_every, unit="days"
            ),
        )


def _secret(config: Config, key: str) -> Secret | None:
    """``[notify] <key>`` (or its variable), else the first line of ``<key>_file``."""
    value = config.text("notify", key)
    if value:
        return Secret(value.encode())
    path = config.path("notify", f"{key}_file")
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            f"{config.name('notify', f'{key}_file')}: {path} cannot be read ({exc.strerror}).",
            code="config.unreadable",
        ) from None
    if not text:
        raise ConfigError(
            f"{config.name('notify', f'{key}_file')}: {path} is empty.",
            code="config.invalid_value",
            details={"section": "notify", "key": f"{key}_file"},
        )
    return Secret(text.splitlines()[0].encode())
