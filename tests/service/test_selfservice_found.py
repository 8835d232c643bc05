"""The holder's own "found it" (``selfservice.report_found``) against the HTTPS emulator, on
SQLite and PostgreSQL: only a token I reported lost comes back to me, as Entra holds it (not
switched on), audited ``token.found`` with my actor; anyone else's or a token not lost is
refused with the self-service answers."""

from __future__ import annotations

import time

import pytest

from oathdesk.service import Inventory, ServiceError, show_token
from oathdesk.service.selfservice import enroll, my_tokens, report_found, report_lost
from oathdesk.store import StateConflict
from tests.service.fixtures import Emu
from tests.service.selfservice_seed import code, stock
from tests.service.support import serial, upn

ADA, GRACE = upn("ada"), upn("grace")


def actor(who: str) -> str:
    return f"local:{who}"


def test_i_find_the_token_i_reported_lost(inv: Inventory, emu: Emu) -> None:
    stock(inv, "SF", 1)
    sn = serial("SF", 0)
    enroll(inv, ADA, sn, "Blue fob", code("SF", 0, time.time()), actor=actor(ADA))
    with pytest.raises(StateConflict) as held:
        report_found(inv, ADA, sn, actor=actor(ADA))  # not lost: nothing to find
    assert held.value.code == "selfservice.state_conflict"
    assert "only a token you reported lost" in held.value.message
    report_lost(inv, ADA, sn, "left on the train", actor=actor(ADA))

    for who, wanted in ((GRACE, sn), (ADA, "NO-SUCH"), (ADA, "bad\x00serial")):
        with pytest.raises(ServiceError) as caught:
            report_found(inv, who, wanted, actor=actor(who))
        assert caught.value.code == "selfservice.not_found", who
    assert show_token(inv, sn)["state"] == "lost"  # Grace's try changed nothing

    back = report_found(inv, ADA, f" {sn} ", actor=actor(ADA))
    assert back["state"] == "deactivated"  # it was activated: Entra waits for a code again
    assert back["display_name"] == "Blue fob"
    assert [t["state"] for t in my_tokens(inv, ADA)] == ["deactivated"]
    with emu.client() as graph:
        device = graph.find_serial(sn)[0]
    assert device.status == "assigned"  # still Ada's in Entra, not signing her in
    entry = show_token(inv, sn)["history"][-1]
    assert entry["action"] == "token.found"
    assert entry["actor"] == actor(ADA)
    assert entry["reason"] == "self-service: found by its holder"
    with pytest.raises(StateConflict) as twice:
        report_found(inv, ADA, sn, actor=actor(ADA))
    assert twice.value.code == "selfservice.state_conflict"
