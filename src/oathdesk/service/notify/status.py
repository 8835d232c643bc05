"""What the administrator checks: the settings in force, the outbox's counts and its last
failures, and a test mail that proves the relay and the templates work.

Why: an outbox hides a broken relay (actions keep working); ``oathdesk notify status`` and the
settings page make it visible, and ``oathdesk notify test ADDRESS`` checks the configuration end
to end before users depend on it. Neither shows a password or a secret, only whether one is set.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from oathdesk.mailing import MailError, send_mail
from oathdesk.service.context import Inventory
from oathdesk.service.errors import ServiceError
from oathdesk.service.notify.events import event_time
from oathdesk.service.notify.settings import NotifySettings
from oathdesk.service.notify.templates import check_templates, render
from oathdesk.store.outbox import FAILED, PENDING, SENDING


def settings_view(settings: NotifySettings | None) -> dict[str, Any]:
    """The settings a person may see: on or off, where mail goes, whether a webhook is set."""
    s = settings or NotifySettings()
    security = "tls" if s.smtp.tls else "starttls" if s.smtp.starttls else "none"
    return {
        "enabled": s.enabled,
        "smtp_host": s.smtp.host,
        "smtp_port": s.smtp.port,
        "smtp_security": security,
        "smtp_login": bool(s.smtp.username and s.smtp.password is not None),
        "smtp_from": s.smtp.sender,
        "mail_dir": str(s.smtp.mail_dir) if s.smtp.mail_dir is not None else None,
        "webhook": bool(s.webhook_url),
        "portal_url": s.portal_url,
        "templates_dir": str(s.templates_dir) if s.templates_dir is not None else None,
        "max_attempts": s.max_attempts,
        "reminder_days": s.reminder_after.days,
        "reminder_interval_days": s.reminder_every.days,
    }


def outbox_status(inv: Inventory, *, failures: int = 10) -> dict[str, Any]:
    """The settings, the outbox's rows by status and the newest failed or retrying rows."""
    with inv.uow(write=False) as uow:
        counts = uow.outbox.counts()
        recent = [
            {
                "id": row.id,
                "event": row.event,
                "channel": row.channel,
                "serial": row.serial,
                "status": row.status,
                "attempts": row.attempts,
                "error": row.last_error,
                "at": row.updated_at.isoformat(),
            }
            for row in uow.outbox.recent(statuses=(FAILED, PENDING, SENDING), limit=failures * 3)
            if row.last_error
        ][:failures]
    return {"settings": settings_view(inv.notify), "counts": counts, "failures": recent}


def send_test(inv: Inventory, address: str) -> dict[str, Any]:
    """Render every template (any problem stops here), then send the ``test`` mail straight to
    ``address`` (not through the outbox: the answer is now). ``notify.mail_failed`` says why
    the relay refused."""
    settings = inv.notify or NotifySettings()
    address = address.strip()
    if "@" not in address or any(c.isspace() for c in address):
        raise ServiceError(
            f"{address!r} is not an e-mail address; give one address like ada@example.com.",
            code="notify.bad_address",
        )
    if not settings.mail:
        raise ServiceError(
            "Mail is not set up: set [notify] smtp_host (or mail_dir for a pickup folder).",
            code="notify.mail_failed",
        )
    problems = check_templates(settings)
    if problems:
        raise ServiceError(problems[0], code="notify.template_invalid")
    text = render(settings, "test", {"upn": address, "event_time": event_time(inv.now())})
    message = EmailMessage()
    message["From"] = settings.smtp.sender
    message["To"] = address
    message["Subject"] = text.subject
    message["Date"] = format_datetime(inv.now())
    message["Message-ID"] = make_msgid("oathdesk-notify-test")
    message.set_content(text.body)
    try:
        send_mail(settings.smtp, message, address)
    except MailError as exc:
        raise ServiceError(
            f"{exc}. Check [notify] smtp_host, smtp_port, smtp_security, smtp_user and "
            "smtp_password (or mail_dir).",
            code="notify.mail_failed",
        ) from None
    where = str(settings.smtp.mail_dir) if settings.smtp.mail_dir else settings.smtp.host
    return {"sent_to": address, "via": where, "subject": text.subject}
