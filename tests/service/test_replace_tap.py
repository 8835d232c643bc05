"""A Temporary Access Pass issued with a replace: Entra (the emulator) holds it, the caller gets
it once, and it is nowhere else: not in the database (every row of every table), not in any log
record, not in the audit, not in the result's JSON. The audit says a pass was issued, its
lifetime and expiry; the pass expires by the emulator's clock. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import MetaData, select

from oathdesk.domain import UsageError
from oathdesk.graph import GraphClient
from oathdesk.service import Action, ActionRequest, Inventory, activate, import_seeds, perform
from oathdesk.service.tap import TapRequest
from oathdesk.store.audit import AuditFilter
from tests.service import support
from tests.service.fixtures import Emu
from tests.service.support import entra_csv, secret_for, serial, totp, upn, user_id

WHO = {"actor": "local:hal", "reason": "INC-77 lost on the train"}


def _dump(inv: Inventory) -> str:
    """Every row of every table, as text (the database's whole content)."""
    meta = MetaData()
    meta.reflect(inv.db.engine)
    rows: list[str] = []
    with inv.db.engine.connect() as conn:
        for table in meta.sorted_tables:
            rows += [repr(tuple(r)) for r in conn.execute(select(table))]
    return "\n".join(rows)


def _audit(inv: Inventory, action: str) -> list[dict[str, Any]]:
    with inv.uow(write=False) as uow:
        found = uow.audit.matching(AuditFilter(tenant=inv.tenant, action=action))
        try:
            return [
                {"subject": e.subject, "reason": e.reason, "details": e.details_dict} for e in found
            ]
        finally:
            found.close()


def _ada_with_a_token(inv: Inventory) -> tuple[str, str]:
    import_seeds(inv, entra_csv("TP", 2), "tp.csv", actor="t")
    old, new = serial("TP", 0), serial("TP", 1)
    activate(inv, old, totp(secret_for("TP", 0)), user=upn("ada"), actor="t", reason="start")
    return old, new


def test_a_replace_with_a_pass_shows_it_once_and_keeps_it_nowhere(inv: Inventory, emu: Emu) -> None:
    old, new = _ada_with_a_token(inv)
    seen_before = len(support.SEEN)
    asked = ActionRequest(
        WHO["reason"], code=totp(secret_for("TP", 1)), why="lost", tap=TapRequest(90, True)
    )
    result = perform(inv, old, Action.REPLACE, asked, actor=WHO["actor"])
    assert result.extra["replacement"]["state"] == "activated"
    issued = result.tap
    assert issued is not None and issued.user == upn("ada") and issued.minutes == 90
    secret = issued.reveal()
    assert len(secret) >= 8
    assert secret not in repr(issued) and secret not in repr(result)
    doc = json.dumps(result.to_dict())
    assert secret not in doc and '"lifetime_minutes": 90' in doc

    client: GraphClient = emu.client()
    try:
        (held,) = client.taps(user_id("ada"))
    finally:
        client.close()
    assert (held.lifetime_minutes, held.usable_once, held.usable) == (90, True, True)

    (entry,) = _audit(inv, "user.tap_issued")
    assert entry["subject"] == f"user:{upn('ada')}" and entry["reason"] == WHO["reason"]
    details = entry["details"]
    assert (details["lifetime_minutes"], details["one_time"]) == (90, True)
    assert details["expires"] == issued.expires and details["replaced_token"] == old
    assert secret not in json.dumps(details)
    assert secret not in _dump(inv)  # not in any row of any table
    logged = "\n".join(support.SEEN[seen_before:])
    assert logged and secret not in logged  # the watch saw the run's log records; no pass
    assert new in _dump(inv)  # (the dump is the real content)


def test_the_pass_expires_by_the_emulator_clock(inv: Inventory, emu: Emu) -> None:
    old, _ = _ada_with_a_token(inv)
    asked = ActionRequest(
        "INC-78", code=totp(secret_for("TP", 1)), why="broken", tap=TapRequest(10, False)
    )
    result = perform(inv, old, Action.REPLACE, asked, actor="local:hal")
    assert result.tap is not None and not result.tap.one_time
    emu.configure(clockOffsetSeconds=11 * 60)
    client = emu.client()
    try:
        (held,) = client.taps(user_id("ada"))
    finally:
        client.close()
    assert (held.usable, held.reason) == (False, "Expired")


def test_a_lifetime_outside_the_policy_is_refused_before_anything_changes(
    inv: Inventory, emu: Emu
) -> None:
    old, new = _ada_with_a_token(inv)
    for minutes in (9, 43_201):
        asked = ActionRequest(
            "x", code=totp(secret_for("TP", 1)), why="lost", tap=TapRequest(minutes)
        )
        with pytest.raises(UsageError) as refused:
            perform(inv, old, Action.REPLACE, asked, actor="local:hal")
        assert refused.value.code == "usage.tap_lifetime"
    with inv.uow(write=False) as uow:
        assert uow.tokens.get(old).state.value == "activated"
        assert uow.tokens.get(new).state.value == "in_stock"
    assert _audit(inv, "user.tap_issued") == []


def test_entra_refusing_the_pass_leaves_the_replacement_done(inv: Inventory, emu: Emu) -> None:
    old, _ = _ada_with_a_token(inv)
    rule = {"method": "POST", "path": "temporaryAccessPassMethods", "status": 403, "count": 5}
    assert emu.control.post(f"{emu.url}/_emulator/faults", json={"rules": [rule]}).status_code < 300
    asked = ActionRequest("INC-79", code=totp(secret_for("TP", 1)), why="lost", tap=TapRequest())
    result = perform(inv, old, Action.REPLACE, asked, actor="local:hal")
    assert result.tap is None and result.extra["replacement"]["state"] == "activated"
    assert result.extra["tap_error"]["code"].startswith("graph.")
    assert _audit(inv, "user.tap_issued") == []
