"""``oathdesk demo``: the product on this machine: emulator + inventory + console + delivery
service, or a CLI walkthrough of the seed-file job (``--walkthrough``)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import typer

from oathdesk.cli import console
from oathdesk.cli.demo_console import start
from oathdesk.cli.demo_walkthrough import walkthrough as run_walkthrough
from oathdesk.cli.options import ConfigOpt, config_from


def _serve(app: object, port: int) -> None:
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", server_header=False)  # type: ignore[arg-type]


def demo(
    ctx: typer.Context,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Folder for the demo (rebuilt on each run; default: demo/ in the configured "
            "data folder, ./data/demo without one).",
            file_okay=False,
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="Port of the console.")
    ] = 8080,
    emulator_port: Annotated[
        int, typer.Option("--emulator-port", min=0, max=65535, help="Emulator port (0: any).")
    ] = 0,
    delivery_port: Annotated[
        int,
        typer.Option(
            "--delivery-port", min=0, max=65535, help="Port of the seed delivery service (0: any)."
        ),
    ] = 8444,
    walkthrough: Annotated[
        bool,
        typer.Option(
            "--walkthrough", help="Run the seed-file walkthrough in the terminal instead."
        ),
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Start the demo: a local Entra emulator, a SQLite inventory with a sample delivery imported
    and pushed, the web console, and the seed delivery service with sample orders and a mailbox
    page; prints the URLs, the logins and how to trust the emulator's CA. No network is used.
    """
    cfg = config_from(ctx, config)
    folder = data or (cfg.data_dir / "demo" if cfg.path("data", "dir") else Path("data/demo"))
    if walkthrough:
        statuses = run_walkthrough(folder, secrets.token_urlsafe(12))
        if any(statuses):
            console.err.print("[red]a demo step failed[/]: see its output above")
            raise typer.Exit(1)
        console.out.print("[green]demo finished[/]")
        return
    start(
        folder,
        port=port,
        emulator_port=emulator_port,
        delivery_port=delivery_port,
        serve=_serve,
    )
