"""The roster hand-out shown by ``oathdesk demo``: a roster checked (a guest refused by line and
code), then handed out with activation from the sealed seed, each command and its output shown.

Why a separate step: bulk hand-out is the administrator's first request; the demo runs the very
command they would (``oathdesk tokens hand-out``) against the demo's inventory and emulator, so
what they see is what they get. The demo's settings allow activation from the seed
(``[handout] activate_from_seed = true``); a real installation decides that (docs/handout.md).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from oathdesk.bootstrap import checkpoint_file, database_url
from oathdesk.cli import console
from oathdesk.cli.demo_walkthrough import _step, write_private
from oathdesk.config import Config

ROSTER_PEOPLE = ("Lin Roster", "Mei Roster", "Noor Roster", "Omar Roster")
SETTINGS = {"activate_from_seed": True, "workers": 4}


def store_section(folder: Path) -> dict[str, str]:
    """The demo inventory's files by name (the defaults of a data folder ``folder``)."""
    plain = Config(sections={"data": {"dir": str(folder)}})
    return {
        "url": database_url(plain),
        "key_file": str(folder / "keys" / "store-keys.json"),
        "audit_key_file": str(folder / "keys" / "audit-key.json"),
        "audit_checkpoint_file": str(checkpoint_file(plain)),
    }


def roster_users(domain: str) -> list[dict[str, Any]]:
    """Members who get their tokens from the demo's roster."""
    return [
        {
            "id": str(uuid.uuid4()),
            "userPrincipalName": f"{name.split()[0].lower()}@{domain}",
            "displayName": name,
            "userType": "Member",
            "roles": [],
        }
        for name in ROSTER_PEOPLE
    ]


def show(folder: Path, config_file: Path, serials: list[str], upns: list[str], guest: str) -> int:
    """Write a roster with a guest on its last line, check it, then hand out the fixed roster;
    returns the hand-out's exit status."""
    rows = [
        f"{s},{u},Token of {u.split('@')[0].title()}" for s, u in zip(serials, upns, strict=False)
    ]
    checked = folder / "roster-first-try.csv"
    roster = folder / "roster.csv"
    header = "serial,upn,display name"
    extra = f"{serials[len(rows)]},{guest}" if len(serials) > len(rows) else f"{serials[0]},{guest}"
    write_private(checked, ("\n".join([header, *rows, extra]) + "\n").encode())
    write_private(roster, ("\n".join([header, *rows]) + "\n").encode())
    config = ["--config", str(config_file)]
    console.rule("oathdesk demo: a roster hand-out")
    console.out.print(
        f"{len(rows)} people get their tokens from a roster (serial,upn,display name). The "
        "demo allows activation from the sealed seed (\\[handout] activate_from_seed = true)."
    )
    _step(
        "1. Check the roster first: nothing is sent while a row has an error",
        ["tokens", "hand-out", str(checked), "--activate-from-seed", "--dry-run", *config],
    )
    return _step(
        "2. The fixed roster: assign and activate from the sealed seed, exactly once",
        [
            "tokens",
            "hand-out",
            str(roster),
            "--activate-from-seed",
            "--reason",
            "demo roster",
            "--report",
            str(folder / "roster-report.csv"),
            *config,
        ],
    )
