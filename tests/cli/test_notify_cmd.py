"""``oathdesk notify`` through the entry point, on SQLite and PostgreSQL against the HTTPS
emulator and a real SMTP listener: ``test`` proves the settings, a hand-over is mailed by
``send``, ``reminders --dry-run`` lists, ``status`` shows the settings without a secret and the
last failure, and ``send`` exits 9 when a message was given up."""

from __future__ import annotations

from pathlib import Path

import pytest

from oathdesk.cli.exits import Exit
from tests.cli.inventory_helpers import Cli
from tests.service.notify_support import Smtp, smtp
from tests.service.support import entra_csv, secret_for, serial, totp, upn

__all__ = ["smtp"]


def _on(monkeypatch: pytest.MonkeyPatch, port: int, **more: str) -> None:
    settings = {
        "ENABLED": "true",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_FROM": "it@example.com",
        "SMTP_PASSWORD": "relay-Pa55word",
        "PORTAL_URL": "https://portal.example.com/me",
    } | more
    for key, value in settings.items():
        monkeypatch.setenv(f"OATHDESK_NOTIFY_{key}", value)


def test_notify_commands(
    cli: Cli, tmp_path: Path, smtp: Smtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("db", "upgrade")
    _on(monkeypatch, smtp.port)
    tested = cli("notify", "test", "ada@example.com")
    assert tested.out.startswith("test mail sent to ada@example.com via 127.0.0.1")
    (mail,) = smtp.messages
    assert (mail["X-Rcpt"], mail["Subject"]) == ("ada@example.com", "oathdesk notification test")
    seeds = tmp_path / "n.csv"
    seeds.write_bytes(entra_csv("C", 1))
    cli("tokens", "import", str(seeds))
    sn = serial("C", 0)
    why = ["--reason", "INC-77", "--actor", "helpdesk:bob"]
    cli("tokens", "activate", sn, totp(secret_for("C", 0)), "--user", upn("ada"), *why)
    assert len(smtp.messages) == 1  # queued, not sent by the action
    sent = cli("notify", "send")
    assert sent.out.startswith("1 sent, 0 to retry later, 0 given up")
    assert smtp.messages[-1]["X-Rcpt"] == upn("ada")
    dry = cli("notify", "reminders", "--dry-run", "--json").json()
    assert (dry["dry_run"], dry["due"], dry["send"]) == (True, [], None)
    status = cli("notify", "status", "--json")
    assert "relay-Pa55word" not in status.out
    shown = status.json()
    assert shown["settings"]["enabled"] is True
    assert shown["settings"]["smtp_host"] == "127.0.0.1"
    assert shown["counts"]["sent"] == 1
    # the relay goes away: the next message is retried, then given up (exit 9)
    smtp.down()
    _on(monkeypatch, smtp.port, MAX_ATTEMPTS="1")
    cli("tokens", "lost", sn, *why)
    failed = cli("notify", "send", expect=Exit.SERVICE)
    assert "0 sent, 0 to retry later, 1 given up" in failed.out
    assert "ConnectionRefusedError" in failed.out
    plain = cli("notify", "status")
    assert plain.out.startswith("notifications on; mail via 127.0.0.1:")
    assert "failed after 1" in plain.out
    refused = cli("notify", "test", "ada@example.com", expect=None)
    assert refused.code == Exit.SERVICE and "notify.mail_failed" in refused.err
    bad = cli("notify", "test", "not an address", expect=None)
    assert bad.code == Exit.INVALID_INPUT and "notify.bad_address" in bad.err
