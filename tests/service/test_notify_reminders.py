"""Reminders, on SQLite and PostgreSQL with the project's clock moved by hand: a token assigned
and not activated gets one reminder after ``reminder_days``, then at most one per interval; an
activated token none; a dry run lists and writes nothing; notifications off refuse."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import func, select

from oathdesk.config import Config
from oathdesk.domain import FixedClock
from oathdesk.service import (
    Inventory,
    ServiceError,
    activate,
    assign,
    import_seeds,
    push,
    send_pending,
    send_reminders,
)
from oathdesk.store import OutboxRow
from tests.service.notify_support import Smtp, open_inventory, smtp, smtp_settings, with_notify
from tests.service.support import entra_csv, secret_for, serial, totp, upn

__all__ = ["smtp"]
WHO: dict[str, Any] = {"actor": "helpdesk:bob", "reason": "ticket 42"}
DAY = 86400.0


def _reminders(inv: Inventory) -> int:
    with inv.uow(write=False) as uow:
        query = select(func.count()).select_from(OutboxRow).where(OutboxRow.event == "reminder")
        return int(uow.session.execute(query).scalar_one())


def test_one_reminder_per_interval_while_not_activated(cfg: Config, smtp: Smtp) -> None:
    clock = FixedClock(time.time())
    settings = with_notify(cfg, **smtp_settings(smtp), reminder_days=7, reminder_interval_days=3)
    with open_inventory(settings, clock) as inv:
        import_seeds(inv, entra_csv("D", 2), "d.csv", actor="admin:ann")
        push(inv, actor="admin:ann")
        waiting, used = serial("D", 0), serial("D", 1)
        assign(inv, waiting, upn("ada"), **WHO)
        activate(inv, used, totp(secret_for("D", 1)), user=upn("grace"), **WHO)
        send_pending(inv)
        handed = len(smtp.messages)
        clock.advance(6 * DAY)
        assert send_reminders(inv).due == []
        clock.advance(1.5 * DAY)
        dry = send_reminders(inv, dry_run=True)
        assert [(d["serial"], d["user"], d["days"]) for d in dry.due] == [(waiting, upn("ada"), 7)]
        assert (dry.queued, _reminders(inv)) == (0, 0)  # a dry run writes nothing
        done = send_reminders(inv)
        assert (done.queued, _reminders(inv)) == (1, 1)
        assert send_pending(inv).sent == 1
        mail = smtp.messages[handed]
        assert mail["X-Oathdesk-Event"] == "reminder" and mail["X-Rcpt"] == upn("ada")
        body = mail.get_payload(decode=True)
        assert isinstance(body, bytes)
        assert "handed to you 7 day(s) ago and is not active yet" in body.decode()
        clock.advance(1 * DAY)
        assert send_reminders(inv).due == []  # once per interval, whatever the cron does
        assert send_reminders(inv).due == []
        clock.advance(2.1 * DAY)
        assert send_reminders(inv).queued == 1
        assert _reminders(inv) == 2


def test_reminders_refuse_when_notifications_are_off(inv: Inventory) -> None:
    with pytest.raises(ServiceError) as caught:
        send_reminders(inv, dry_run=True)
    assert caught.value.code == "notify.disabled"
