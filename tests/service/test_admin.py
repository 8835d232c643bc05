"""Audit verify/export, key rotation, audited secret exports and the report (both databases)."""

from __future__ import annotations

import json
import time
from dataclasses import replace as with_changes
from typing import Any

import pytest

from oathdesk.domain.clock import FixedClock
from oathdesk.service import (
    Inventory,
    ServiceError,
    activate,
    export_audit,
    export_secrets,
    import_seeds,
    inventory_report,
    push,
    reconcile,
    rotate_keys,
    show_token,
    verify_audit,
)
from oathdesk.store import KeyRing, verify_export
from tests.service.fixtures import Emu
from tests.service.support import entra_csv, secret_for, serial, totp, upn

WHO: dict[str, Any] = {"actor": "helpdesk:bob", "reason": "ticket 7"}


def _tamper(inv: Inventory, statement: str) -> None:
    """As someone with owner rights on the database: drop the append-only triggers, then edit."""
    if inv.db.dialect == "postgresql":
        unprotect = ["DROP TRIGGER audit_entries_append_only ON audit_entries"]
    else:
        unprotect = ["DROP TRIGGER audit_entries_no_update", "DROP TRIGGER audit_entries_no_delete"]
    with inv.db.engine.begin() as conn:
        for sql in [*unprotect, statement]:
            conn.exec_driver_sql(sql)


def test_an_audit_log_edited_in_the_database_fails_verify(inv: Inventory) -> None:
    import_seeds(inv, entra_csv("AU", 2), "a.csv", actor="admin:ann")
    rotate_keys(inv, actor="admin:ann")
    lines = list(export_audit(inv))
    assert verify_export(lines, key=inv.db.audit_key) == len(lines) == 3
    assert [json.loads(x)["action"] for x in lines] == [
        "batch.import",
        "keys.rotate",
        "keys.reseal",
    ]
    assert verify_audit(inv).ok
    _tamper(inv, "UPDATE audit_entries SET actor = 'someone-else' WHERE seq = 1")
    report = verify_audit(inv)
    assert not report.ok and report.seq == 1 and report.problem == "altered"


def test_a_deleted_audit_entry_fails_verify(inv: Inventory) -> None:
    import_seeds(inv, entra_csv("AD", 1), "a.csv", actor="t")
    import_seeds(inv, entra_csv("AE", 1), "b.csv", actor="t")
    import_seeds(inv, entra_csv("AF", 1), "c.csv", actor="t")
    _tamper(inv, "DELETE FROM audit_entries WHERE seq = 2")
    report = verify_audit(inv)
    assert not report.ok and report.seq == 2 and report.problem == "missing"


def test_key_rotation_reseals_every_seed_and_keeps_them_readable(inv: Inventory) -> None:
    import_seeds(inv, entra_csv("KR", 3), "k.csv", actor="t")
    old_key = inv.sealer.ring.current_id
    report = rotate_keys(inv, actor="admin:ann")
    assert report.resealed == 3 and report.by_old_key == {old_key: 3} and not report.failed
    assert report.key_id != old_key
    on_disk = KeyRing.load(inv.sealer.ring.path)  # type: ignore[arg-type]
    assert on_disk.key_ids == [old_key, report.key_id]
    token = show_token(inv, serial("KR", 1))
    assert token["key_id"] == report.key_id
    (record,) = export_secrets(inv, [serial("KR", 1)], actor="admin:ann", reason="move to HSM")
    assert record.secret == secret_for("KR", 1)


def test_secret_exports_are_audited_and_need_a_reason(inv: Inventory) -> None:
    import_seeds(inv, entra_csv("SX", 2), "s.csv", actor="t")
    with pytest.raises(ServiceError):
        export_secrets(inv, [serial("SX", 0)], actor="t", reason=" ")
    export_secrets(inv, [serial("SX", 0), serial("SX", 1)], actor="admin:ann", reason="escrow")
    last = json.loads(list(export_audit(inv))[-1])
    assert last["action"] == "token.seed_export" and last["reason"] == "escrow"
    assert last["details"]["serials"] == [serial("SX", 0), serial("SX", 1)]


def test_report_counts_ages_activation_times_and_unused_tokens(inv: Inventory, emu: Emu) -> None:
    import_seeds(inv, entra_csv("RP", 4), "r.csv", actor="t")
    push(inv, actor="t")
    activate(inv, serial("RP", 0), totp(secret_for("RP", 0)), user=upn("ada"), **WHO)
    activate(inv, serial("RP", 1), totp(secret_for("RP", 1)), user=upn("grace"), **WHO)
    # ada signs in with her token (a later step than the activation's): Entra records the use
    code = totp(secret_for("RP", 0), step_offset=1)
    signed = emu.control.post(
        f"{emu.url}/_emulator/signin", json={"user": upn("ada"), "code": code}
    )
    assert signed.json()["success"] is True
    reconcile(inv, actor="t", fix=True)  # brings Entra's lastUsedDateTime home
    assert show_token(inv, serial("RP", 0))["entra_last_used_at"] is not None
    assert show_token(inv, serial("RP", 1))["entra_last_used_at"] is None

    now = inventory_report(inv)
    assert now["total"] == 4 and now["by_state"]["activated"] == 2
    assert now["by_state"]["available"] == 2 and now["by_manufacturer"] == {"Token2": 4}
    assert now["by_model"] == {"C200": 2, "C301": 2}
    assert now["unassigned_stock"]["count"] == 2
    assert now["import_to_activation"]["count"] == 2
    assert now["unused"]["count"] == 0 and now["at_risk_of_drift"]["count"] == 0

    later = with_changes(inv, clock=FixedClock(time.time() + 100 * 86400))  # 100 days on
    report = inventory_report(later, unused_days=90, risk_days=180)
    assert report["unused"]["count"] == 2
    assert set(report["unused"]["serials"]) == {serial("RP", 0), serial("RP", 1)}
    assert report["at_risk_of_drift"]["count"] == 0
    assert report["unassigned_stock"]["older_than_90_days"] == 2
    much_later = with_changes(inv, clock=FixedClock(time.time() + 200 * 86400))
    assert inventory_report(much_later)["at_risk_of_drift"]["count"] == 2
