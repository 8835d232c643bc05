"""``oathdesk db upgrade``: create or migrate the inventory database (SQLite or PostgreSQL).

The database is ``[store] url`` (``OATHDESK_STORE_URL``), else SQLite in the data folder.
"""

from __future__ import annotations

import typer

from oathdesk.bootstrap import upgrade_database
from oathdesk.cli import console
from oathdesk.cli.options import ConfigOpt, JsonOpt, config_from

app = typer.Typer(help="The inventory database.", no_args_is_help=True)


@app.callback()
def _db() -> None:
    """The inventory database (SQLite by default, PostgreSQL by URL)."""


@app.command("upgrade")
def upgrade_command(ctx: typer.Context, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Run the migrations up to the newest schema (safe to run again)."""
    before, after, where = upgrade_database(config_from(ctx, config))
    if as_json:
        console.print_json({"database": where, "from": before, "to": after})
    elif before == after:
        console.out.print(f"{where}: already at {after}")
    else:
        console.out.print(f"{where}: migrated from {before or 'empty'} to {after}")
