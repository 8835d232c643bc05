"""``oathdesk demo``: a guided walk through the seed-file job on a generated, encrypted sample."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import typer

from oathdesk.cli import console
from oathdesk.cli.options import ConfigOpt, config_from


def demo(
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Folder for the demo's files (default: demo/ in the data "
            "folder of the configuration, ./data/demo without one).",
            file_okay=False,
            show_default=False,
        ),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Generate a sample vendor delivery (AES ZIP) and walk through inspecting and converting it.

    Runs entirely on this machine: random sample seeds, no network.
    """
    from oathdesk.cli.demo_walkthrough import walkthrough

    cfg = config_from(config)
    folder = data or (cfg.data_dir / "demo" if cfg.get("data", "dir") else Path("data/demo"))
    statuses = walkthrough(folder, secrets.token_urlsafe(12))
    if any(statuses):
        console.err.print("[red]a demo step failed[/]: see its output above")
        raise typer.Exit(1)
    console.out.print("[green]demo finished[/]")
