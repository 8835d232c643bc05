"""``oathdesk sync migrate-legacy`` through the entry point: the dry run's table and JSON (nothing
changes), the run (exit 9 while a copy fails), ``--resume`` finishing it, the audit chain intact."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.inventory_helpers import Cli
from tests.service.fixtures import Emu
from tests.service.support import SEED, b32, entra_csv, secret_for, serial, upn


def _legacy(n: int, who: str) -> dict[str, object]:
    return {
        "user": upn(who),
        "serialNumber": serial("MC", n),
        "secretKey": b32(secret_for("MC", n)),
        "manufacturer": "Token2",
        "model": "C301",
        "timeIntervalInSeconds": 30,
    }


def test_dry_run_then_run_then_resume(cli: Cli, emu: Emu, tmp_path: Path) -> None:
    emu.seed({**SEED, "legacyTokens": [_legacy(0, "ada"), _legacy(1, "alan")]})
    cli("db", "upgrade")
    seeds = tmp_path / "mc.csv"
    seeds.write_bytes(entra_csv("MC", 1))
    cli("tokens", "import", str(seeds))

    table = cli("sync", "migrate-legacy", "--dry-run")
    assert "dry run: nothing changed" in table.out and "1 left, 1 planned" in table.out
    assert (
        serial("MC", 0) in table.out and "activate it with a code from the sealed seed" in table.out
    )
    assert "holds no seed" in table.out
    plan = cli("sync", "migrate-legacy", "--dry-run", "--json").json()
    assert [(r["serial"], r["outcome"]) for r in plan["rows"]] == [
        (serial("MC", 0), "planned"),
        (serial("MC", 1), "left"),
    ]
    assert len(emu.control.get(f"{emu.url}/_emulator/state").json()["legacyTokens"]) == 2

    rule = {"method": "DELETE", "path": "hardwareOathDevices/", "status": 503, "count": 50}
    emu.control.post(f"{emu.url}/_emulator/faults", json={"rules": [rule]})
    failed = cli("sync", "migrate-legacy", "--reason", "ticket 7", expect=9)
    assert "1 failed" in failed.out
    emu.control.delete(f"{emu.url}/_emulator/faults")
    done = cli("sync", "migrate-legacy", "--resume", "--json").json()
    assert done["resumed"] is True and done["counts"] == {"migrated": 1}
    shown = cli("tokens", "show", serial("MC", 0), "--json").json()
    assert (shown["state"], shown["user_upn"]) == ("activated", upn("ada"))
    exported = [json.loads(line) for line in cli("audit", "export").out.splitlines()]
    moved = [e for e in exported if e["action"] == "legacy.migrate"]
    assert [e["reason"] for e in moved] == ["ticket 7"]
    assert cli("audit", "verify", "--json").json()["ok"] is True
