"""A legacy CSV copy beside the Graph copy of one serial: reconcile names it, ``clean_legacy``
lists it, then removes it the documented way (method, then device), audited, resumable after a
failure between the two steps, idempotent, and never touching the Graph copy. Real HTTPS
emulator, both databases."""

from __future__ import annotations

from typing import Any

import pytest

from oathdesk.graph import GraphError
from oathdesk.service import (
    Inventory,
    assign,
    clean_legacy,
    import_seeds,
    push,
    reconcile,
    show_token,
    verify_audit,
)
from oathdesk.store.audit import AuditFilter
from tests.service.fixtures import Emu
from tests.service.support import SEED, b32, entra_csv, secret_for, serial, upn, user_id


def _legacy(n: int, who: str = "ada") -> dict[str, Any]:
    return {
        "user": upn(who),
        "serialNumber": serial("LG", n),
        "secretKey": b32(secret_for("LG", n)),
        "manufacturer": "Token2",
        "model": "C301",
        "timeIntervalInSeconds": 30,
    }


def _both_copies(inv: Inventory, emu: Emu) -> str:
    """Ada holds a legacy copy of LG00000 and, through oathdesk, its Graph copy."""
    emu.seed({**SEED, "legacyTokens": [_legacy(0)]})
    import_seeds(inv, entra_csv("LG", 2), "lg.csv", actor="t")
    push(inv, actor="t")
    sn = serial("LG", 0)
    assign(inv, sn, upn("ada"), actor="t", reason="x")
    return sn


def _ada_serials(emu: Emu) -> list[tuple[str, str]]:
    client = emu.client()
    try:
        return [
            (m.device.serial_number, m.device.id) for m in client.user_method_entries(upn("ada"))
        ]
    finally:
        client.close()


def _cleanup_entries(inv: Inventory) -> list[tuple[str, str | None]]:
    with inv.uow(write=False) as uow:
        found = uow.audit.matching(AuditFilter(tenant=inv.tenant, action="legacy.cleanup."))
        try:
            return [(e.action, e.subject) for e in found]
        finally:
            found.close()


def _legacy_records(emu: Emu) -> list[dict[str, Any]]:
    state = emu.control.get(f"{emu.url}/_emulator/state").json()
    return list(state["legacyTokens"])


def test_reconcile_names_the_legacy_copy_and_the_command(inv: Inventory, emu: Emu) -> None:
    sn = _both_copies(inv, emu)
    (legacy,) = _legacy_records(emu)
    found = reconcile(inv, actor="t")
    (dup,) = [f for f in found["findings"] if f["kind"] == "duplicate_serial"]
    assert dup["serial"] == sn and dup["entra"]["user_id"] == user_id("ada")
    assert dup["entra"]["legacy"] == [
        {"method_id": legacy["id"], "device_id": legacy["device"]["id"]}
    ]
    assert f"oathdesk sync clean-legacy {sn}" in dup["untouched"]
    assert reconcile(inv, actor="t", fix=True)["fixed"] == 0  # --fix leaves it alone
    assert len(_legacy_records(emu)) == 1


def test_dry_run_then_clean_up_then_nothing_more(inv: Inventory, emu: Emu) -> None:
    sn = _both_copies(inv, emu)
    graph_id = show_token(inv, sn)["entra_id"]
    (legacy,) = _legacy_records(emu)

    listed = clean_legacy(inv, sn, actor="t")
    assert not listed.applied and "--yes" in listed.hint
    assert [(c.method_id, c.device_id, c.kept_device_id, c.outcome) for c in listed.copies] == [
        (legacy["id"], legacy["device"]["id"], graph_id, "planned")
    ]
    assert len(_ada_serials(emu)) == 2 and _cleanup_entries(inv) == []  # nothing changed

    done = clean_legacy(inv, sn, actor="t", apply=True)
    assert [c.outcome for c in done.copies] == ["cleaned"]
    assert _ada_serials(emu) == [(sn, graph_id)]  # the Graph copy stays, still Ada's
    assert _legacy_records(emu) == []  # the legacy device is deleted, not just unassigned
    assert show_token(inv, sn)["state"] == "assigned"
    assert _cleanup_entries(inv) == [("legacy.cleanup.start", sn), ("legacy.cleanup.done", sn)]

    again = clean_legacy(inv, sn, actor="t", apply=True)
    assert again.copies == [] and again.hint == "no legacy copy found"
    assert len(_cleanup_entries(inv)) == 2  # nothing more happened, nothing more audited
    assert [f["kind"] for f in reconcile(inv, actor="t")["findings"]] == []
    assert verify_audit(inv).ok


def test_a_failure_between_the_two_steps_is_finished_by_the_next_run(
    inv: Inventory, emu: Emu
) -> None:
    sn = _both_copies(inv, emu)
    graph_id = show_token(inv, sn)["entra_id"]
    rule = {"method": "DELETE", "path": "hardwareOathDevices/", "status": 503, "count": 50}
    assert emu.control.post(f"{emu.url}/_emulator/faults", json={"rules": [rule]}).status_code in (
        200,
        201,
    )
    with pytest.raises(GraphError):
        clean_legacy(inv, sn, actor="t", apply=True, user=upn("ada"))
    assert emu.control.delete(f"{emu.url}/_emulator/faults").status_code in (200, 204)
    # the method is gone from Ada, its device is not: only the audit remembers it
    assert _ada_serials(emu) == [(sn, graph_id)]
    (orphan,) = _legacy_records(emu)
    assert orphan["device"]["assignedTo"] is None
    assert _cleanup_entries(inv) == [("legacy.cleanup.start", sn)]

    plan = clean_legacy(inv, sn, actor="t")
    assert [(c.device_id, c.outcome) for c in plan.copies] == [(orphan["device"]["id"], "resumed")]
    finished = clean_legacy(inv, sn, actor="t", apply=True)
    assert [c.outcome for c in finished.copies] == ["cleaned"]
    assert _legacy_records(emu) == [] and _ada_serials(emu) == [(sn, graph_id)]
    assert [a for a, _ in _cleanup_entries(inv)] == ["legacy.cleanup.start", "legacy.cleanup.done"]
    assert clean_legacy(inv, sn, actor="t", apply=True).copies == []


def test_a_legacy_copy_alone_is_not_offered_and_an_unheld_serial_asks_for_the_user(
    inv: Inventory, emu: Emu
) -> None:
    # Grace holds only a legacy copy: removing it would take her token away, so it is kept
    emu.seed({**SEED, "legacyTokens": [_legacy(5, "grace")]})
    alone = clean_legacy(inv, serial("LG", 5), actor="t", user=upn("grace"), apply=True)
    assert alone.copies == [] and len(_legacy_records(emu)) == 1
    nobody = clean_legacy(inv, serial("LG", 5), actor="t")
    assert nobody.copies == [] and "--user" in nobody.hint
    assert _cleanup_entries(inv) == []
