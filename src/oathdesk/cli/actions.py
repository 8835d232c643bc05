"""What the inventory command groups share: actor and reason options, opening the inventory,
and printing the outcome of one lifecycle action."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from oathdesk.cli import console
from oathdesk.cli.context import cli_context
from oathdesk.service import ActionResult, Inventory

ActorOpt = Annotated[
    str | None,
    typer.Option(
        "--actor", help="Who acts, for the audit log (default cli:<login>).", show_default=False
    ),
]
ReasonOpt = Annotated[
    str, typer.Option("--reason", help="Why (a ticket number, a sentence); audited.")
]


def actor_of(actor: str | None) -> str:
    if actor:
        return actor
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def inventory(ctx: typer.Context, config: Path | None) -> Inventory:
    """The inventory a command's ``--config`` names, as this run's root options say."""
    return cli_context(ctx).open_inventory(config)


def run_action(
    ctx: typer.Context,
    config: Path | None,
    as_json: bool,
    action: Callable[[Inventory], ActionResult],
) -> None:
    with inventory(ctx, config) as inv:
        result = action(inv)
    show_result(result, as_json)


def show_result(result: ActionResult, as_json: bool) -> None:
    """What an action did: the token's move and steps, and a replacement's new token. A
    Temporary Access Pass's value appears in JSON only (``temporary_access_pass.value``): the
    caller asked for it; the plain output is printed by the replace command itself."""
    if as_json:
        doc = result.to_dict()
        if result.tap is not None:
            doc["temporary_access_pass"]["value"] = result.tap.reveal()
        console.print_json(doc)
        return
    console.out.print(
        f"token {escape(result.serial)}: {result.before} -> {result.token['state']}"
        + (f" ({escape('; '.join(result.steps))})" if result.steps else "")
    )
    if "replacement" in result.extra:
        new = result.extra["replacement"]
        console.out.print(
            f"replacement {escape(new['serial'])}: {new['state']} for "
            f"{escape(new['user_upn'] or '')}"
        )


SerialArg = Annotated[str, typer.Argument(help="Serial number printed on the token.")]
CodeArg = Annotated[str, typer.Argument(help="The code the token shows now.")]
