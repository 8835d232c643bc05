"""``oathdesk demo``: a guided walk through the seed-file job on a generated, encrypted sample."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import typer

from oathdesk.cli import console


def demo(
    data: Annotated[
        Path, typer.Option("--data", help="Folder for the demo's files.", file_okay=False)
    ] = Path("data/demo"),
) -> None:
    """Generate a sample vendor delivery and walk through inspecting and converting it."""
    from oathdesk.cli.demo_walkthrough import walkthrough

    walkthrough(data, secrets.token_urlsafe(12))
    console.out.print("[green]demo finished[/]")
