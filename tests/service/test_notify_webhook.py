"""The webhook, against a real loopback HTTP listener on SQLite and PostgreSQL: each event is a
JSON POST whose HMAC-SHA256 signature verifies with the shared secret, a refused call is retried
from the outbox with the same delivery id, and no seed or code is ever in the body."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from oathdesk.config import Config
from oathdesk.domain import FixedClock
from oathdesk.service import activate, import_seeds, mark_lost, push, send_pending
from tests.service.notify_support import HOOK_SECRET, Hook, hook, open_inventory, with_notify
from tests.service.support import entra_csv, leak_forms, secret_for, serial, totp, upn

__all__ = ["hook"]
WHO: dict[str, Any] = {"actor": "helpdesk:bob", "reason": "ticket 42"}


def _verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does (docs/notifications.md): HMAC the exact bytes, compare in constant
    time."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["x-oathdesk-signature"])


def test_each_event_is_posted_signed(cfg: Config, hook: Hook) -> None:
    settings = with_notify(cfg, webhook_url=hook.url, webhook_secret=HOOK_SECRET)
    with open_inventory(settings) as inv:
        import_seeds(inv, entra_csv("W", 1), "w.csv", actor="admin:ann")
        push(inv, actor="admin:ann")
        sn = serial("W", 0)
        code = totp(secret_for("W", 0))
        activate(inv, sn, code, user=upn("ada"), **WHO)
        mark_lost(inv, sn, **WHO)
        report = send_pending(inv)
        assert report.sent == 2  # no mail is set up: the webhook alone
        assert len(hook.calls) == 2
        for headers, body in hook.calls:
            assert headers["content-type"] == "application/json"
            assert _verify(HOOK_SECRET, headers, body)
            assert not _verify("another-secret", headers, body)
            text = body.decode()
            assert code not in text
            assert not [f for f in leak_forms(secret_for("W", 0).reveal()) if f in text]
        first = json.loads(hook.calls[0][1])
        assert first["event"] == "assign" == hook.calls[0][0]["x-oathdesk-event"]
        assert first["token"] == {
            "serial": sn,
            "model": "C200",
            "manufacturer": "Token2",
            "state": "activated",
        }
        assert first["user"]["upn"] == upn("ada")
        assert first["user"]["display_name"] == "Ada Example"
        assert first["id"] == hook.calls[0][0]["x-oathdesk-delivery"]
        assert json.loads(hook.calls[1][1])["event"] == "lost"


def test_a_refused_call_is_retried_with_the_same_id(cfg: Config, hook: Hook) -> None:
    clock = FixedClock(time.time())
    settings = with_notify(cfg, webhook_url=hook.url, webhook_secret=HOOK_SECRET, retry_seconds=10)
    with open_inventory(settings, clock) as inv:
        import_seeds(inv, entra_csv("X", 1), "x.csv", actor="admin:ann")
        push(inv, actor="admin:ann")
        hook.statuses.append(503)
        activate(inv, serial("X", 0), totp(secret_for("X", 0)), user=upn("ada"), **WHO)
        first = send_pending(inv)
        assert (first.sent, first.retrying) == (0, 1)
        assert first.problems[0]["error"] == "the webhook answered HTTP 503"
        clock.advance(11)
        assert send_pending(inv).sent == 1
        ids = [headers["x-oathdesk-delivery"] for headers, _ in hook.calls]
        assert len(ids) == 2 and ids[0] == ids[1]
        assert hook.calls[0][1] == hook.calls[1][1]
