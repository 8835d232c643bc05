"""``oathdesk tokens lost`` and ``oathdesk tokens found`` through the entry point, on SQLite and
PostgreSQL, against the HTTPS emulator: a lost token found goes back to its holder, and the
output says what to do next."""

from __future__ import annotations

from pathlib import Path

from oathdesk.cli.exits import Exit
from tests.cli.inventory_helpers import Cli
from tests.service.support import entra_csv, secret_for, serial, totp, upn


def test_lost_then_found_through_the_cli(cli: Cli, tmp_path: Path) -> None:
    cli("db", "upgrade")
    seeds = tmp_path / "k.csv"
    seeds.write_bytes(entra_csv("K", 1))
    cli("tokens", "import", str(seeds))
    sn = serial("K", 0)
    why = ["--reason", "INC-77", "--actor", "helpdesk:bob"]
    cli("tokens", "activate", sn, totp(secret_for("K", 0)), "--user", upn("ada"), *why)
    lost = cli("tokens", "lost", sn, *why)
    assert lost.out.startswith(f"token {sn}: activated -> lost (deactivated in Entra; marked lost")
    found = cli("tokens", "found", sn, *why)
    assert found.out.startswith(f"token {sn}: lost -> deactivated")
    assert f"next: activate it with the code it shows to let {upn('ada')}" in found.out
    shown = cli("tokens", "show", sn, "--json").json()
    assert (shown["state"], shown["user_upn"]) == ("deactivated", upn("ada"))
    again = cli("tokens", "found", sn, *why, "--json", expect=None)
    assert again.code == Exit.CONFLICT and "found needs a token that is lost" in again.err
    missing = cli("tokens", "found", sn, "--actor", "x", expect=None)
    assert missing.code == Exit.USAGE  # --reason is required
