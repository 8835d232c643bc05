"""``oathdesk sync clean-legacy`` through the entry point: a dry-run listing by default, the
documented clean-up with ``--yes`` (audited), and nothing more on a second run."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.inventory_helpers import Cli
from tests.service.fixtures import Emu
from tests.service.support import (
    SEED,
    b32,
    entra_csv,
    secret_for,
    serial,
    upn,
)


def test_clean_legacy_lists_then_cleans_then_does_nothing(
    cli: Cli, emu: Emu, tmp_path: Path
) -> None:
    sn = serial("CL", 0)
    legacy = {
        "user": upn("ada"),
        "serialNumber": sn,
        "secretKey": b32(secret_for("CL", 0)),
        "manufacturer": "Token2",
        "model": "C301",
        "timeIntervalInSeconds": 30,
    }
    emu.seed({**SEED, "legacyTokens": [legacy]})
    cli("db", "upgrade")
    seeds = tmp_path / "cl.csv"
    seeds.write_bytes(entra_csv("CL", 1))
    cli("tokens", "import", str(seeds))
    cli("sync", "push")
    cli("tokens", "assign", sn, upn("ada"), "--reason", "ticket 1")
    (record,) = emu.control.get(f"{emu.url}/_emulator/state").json()["legacyTokens"]

    listed = cli("sync", "clean-legacy", sn)
    assert record["device"]["id"] in listed.out and "--yes" in listed.out
    assert len(emu.control.get(f"{emu.url}/_emulator/state").json()["legacyTokens"]) == 1

    done = cli("sync", "clean-legacy", sn, "--user", upn("ada"), "--yes", "--json").json()
    assert [c["outcome"] for c in done["copies"]] == ["cleaned"] and done["applied"] is True
    assert emu.control.get(f"{emu.url}/_emulator/state").json()["legacyTokens"] == []
    exported = [json.loads(line) for line in cli("audit", "export").out.splitlines()]
    cleanup = [e for e in exported if e["action"].startswith("legacy.cleanup.")]
    assert [(e["action"], e["subject"]) for e in cleanup] == [
        ("legacy.cleanup.start", sn),
        ("legacy.cleanup.done", sn),
    ]
    assert cli("audit", "verify", "--json").json()["ok"] is True

    again = cli("sync", "clean-legacy", sn, "--yes")
    assert "no legacy copy found" in again.out
    shown = cli("tokens", "show", sn, "--json").json()
    assert shown["state"] == "assigned" and shown["user_upn"] == upn("ada")
