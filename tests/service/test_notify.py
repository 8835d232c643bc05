"""Notifications end to end, on SQLite and PostgreSQL against the HTTPS emulator: each help-desk
action queues its event in its own transaction, a real SMTP listener receives the mail with what
to do next, a mail server that is down delays but never blocks or loses a message, and a row is
sent once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from email.message import Message
from typing import Any

import pytest
from sqlalchemy import select

from oathdesk.config import Config
from oathdesk.domain import FixedClock
from oathdesk.service import (
    CodeRejected,
    Inventory,
    activate,
    assign,
    import_seeds,
    mark_lost,
    outbox_status,
    push,
    replace,
    send_pending,
    show_token,
    verify_audit,
)
from oathdesk.service.lifecycle import found
from oathdesk.store import OutboxRow, StateConflict
from tests.service.notify_support import (
    Smtp,
    hook,
    open_inventory,
    smtp,
    smtp_settings,
    with_notify,
)
from tests.service.support import entra_csv, secret_for, serial, totp, upn, wrong_code

__all__ = ["hook", "smtp"]
WHO: dict[str, Any] = {"actor": "helpdesk:bob", "reason": "ticket 42"}


def _rows(inv: Inventory) -> list[OutboxRow]:
    with inv.uow(write=False) as uow:
        return list(uow.session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def _body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def _stock(inv: Inventory, prefix: str, count: int) -> list[str]:
    import_seeds(inv, entra_csv(prefix, count), f"{prefix}.csv", actor="admin:ann")
    push(inv, actor="admin:ann")
    return [serial(prefix, n) for n in range(count)]


def test_notifications_are_off_by_default(inv: Inventory) -> None:
    """Without ``[notify] enabled`` no action writes a row (and nothing is sent)."""
    (sn,) = _stock(inv, "N", 1)
    assign(inv, sn, upn("ada"), **WHO)
    mark_lost(inv, sn, **WHO)
    assert _rows(inv) == []
    assert send_pending(inv).sent == 0
    assert outbox_status(inv)["settings"]["enabled"] is False


def test_each_action_mails_its_user_what_to_do_next(cfg: Config, smtp: Smtp) -> None:
    """Hand-over with a code (active), assign (activate in the portal), replace (old token no
    longer works), lost and found: each one mail to the holder, sent only by the sender."""
    with open_inventory(with_notify(cfg, **smtp_settings(smtp))) as inv:
        first, second, third = _stock(inv, "M", 3)
        activate(inv, first, totp(secret_for("M", 0)), user=upn("ada"), **WHO)
        assign(inv, second, upn("grace"), **WHO)
        replace(inv, first, totp(secret_for("M", 2)), why="broken", new_serial=third, **WHO)
        mark_lost(inv, second, **WHO)
        found(inv, second, **WHO)
        assert [r.event for r in _rows(inv)] == ["assign", "assign", "replace", "lost", "found"]
        assert smtp.messages == []  # the actions only queued
        report = send_pending(inv)
        assert (report.sent, report.retrying, report.failed) == (5, 0, 0)
        mails = {(m["X-Oathdesk-Event"], m["X-Rcpt"]): m for m in smtp.messages}
        assert len(mails) == 5
        handover = mails[("assign", upn("ada"))]
        assert first in str(handover["Subject"])
        assert handover["From"] == "it@example.com"
        text = _body(handover)
        assert "Hello Ada Example," in text  # the display name, looked up in Entra by the sender
        assert "Your token is active: sign in with it" in text
        portal = _body(mails[("assign", upn("grace"))])
        assert "activate it in the self-service portal at https://portal.example.com/me" in portal
        swap = mails[("replace", upn("ada"))]
        assert f"{first} -> {third}" in str(swap["Subject"])
        assert f"Your old token {first} no longer works." in _body(swap)
        assert "Your token is active" in _body(swap)
        assert "It no longer works for signing in." in _body(mails[("lost", upn("grace"))])
        assert "is yours again" in _body(mails[("found", upn("grace"))])
        assert {r.status for r in _rows(inv)} == {"sent"}
        assert send_pending(inv).sent == 0  # sent once: a second run finds nothing due
        assert len(smtp.messages) == 5
        assert verify_audit(inv).ok


def test_a_refused_code_or_a_rolled_back_action_queues_nothing(cfg: Config, smtp: Smtp) -> None:
    """The row is part of the action's transaction: a hand-over refused before any change and
    a plain activation without a user write no row; the failed audit entry stays."""
    with open_inventory(with_notify(cfg, **smtp_settings(smtp))) as inv:
        sn, other = _stock(inv, "R", 2)
        with pytest.raises(CodeRejected, match="does not match"):
            activate(inv, sn, wrong_code(secret_for("R", 0)), user=upn("ada"), **WHO)
        assert _rows(inv) == []
        assign(inv, other, upn("grace"), **WHO)
        activate(inv, other, totp(secret_for("R", 1)), **WHO)  # no user named: no second mail
        assert [r.event for r in _rows(inv)] == ["assign"]
        mark_lost(inv, other, **WHO)
        with pytest.raises(StateConflict):
            mark_lost(inv, other, **WHO)  # refused: rolled back, no second row
        assert [r.event for r in _rows(inv)] == ["assign", "lost"]
        actions = [e["action"] for e in show_token(inv, sn)["history"]]
        assert "token.activation_failed" in actions


def test_a_mail_server_outage_delays_but_never_blocks_or_loses(cfg: Config, smtp: Smtp) -> None:
    """With the relay down the hand-over still succeeds; the sender keeps the row and retries
    after the backoff (not before); once the relay is up the mail arrives exactly once."""
    smtp.down()
    clock = FixedClock(time.time())
    settings = with_notify(cfg, **smtp_settings(smtp), retry_seconds=60, max_attempts=5)
    with open_inventory(settings, clock) as inv:
        (sn,) = _stock(inv, "O", 1)
        done = activate(inv, sn, totp(secret_for("O", 0)), user=upn("ada"), **WHO)
        assert done.token["state"] == "activated"
        first = send_pending(inv)
        assert (first.sent, first.retrying) == (0, 1)
        assert "ConnectionRefusedError" in str(first.problems[0]["error"])
        (row,) = _rows(inv)
        assert (row.status, row.attempts) == ("pending", 1)
        status = outbox_status(inv)
        assert status["counts"]["pending"] == 1
        assert "did not take the message" in status["failures"][0]["error"]
        clock.advance(30)
        assert send_pending(inv).retrying == 0  # not due yet: the backoff is 60 s
        clock.advance(31)
        second = send_pending(inv)
        assert (second.sent, second.retrying) == (0, 1)
        (row,) = _rows(inv)
        assert row.attempts == 2
        smtp.up()
        clock.advance(60)
        assert send_pending(inv).sent == 0  # doubled: 120 s after the second attempt
        clock.advance(61)
        assert send_pending(inv).sent == 1
        assert [m["X-Rcpt"] for m in smtp.messages] == [upn("ada")]
        (row,) = _rows(inv)
        assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
        clock.advance(3600)
        assert send_pending(inv).sent == 0
        assert len(smtp.messages) == 1


def test_the_sender_gives_up_after_the_last_attempt_and_says_so(cfg: Config, smtp: Smtp) -> None:
    """``max_attempts`` failures: the row is ``failed``, audited ``notify.failed`` (no secret,
    the error named) and listed by the status; it is never tried again."""
    smtp.down()
    clock = FixedClock(time.time())
    settings = with_notify(cfg, **smtp_settings(smtp), retry_seconds=1, max_attempts=2)
    with open_inventory(settings, clock) as inv:
        (sn,) = _stock(inv, "G", 1)
        assign(inv, sn, upn("alan"), **WHO)
        assert send_pending(inv).retrying == 1
        clock.advance(2)
        last = send_pending(inv)
        assert (last.failed, last.problems[0]["outcome"]) == (1, "failed")
        (row,) = _rows(inv)
        assert (row.status, row.attempts) == ("failed", 2)
        entry = show_token(inv, sn)["history"][-1]
        assert entry["action"] == "notify.failed"
        assert entry["details"]["attempts"] == 2
        assert entry["details"]["user"] == upn("alan")
        assert outbox_status(inv)["counts"]["failed"] == 1
        assert outbox_status(inv)["failures"][0]["status"] == "failed"
        smtp.up()
        clock.advance(86400)
        assert send_pending(inv).sent == 0
        assert smtp.messages == []
        assert verify_audit(inv).ok


def test_a_sender_killed_mid_send_resends_after_the_lease_with_the_same_id(
    cfg: Config, smtp: Smtp
) -> None:
    """A claimed row whose sender died is not taken by another sender until the lease ends,
    then sent with the same Message-ID (a receiver can drop the repeat)."""
    clock = FixedClock(time.time())
    with open_inventory(with_notify(cfg, **smtp_settings(smtp)), clock) as inv:
        (sn,) = _stock(inv, "K", 1)
        assign(inv, sn, upn("ada"), **WHO)
        with inv.uow() as uow:  # what a sender does before it is killed
            (claimed,) = uow.outbox.claim(limit=10, lease=timedelta(minutes=5))
            row_id = claimed.id
        assert send_pending(inv).sent == 0  # leased: another sender leaves it alone
        clock.advance(301)
        assert send_pending(inv).sent == 1
        (message,) = smtp.messages
        assert message["Message-ID"] == f"<oathdesk-notify-default-{row_id}@example.com>"
        (row,) = _rows(inv)
        assert (row.status, row.attempts) == ("sent", 2)


def test_two_senders_at_once_send_each_row_once(cfg: Config, smtp: Smtp) -> None:
    """Claims take row locks (SKIP LOCKED on PostgreSQL, the write lock on SQLite): two senders
    draining one outbox together deliver every row exactly once."""
    with open_inventory(with_notify(cfg, **smtp_settings(smtp))) as inv:
        with inv.uow() as uow:
            for n in range(24):
                fields = {"upn": upn("ada"), "display_name": "Ada", "serial": f"P{n:03d}"}
                uow.outbox.add("lost", "mail", f"P{n:03d}", upn("ada"), fields)
        reports: list[int] = []
        threads = [
            threading.Thread(target=lambda: reports.append(send_pending(inv, limit=100).sent))
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert sum(reports) == 24 and len(reports) == 2
        ids = [m["Message-ID"] for m in smtp.messages]
        assert len(ids) == 24 == len(set(ids))
        assert {(r.status, r.attempts) for r in _rows(inv)} == {("sent", 1)}


def test_a_bulk_hand_out_and_a_hand_over_from_the_seed_mail_each_holder_once(
    cfg: Config, smtp: Smtp
) -> None:
    """The hand-out queues one ``handout`` mail per row in the row's own transaction; a single
    hand-over from the sealed seed one ``assign`` mail."""
    from oathdesk.service import HandoutSettings
    from oathdesk.service.handout import run_handout, start_handout
    from oathdesk.service.handout_plan import plan_handout, roster_from_file
    from oathdesk.service.lifecycle.from_seed import activate_from_seed

    with open_inventory(with_notify(cfg, **smtp_settings(smtp))) as inv:
        first, second, third = _stock(inv, "H", 3)
        roster = f"{first},{upn('ada')}\n{second},{upn('grace')}\n".encode()
        plan = plan_handout(inv, roster_from_file(roster, "r.csv"), activate=False)
        settings = HandoutSettings(workers=2)
        job = start_handout(inv, plan, actor="admin:ann", reason="starters", settings=settings)
        run_handout(inv, job, actor="admin:ann", settings=settings)
        activate_from_seed(inv, third, user=upn("alan"), **WHO)
        assert sorted((r.event, r.serial) for r in _rows(inv)) == [
            ("assign", third),
            ("handout", first),
            ("handout", second),
        ]
        assert send_pending(inv).sent == 3
        assert sorted(m["X-Rcpt"] for m in smtp.messages) == sorted(
            [upn("ada"), upn("grace"), upn("alan")]
        )
