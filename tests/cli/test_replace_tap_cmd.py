"""``oathdesk tokens replace --tap``: the Temporary Access Pass printed once (stdout, one line),
a lifetime outside 10-43,200 minutes refused first (exit 2), the audit naming the pass's issue
and never the pass."""

from __future__ import annotations

from pathlib import Path

from tests.cli.inventory_helpers import Cli
from tests.service.fixtures import Emu
from tests.service.support import entra_csv, secret_for, serial, totp, upn


def test_replace_with_a_pass_prints_it_once(cli: Cli, emu: Emu, tmp_path: Path) -> None:
    cli("db", "upgrade")
    seeds = tmp_path / "rt.csv"
    seeds.write_bytes(entra_csv("RT", 2))
    cli("tokens", "import", str(seeds))
    old, new = serial("RT", 0), serial("RT", 1)
    first = totp(secret_for("RT", 0))
    cli("tokens", "activate", old, first, "--user", upn("ada"), "--reason", "start")
    refused = cli(
        "tokens", "replace", old, "123456", "--reason", "x", "--tap", "--tap-minutes", "5", expect=2
    )
    assert "usage.tap_lifetime" in refused.err
    done = cli(
        "tokens",
        "replace",
        old,
        totp(secret_for("RT", 1)),
        "--reason",
        "INC-9 lost",
        "--new",
        new,
        "--tap",
        "--tap-minutes",
        "120",
    )
    line = next(x for x in done.out.splitlines() if x.startswith("Temporary Access Pass for"))
    assert upn("ada") in line and "one sign-in" in line
    secret = line.rsplit(": ", 1)[1].strip()
    assert len(secret) >= 8 and done.out.count(secret) == 1 and secret not in done.err
    exported = cli("audit", "export").out
    assert '"user.tap_issued"' in exported and secret not in exported
    shown = cli("tokens", "show", new, "--json").out
    assert secret not in shown
