"""``migrate_legacy``: legacy CSV copies in the emulator move into the Graph inventory (device
created, assigned to the same user, activated from the sealed seed when the copy was active,
legacy copy removed), one audited job; the dry run changes nothing; a failure in the middle
(injected faults) or a crash is finished by ``--resume`` without a second device. Real HTTPS
emulator, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from oathdesk.config import Config
from oathdesk.domain import OathdeskError
from oathdesk.service import Inventory, import_seeds, migrate_legacy, show_token, verify_audit
from oathdesk.service.legacy_plan import MigrationRow
from oathdesk.store import Job
from oathdesk.store.audit import AuditFilter
from tests.service.fixtures import Emu
from tests.service.support import SEED, b32, entra_csv, secret_for, serial, upn, user_id

ACTOR = "cli:ann"
ROOT = Path(__file__).resolve().parents[2]


def _legacy(n: int, who: str, status: str = "activated") -> dict[str, Any]:
    return {
        "user": upn(who),
        "serialNumber": serial("LM", n),
        "secretKey": b32(secret_for("LM", n)),
        "manufacturer": "Token2",
        "model": "C301",
        "timeIntervalInSeconds": 30,
        "status": status,
    }


def _tenant(inv: Inventory, emu: Emu) -> None:
    """Ada's LM0 (active) and Grace's LM1 (only assigned) have seeds here; guest Gus's LM2 has
    one too; Alan's LM3 was never imported (no seed)."""
    legacy = [_legacy(0, "ada"), _legacy(1, "grace", "assigned"), _legacy(2, "gus")]
    emu.seed({**SEED, "legacyTokens": [*legacy, _legacy(3, "alan")]})
    import_seeds(inv, entra_csv("LM", 3), "lm.csv", actor="t")


def _state(emu: Emu) -> dict[str, Any]:
    return dict(emu.control.get(f"{emu.url}/_emulator/state").json())


def _entries(inv: Inventory, prefix: str) -> list[tuple[str, str | None]]:
    with inv.uow(write=False) as uow:
        found = uow.audit.matching(AuditFilter(tenant=inv.tenant, action=prefix))
        try:
            return [(e.action, e.subject) for e in found]
        finally:
            found.close()


def _graph_serials(emu: Emu) -> Counter[str]:
    return Counter(d["serialNumber"] for d in _state(emu)["devices"])


def _legacy_serials(emu: Emu) -> set[str]:
    return {x["device"]["serialNumber"] for x in _state(emu)["legacyTokens"]}


def _by_serial(rows: list[MigrationRow]) -> dict[str, MigrationRow]:
    return {r.serial: r for r in rows}


def test_dry_run_lists_each_copy_and_changes_nothing(inv: Inventory, emu: Emu) -> None:
    _tenant(inv, emu)
    before_emu = {k: v for k, v in _state(emu).items() if k != "now"}
    before_db = _entries(inv, "")
    plan = migrate_legacy(inv, dry_run=True, actor=ACTOR)
    rows = _by_serial(plan.rows)
    assert plan.dry_run and plan.job_id is None
    assert rows[serial("LM", 0)].outcome == "planned" and rows[serial("LM", 0)].activate
    assert rows[serial("LM", 0)].steps == [
        "create the Graph device",
        f"assign it to {upn('ada')}",
        "activate it with a code from the sealed seed",
        "remove the legacy copy (its method, then its device)",
    ]
    assert rows[serial("LM", 1)].outcome == "planned" and not rows[serial("LM", 1)].activate
    assert (rows[serial("LM", 2)].outcome, rows[serial("LM", 2)].reason) == ("left", "guest")
    assert (rows[serial("LM", 3)].outcome, rows[serial("LM", 3)].reason) == ("left", "no_seed")
    assert rows[serial("LM", 3)].user_id == user_id("alan")
    assert {k: v for k, v in _state(emu).items() if k != "now"} == before_emu
    assert _entries(inv, "") == before_db  # not even an audit entry
    assert show_token(inv, serial("LM", 0))["state"] == "in_stock"
    doc = plan.to_dict()
    assert doc["counts"] == {"planned": 2, "left": 2}
    assert secret_for("LM", 0).reveal().hex() not in repr(doc)


def test_migration_moves_the_copies_and_leaves_the_rest(inv: Inventory, emu: Emu) -> None:
    _tenant(inv, emu)
    report = migrate_legacy(inv, actor=ACTOR)
    rows = _by_serial(report.rows)
    assert rows[serial("LM", 0)].outcome == rows[serial("LM", 1)].outcome == "migrated"
    assert rows[serial("LM", 2)].reason == "guest" and rows[serial("LM", 3)].reason == "no_seed"
    ada, grace = show_token(inv, serial("LM", 0)), show_token(inv, serial("LM", 1))
    assert (ada["state"], ada["user_upn"]) == ("activated", upn("ada"))
    assert (grace["state"], grace["user_upn"]) == ("assigned", upn("grace"))
    graph = {d["serialNumber"]: d for d in _state(emu)["devices"]}
    assert graph[serial("LM", 0)]["status"] == "activated"
    assert graph[serial("LM", 0)]["assignedTo"]["id"] == user_id("ada")
    assert graph[serial("LM", 1)]["assignedTo"]["id"] == user_id("grace")
    assert _legacy_serials(emu) == {serial("LM", 2), serial("LM", 3)}  # left alone
    activations = [e for e in ada["history"] if e["action"] == "token.activate"]
    assert activations[0]["details"]["code"] == "from the sealed seed"
    assert not [e for e in grace["history"] if e["action"] == "token.activate"]
    actions = [a for a, _ in _entries(inv, "legacy.migrate")]
    assert actions == [
        "legacy.migrate.start",
        "legacy.migrate",
        "legacy.migrate",
        "legacy.migrate.finish",
    ]
    assert verify_audit(inv).ok
    again = migrate_legacy(inv, actor=ACTOR)  # a second run: nothing more to move
    assert [r.outcome for r in again.rows] == ["left", "left"]
    assert _graph_serials(emu) == Counter({serial("LM", 0): 1, serial("LM", 1): 1})


def test_a_failure_in_the_middle_is_finished_by_resume(inv: Inventory, emu: Emu) -> None:
    _tenant(inv, emu)
    # the assignment fails after the Graph device was created: our record rolls back, Entra
    # keeps the device; the legacy deletion of the other copy fails after its method went
    rules = [
        {"method": "POST", "path": "hardwareOathMethods$", "status": 503, "count": 7},
        {"method": "DELETE", "path": "hardwareOathDevices/", "status": 503, "count": 50},
    ]
    assert emu.control.post(f"{emu.url}/_emulator/faults", json={"rules": rules}).status_code < 300
    first = migrate_legacy(inv, actor=ACTOR)
    outcomes = {r.serial: r.outcome for r in first.rows}
    assert outcomes[serial("LM", 0)] == outcomes[serial("LM", 1)] == "failed"
    assert show_token(inv, serial("LM", 0))["state"] == "in_stock"
    assert _graph_serials(emu)[serial("LM", 0)] == 1  # created in Entra, not in our record
    assert emu.control.delete(f"{emu.url}/_emulator/faults").status_code == 204

    pending = migrate_legacy(inv, dry_run=True, resume=True, actor=ACTOR)
    assert {r.serial for r in pending.rows} == {serial("LM", 0), serial("LM", 1)}
    done = migrate_legacy(inv, resume=True, actor=ACTOR)
    assert done.resumed and done.job_id == first.job_id
    assert {r.outcome for r in done.rows} == {"migrated"}
    assert _graph_serials(emu) == Counter({serial("LM", 0): 1, serial("LM", 1): 1})  # no twin
    assert _legacy_serials(emu) == {serial("LM", 2), serial("LM", 3)}
    assert show_token(inv, serial("LM", 0))["state"] == "activated"
    cleanups = Counter(_entries(inv, "legacy.cleanup."))
    assert all(n == 1 for n in cleanups.values()) and len(cleanups) == 4  # start+done, twice
    with pytest.raises(OathdeskError) as nothing:
        migrate_legacy(inv, resume=True, actor=ACTOR)
    assert nothing.value.code == "usage.nothing_to_resume"
    assert verify_audit(inv).ok


def test_a_new_run_supersedes_a_job_that_ended_with_failures(inv: Inventory, emu: Emu) -> None:
    _tenant(inv, emu)
    rule = {"method": "DELETE", "path": "hardwareOathDevices/", "status": 503, "count": 50}
    assert emu.control.post(f"{emu.url}/_emulator/faults", json={"rules": [rule]}).status_code < 300
    first = migrate_legacy(inv, actor=ACTOR)
    assert {r.outcome for r in first.rows if r.outcome != "left"} == {"failed"}
    assert emu.control.delete(f"{emu.url}/_emulator/faults").status_code == 204
    again = migrate_legacy(inv, actor=ACTOR)  # a fresh plan: the Graph copies are held already
    assert again.job_id != first.job_id and not again.resumed
    moved = {r.serial: r.outcome for r in again.rows if r.outcome != "left"}
    assert moved == {serial("LM", 0): "migrated", serial("LM", 1): "migrated"}
    assert _graph_serials(emu) == Counter({serial("LM", 0): 1, serial("LM", 1): 1})
    assert _legacy_serials(emu) == {serial("LM", 2), serial("LM", 3)}
    with inv.uow(write=False) as uow:
        states = {j.id: j.state for j in uow.session.query(Job).all()}
    assert states == {first.job_id: "cancelled", again.job_id: "done"}


class _Crash(Exception):
    pass


def test_a_crash_after_the_first_copy_resumes_without_duplicates(inv: Inventory, emu: Emu) -> None:
    _tenant(inv, emu)

    def crash(row: MigrationRow) -> None:
        raise _Crash(row.serial)

    with pytest.raises(_Crash):
        migrate_legacy(inv, hook=crash, actor=ACTOR)
    assert show_token(inv, serial("LM", 0))["state"] == "activated"
    assert show_token(inv, serial("LM", 1))["state"] == "in_stock"
    done = migrate_legacy(inv, resume=True, actor=ACTOR)
    assert [(r.serial, r.outcome) for r in done.rows] == [(serial("LM", 1), "migrated")]
    assert _graph_serials(emu) == Counter({serial("LM", 0): 1, serial("LM", 1): 1})
    assert [a for a, _ in _entries(inv, "legacy.migrate")].count("legacy.migrate") == 2


def test_a_sigkill_after_entra_created_the_device_resumes_without_a_second_one(
    inv: Inventory, emu: Emu, cfg: Config
) -> None:
    legacy = [_legacy(n, who) for n, who in enumerate(("ada", "grace", "alan"))]
    emu.seed({**SEED, "legacyTokens": legacy})
    emu.configure(rejectDuplicateSerials=False)  # a second device would be accepted, and seen
    import_seeds(inv, entra_csv("LM", 3), "lm.csv", actor="t")
    child = subprocess.run(
        [sys.executable, "-m", "tests.service.migrate_worker", json.dumps(cfg.sections), "2"],
        cwd=ROOT,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"},
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    assert show_token(inv, serial("LM", 0))["state"] == "activated"
    assert show_token(inv, serial("LM", 1))["state"] == "in_stock"  # our record never saw it
    assert _graph_serials(emu)[serial("LM", 1)] == 1  # but Entra created its device
    with pytest.raises(OathdeskError) as refused:
        migrate_legacy(inv, actor=ACTOR)
    assert refused.value.code == "service.migration_open"
    done = migrate_legacy(inv, resume=True, actor=ACTOR)
    assert [(r.serial, r.outcome) for r in done.rows] == [
        (serial("LM", 1), "migrated"),
        (serial("LM", 2), "migrated"),
    ]
    assert _graph_serials(emu) == Counter(serial("LM", n) for n in range(3))  # each once
    assert _legacy_serials(emu) == set()
    assert verify_audit(inv).ok
