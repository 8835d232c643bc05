"""The sender: delivers due outbox rows (mail, webhook), retrying with backoff, giving up at last.

Why in short transactions: a row is claimed in one (counted as an attempt, leased), sent with
no transaction open (a slow relay never holds a database lock), and marked in another; a
sender killed between the two leaves a leased row that is due again when the lease ends. A
row is marked only while it is still the claim this run made, so it is marked once. A row that
used up ``[notify] max_attempts`` becomes ``failed``, audited ``notify.failed`` and shown by
``oathdesk notify status`` and the settings page. Mails carry a ``Message-ID`` made from the row
and webhook calls its id, the same on every attempt, so a receiver can drop a repeat.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from oathdesk.domain import OathdeskError
from oathdesk.mailing import MailError, send_mail
from oathdesk.service.context import Inventory
from oathdesk.service.notify import webhook
from oathdesk.service.notify.settings import NotifySettings
from oathdesk.service.notify.templates import render
from oathdesk.store.outbox import MAIL, SENDING, OutboxRow

ACTOR = "system:notify"
log = logging.getLogger(__name__)
BATCH = 50
LEASE = timedelta(minutes=5)


@dataclass
class Claimed:
    """A claimed row as plain values (the row itself stays with its closed session)."""

    id: int
    tenant: str
    event: str
    channel: str
    serial: str
    recipient: str
    fields: dict[str, Any]
    attempts: int

    @classmethod
    def of(cls, row: OutboxRow) -> Claimed:
        return cls(
            row.id,
            row.tenant,
            row.event,
            row.channel,
            row.serial,
            row.recipient,
            dict(row.fields),
            row.attempts,
        )


@dataclass
class SendReport:
    """What one run did: rows sent, rows to be tried again, rows given up (with why)."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "problems": list(self.problems),
        }


def mail_message(settings: NotifySettings, item: Claimed) -> EmailMessage:
    """The mail for a claimed row: the rendered template, to the row's recipient alone."""
    text = render(settings, item.event, item.fields)
    message = EmailMessage()
    message["From"] = settings.smtp.sender
    message["To"] = item.recipient
    message["Subject"] = text.subject
    domain = settings.smtp.sender.rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<oathdesk-notify-{item.tenant}-{item.id}@{domain}>"
    message["X-Oathdesk-Event"] = item.event
    message.set_content(text.body)
    return message


def _display_name(inv: Inventory, item: Claimed, names: dict[str, str]) -> None:
    """Fill in the user's display name from Entra when the action did not know it (the UPN
    stands in when Entra cannot say)."""
    upn = str(item.fields.get("upn") or "")
    if item.fields.get("display_name") or not upn:
        return
    if upn not in names:
        try:
            names[upn] = inv.entra().get_user(upn).display_name
        except OathdeskError:
            names[upn] = ""
    item.fields["display_name"] = names[upn] or upn


def deliver(inv: Inventory, settings: NotifySettings, item: Claimed) -> str | None:
    """Send one row; None when it went, else what went wrong (no secret in it)."""
    try:
        if item.channel == MAIL:
            if not settings.mail:
                return "mail is not set up: set [notify] smtp_host or mail_dir"
            message = mail_message(settings, item)
            message["Date"] = format_datetime(inv.now())
            send_mail(settings.smtp, message, item.recipient)
            return None
        if not settings.webhook or settings.webhook_secret is None:
            return "the webhook is not set up: set [notify] webhook_url and webhook_secret"
        document = webhook.payload(item.id, item.tenant, item.event, item.fields)
        return webhook.post(
            settings.webhook_url,
            settings.webhook_secret,
            document,
            timeout=settings.webhook_timeout,
        )
    except MailError as exc:
        return str(exc)
    except OathdeskError as exc:  # a template that does not render
        return f"{exc.code}: {exc.message}"


def _finish(inv: Inventory, settings: NotifySettings, item: Claimed, error: str | None) -> str:
    """Mark the claim's outcome; "" when the row is no longer this run's claim."""
    with inv.uow() as uow:
        row = uow.outbox.get(item.id)
        if row is None or row.status != SENDING or row.attempts != item.attempts:
            return ""
        row.fields = item.fields  # keeps a display name found in Entra for any retry
        if error is None:
            uow.outbox.sent(row)
            return "sent"
        if item.attempts < settings.max_attempts:
            uow.outbox.retry(row, error, settings.backoff(item.attempts))
            return "retrying"
        uow.outbox.give_up(row, error)
        uow.audit.append(
            "notify.failed",
            actor=ACTOR,
            subject=item.serial,
            reason=f"gave up after {item.attempts} attempt(s)",
            details={
                "event": item.event,
                "channel": item.channel,
                "user": item.fields.get("upn") or None,
                "attempts": item.attempts,
                "error": error,
            },
            tenant=inv.tenant,
        )
        return "failed"


def send_pending(inv: Inventory, *, limit: int = 1000) -> SendReport:
    """Deliver up to ``limit`` due rows of this tenant's outbox (what ``oathdesk notify send``
    and a scheduler call). Rows not yet due (waiting for a retry) are left for a later run."""
    settings = inv.notify or NotifySettings()
    report = SendReport()
    names: dict[str, str] = {}
    done = 0
    while done < limit:
        with inv.uow() as uow:
            rows = uow.outbox.claim(limit=min(BATCH, limit - done), lease=LEASE)
            claimed = [Claimed.of(r) for r in rows]
        if not claimed:
            break
        for item in claimed:
            done += 1
            _display_name(inv, item, names)
            error = deliver(inv, settings, item)
            outcome = _finish(inv, settings, item, error)
            if outcome == "sent":
                report.sent += 1
            elif outcome:
                report.retrying += outcome == "retrying"
                report.failed += outcome == "failed"
                report.problems.append(
                    {
                        "id": item.id,
                        "event": item.event,
                        "channel": item.channel,
                        "serial": item.serial,
                        "attempts": item.attempts,
                        "outcome": outcome,
                        "error": error,
                    }
                )
    return report


def run_sender(inv: Inventory, stop: threading.Event, *, every: float = 5.0) -> None:
    """Send due rows every ``every`` seconds until ``stop`` is set: the loop a program that
    runs for long (the demo, a scheduler thread) uses instead of cron. A failing run (the
    database busy) is logged by its code and tried again at the next tick."""
    while not stop.is_set():
        try:
            send_pending(inv)
        except OathdeskError as exc:
            log.warning("notification sender: %s (%s)", exc.message, exc.code)
        stop.wait(every)
