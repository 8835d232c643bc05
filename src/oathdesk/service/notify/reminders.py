"""Reminders to users whose token was assigned long ago and is still not activated.

Why in the outbox: a reminder is one more event (``reminder``), written and sent like the
others, and the outbox row is also the record that one was sent: a token gets a reminder once
``[notify] reminder_days`` after its assignment, then at most once per
``reminder_interval_days`` while it stays unactivated (counted from its current assignment, so a
token handed to someone else starts afresh). ``oathdesk notify reminders`` runs it from cron;
a scheduler calls ``send_reminders``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from oathdesk.service.context import Inventory
from oathdesk.service.errors import ServiceError
from oathdesk.service.notify.events import notify_event
from oathdesk.service.notify.settings import NotifySettings
from oathdesk.store import Token, TokenState

WAITING = (TokenState.ASSIGNED, TokenState.FAILED_ACTIVATION)  # held, never activated


@dataclass
class ReminderReport:
    """The tokens due a reminder (serial, user, days since assignment) and how many rows were
    queued (0 in a dry run)."""

    dry_run: bool
    due: list[dict[str, Any]] = field(default_factory=list)
    queued: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "due": list(self.due), "queued": self.queued}


def enabled_settings(inv: Inventory) -> NotifySettings:
    """The settings, or ``notify.disabled`` when notifications are off."""
    if inv.notify is None or not inv.notify.enabled:
        raise ServiceError(
            "Notifications are off, so nothing is sent or queued. Set [notify] enabled = true "
            "(and the mail or webhook settings) to turn them on.",
            code="notify.disabled",
        )
    return inv.notify


def send_reminders(inv: Inventory, *, dry_run: bool = False) -> ReminderReport:
    """Queue a ``reminder`` for each token due one (see the module); ``dry_run`` only lists
    them. Run ``send_pending`` afterwards (``oathdesk notify reminders`` does) to deliver."""
    settings = enabled_settings(inv)
    now = inv.now()
    report = ReminderReport(dry_run=dry_run)
    query = (
        select(Token)
        .where(
            Token.tenant == inv.tenant,
            Token.state.in_(WAITING),
            Token.assigned_at <= now - settings.reminder_after,
            Token.user_upn.is_not(None),
        )
        .order_by(Token.assigned_at, Token.id)
    )
    with inv.uow(write=not dry_run) as uow:
        for token in list(uow.session.scalars(query)):
            assigned = token.assigned_at
            if assigned is None:
                continue
            last = uow.outbox.last_event(token.serial, "reminder", since=assigned)
            if last is not None and now - last < settings.reminder_every:
                continue
            days = (now - assigned).days
            report.due.append({"serial": token.serial, "user": token.user_upn, "days": days})
            if not dry_run:
                report.queued += notify_event(inv, uow, "reminder", token, days=days)
    return report
