"""``oathdesk keys rotate``: a new sealing key (saved to the key file first), every seed re-sealed.

Run it again to finish an interrupted rotation; seeds that would not open are listed, never lost.
"""

from __future__ import annotations

import typer
from rich.markup import escape

from oathdesk.cli import console
from oathdesk.cli.actions import ActorOpt, actor_of, inventory
from oathdesk.cli.exits import Exit
from oathdesk.cli.options import ConfigOpt, JsonOpt
from oathdesk.service import rotate_keys

app = typer.Typer(help="The keys that seal seeds at rest.", no_args_is_help=True)


@app.callback()
def _keys() -> None:
    """The keys that seal seeds at rest (kept in a key file outside the database)."""


@app.command("rotate")
def rotate_command(
    ctx: typer.Context, actor: ActorOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False
) -> None:
    """Add a new key and re-seal every seed under it. Exits 9 if some seed would not open."""
    with inventory(ctx, config) as inv:
        report = rotate_keys(inv, actor=actor_of(actor))
    if as_json:
        console.print_json(report.to_dict())
    else:
        console.out.print(f"new key {report.key_id}: {report.resealed} seed(s) re-sealed")
        if report.failed:
            console.out.print("could not open: " + escape(", ".join(report.failed[:50])))
    if report.failed:
        raise typer.Exit(int(Exit.SERVICE))
