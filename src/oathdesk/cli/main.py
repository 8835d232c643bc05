"""The ``oathdesk`` entry point: sub-command registration and the one place errors become exits."""

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
from oathdesk.cli import console
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


# (module, command group name) of the sub-command groups, each a ``typer.Typer`` named ``app``
_GROUPS = (
    ("oathdesk.cli.seeds_cmd", "seeds"),
    ("oathdesk.cli.emulator_cmd", "emulator"),
    ("oathdesk.cli.entra_cmd", "entra"),
    ("oathdesk.cli.tokens_cmd", "tokens"),
    ("oathdesk.cli.sync_cmd", "sync"),
    ("oathdesk.cli.audit_cmd", "audit"),
    ("oathdesk.cli.keys_cmd", "keys"),
    ("oathdesk.cli.db_cmd", "db"),
    ("oathdesk.cli.accounts_cmd", "accounts"),
    ("oathdesk.cli.delivery_cmd", "delivery"),
)
# (module, command name) of single commands at the top level, each a function named after it
_COMMANDS = (("oathdesk.cli.report_cmd", "report"), ("oathdesk.cli.serve_cmd", "serve"))


def _register() -> None:
    import importlib

    from oathdesk.cli import demo_cmd

    for module_name, group in _GROUPS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:  # a group still being built is left out, nothing else
            if exc.name != module_name:
                raise
            continue
        app.add_typer(module.app, name=group)
    for module_name, command in _COMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        app.command(command)(getattr(module, command))
    app.command("demo")(demo_cmd.demo)


_register()


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
