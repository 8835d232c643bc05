"""``oathdesk tokens list --sort`` offers the console inventory's orders (``store.sorting``),
each ascending or descending, on SQLite and PostgreSQL; anything else is a usage error naming
them."""

from __future__ import annotations

from pathlib import Path

from oathdesk.cli.exits import Exit
from oathdesk.store.sorting import SORT_NAMES
from tests.cli.inventory_helpers import Cli
from tests.service.support import entra_csv, serial


def _serials(cli: Cli, *args: str) -> list[str]:
    page = cli("tokens", "list", "--json", *args).json()
    return [t["serial"] for t in page["items"]]


def test_tokens_list_sorts_as_the_console_does(cli: Cli, tmp_path: Path) -> None:
    cli("db", "upgrade")
    for name, prefix, count in (("first.csv", "Z", 4), ("second.csv", "A", 2)):
        (tmp_path / name).write_bytes(entra_csv(prefix, count))  # models C200, C301, C200, ...
        cli("tokens", "import", str(tmp_path / name))
    a0, a1 = serial("A", 0), serial("A", 1)
    z0, z1, z2, z3 = (serial("Z", n) for n in range(4))

    assert _serials(cli) == [a0, a1, z0, z1, z2, z3]
    assert _serials(cli, "--sort", "-serial") == [z3, z2, z1, z0, a1, a0]
    assert _serials(cli, "--sort", "manufacturer") == [a0, z0, z2, a1, z1, z3]  # then model
    assert _serials(cli, "--sort", "-batch")[:2] == [a1, a0]  # the newer batch first
    assert _serials(cli, "--sort", "created")[:4] == [z0, z1, z2, z3]
    for name in SORT_NAMES:  # every console order works both ways over the whole inventory
        for key in (name, f"-{name}"):
            assert sorted(_serials(cli, "--sort", key)) == [a0, a1, z0, z1, z2, z3], key
    paged = cli("tokens", "list", "--json", "--sort", "-last_used", "--limit", "4").json()
    rest = _serials(cli, "--sort", "-last_used", "--limit", "4", "--cursor", paged["next_cursor"])
    assert len(paged["items"]) + len(rest) == 6  # the cursor pages this order too

    shown = cli("tokens", "list", "--sort", "-last_used").out
    assert "last used" in shown and "never" in shown
    refused = cli("tokens", "list", "--sort", "colour", expect=int(Exit.USAGE))
    assert "last_used" in refused.err and "'colour'" in refused.err
    assert "last_used" in cli("tokens", "list", "--help").out
