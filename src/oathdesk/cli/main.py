"""The ``oathdesk`` entry point: root options, the command tree, and where errors become exits."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from oathdesk import __version__
from oathdesk.cli import (
    accounts_cmd,
    audit_cmd,
    console,
    db_cmd,
    delivery_cmd,
    demo_cmd,
    emulator_cmd,
    entra_cmd,
    handout_cmd,
    keys_cmd,
    notify_cmd,
    report_cmd,
    seeds_cmd,
    seeds_otp_cmd,
    serve_cmd,
    sync_cmd,
    tokens_cmd,
    tokens_lifecycle_cmd,
)
from oathdesk.cli.context import CliContext
from oathdesk.cli.exits import HINTS, Exit, exit_for
from oathdesk.domain import OathdeskError

app = typer.Typer(
    name="oathdesk",
    help="Manage hardware OATH tokens (TOTP/HOTP) for Microsoft Entra ID: seed files, "
    "inventory, Graph, the Entra emulator.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        console.out.print(f"oathdesk {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    emulator: Annotated[
        str | None,
        typer.Option(
            "--emulator",
            metavar="URL",
            help="Point every Graph call of the command at an oathdesk emulator "
            "(e.g. https://127.0.0.1:8443); same as OATHDESK_GRAPH_EMULATOR.",
        ),
    ] = None,
    ca_file: Annotated[
        Path | None,
        typer.Option(
            "--ca-file",
            exists=True,
            dir_okay=False,
            help="An extra CA to trust for Graph (the emulator's ca.pem); same as "
            "OATHDESK_GRAPH_CA_FILE.",
        ),
    ] = None,
) -> None:
    """oathdesk: every command takes --config FILE (default ./oathdesk.toml or $OATHDESK_CONFIG);
    --emulator URL --ca-file F before any command sends its Graph calls to an emulator."""
    # a caller (a test) may hand in a context of its own, e.g. with a fixed clock
    base = ctx.obj if isinstance(ctx.obj, CliContext) else CliContext()
    ctx.obj = replace(
        base,
        emulator=emulator or base.emulator,
        ca_file=ca_file if ca_file is not None else base.ca_file,
    )


# The command tree. ``seeds`` and ``tokens`` are each written in two modules.
seeds_otp_cmd.register(seeds_cmd.app)
tokens_lifecycle_cmd.register(tokens_cmd.app)
handout_cmd.register(tokens_cmd.app)
app.add_typer(seeds_cmd.app, name="seeds")
app.add_typer(emulator_cmd.app, name="emulator")
app.add_typer(entra_cmd.app, name="entra")
app.add_typer(tokens_cmd.app, name="tokens")
app.add_typer(sync_cmd.app, name="sync")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(keys_cmd.app, name="keys")
app.add_typer(db_cmd.app, name="db")
app.add_typer(accounts_cmd.app, name="accounts")
app.add_typer(delivery_cmd.app, name="delivery")
app.add_typer(notify_cmd.app, name="notify")
app.command("report")(report_cmd.report)
app.command("serve")(serve_cmd.serve)
app.command("demo")(demo_cmd.demo)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit status; no traceback ever reaches the user."""
    console.reset_consoles()
    try:
        # standalone mode: Typer reports usage errors itself and exits through SystemExit
        app(args=list(argv) if argv is not None else None, prog_name="oathdesk")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else int(Exit.USAGE))
    except OathdeskError as exc:
        console.err.print(f"[bold red]error[/] [dim]({exc.code})[/]: {escape(exc.message)}")
        if exc.code in HINTS:
            console.err.print(f"[dim]hint[/]: {escape(HINTS[exc.code])}")
        return int(exit_for(exc))
    except KeyboardInterrupt:
        console.err.print("interrupted")
        return 130
    except Exception as exc:
        if os.environ.get("OATHDESK_DEBUG"):
            raise
        console.err.print(
            f"[bold red]internal error[/]: {escape(type(exc).__name__)}. This is a bug in "
            "oathdesk; run again with OATHDESK_DEBUG=1 to see details and report it."
        )
        return int(Exit.INTERNAL)
    return int(Exit.OK)


def run() -> None:
    sys.exit(main())
