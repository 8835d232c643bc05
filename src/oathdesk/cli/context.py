"""What one run of ``oathdesk`` knows before its command runs: the root options and the clock.

Why: the root callback parses ``--emulator URL --ca-file F`` once; commands get them (and the
clock, which tests replace) from this object on Typer's ``ctx.obj`` instead of through process
environment variables, so nothing leaks from one run into the next and nothing is global.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import typer

from oathdesk.bootstrap import build_inventory, missing_database_file
from oathdesk.config import Config, load_config
from oathdesk.domain import Clock, SystemClock
from oathdesk.service import Inventory, ServiceError


@dataclass(frozen=True)
class CliContext:
    """The root options of this run; ``config`` and ``open_inventory`` apply them.

    ``emulator`` and ``ca_file`` stand for ``[graph] emulator`` and ``[graph] ca_file`` and win
    over the file and the ``OATHDESK_GRAPH_*`` variables, for this run only.
    """

    emulator: str | None = None
    ca_file: Path | None = None
    clock: Clock = field(default_factory=SystemClock)

    def config(self, path: Path | None = None) -> Config:
        """The configuration of ``--config`` (or its defaults) with the root options on top."""
        loaded = load_config(path)
        graph: dict[str, str] = {}
        if self.emulator:
            graph["emulator"] = self.emulator
        if self.ca_file is not None:
            graph["ca_file"] = str(self.ca_file)
        if not graph:
            return loaded
        sections = {**loaded.sections, "graph": dict(loaded.sections.get("graph", {})) | graph}
        return replace(loaded, sections=sections)

    def open_inventory(self, path: Path | None = None) -> Inventory:
        """The configured inventory on this run's clock, its schema checked first (so a missing
        ``oathdesk db upgrade`` is a clear error). A SQLite file that does not exist is that
        error too, before anything (file, folder, key files) is created."""
        config = self.config(path)
        missing = missing_database_file(config)
        if missing is not None:
            raise ServiceError(
                f"No inventory at {missing}; create it with `oathdesk db upgrade` (with the same "
                "--config), or point --config at an existing one. Nothing was created.",
                code="service.not_migrated",
            )
        inv = build_inventory(config, clock=self.clock)
        try:
            inv.check_schema()
        except BaseException:
            inv.close()
            raise
        return inv


def cli_context(ctx: typer.Context) -> CliContext:
    """The context of the command running now, from ``ctx.obj`` (commands declare
    ``ctx: typer.Context``; Typer passes it and keeps it out of ``--help``).

    A command run without the root callback (``typer.run(serve)``, a group invoked on its own)
    gets the defaults: no overrides, the system clock.
    """
    return ctx.ensure_object(CliContext)
