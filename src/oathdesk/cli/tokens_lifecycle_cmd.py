"""``oathdesk tokens assign|activate|deactivate|unassign|delete|replace|resync|identify``.

Each action changes one token in the inventory and in Entra, with a reason and an actor; the
code of an activation is checked here first. Registered on the ``tokens`` group by ``register``.
"""

from __future__ import annotations

from typing import Annotated, Literal

import typer
from rich.markup import escape
from rich.table import Table

from oathdesk.cli import console
from oathdesk.cli.actions import (
    ActorOpt,
    CodeArg,
    ReasonOpt,
    SerialArg,
    actor_of,
    inventory,
    run_action,
)
from oathdesk.cli.options import ConfigOpt, JsonOpt
from oathdesk.domain import UsageError
from oathdesk.service import (
    activate,
    assign,
    deactivate,
    delete,
    identify,
    replace,
    resync,
    unassign,
)

app = typer.Typer()


@app.command("assign")
def assign_command(
    ctx: typer.Context,
    serial: SerialArg,
    user: Annotated[str, typer.Argument(help="The user's UPN or object id.")],
    reason: ReasonOpt,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Give a token from stock to a user in Entra (not yet activated)."""
    run_action(
        ctx,
        config,
        as_json,
        lambda inv: assign(inv, serial, user, actor=actor_of(actor), reason=reason),
    )


@app.command("activate")
def activate_command(
    ctx: typer.Context,
    serial: SerialArg,
    code: CodeArg,
    reason: ReasonOpt,
    user: Annotated[
        str | None, typer.Option("--user", help="Assign to this user first (UPN or id).")
    ] = None,
    display_name: Annotated[str | None, typer.Option("--name", help="Name in Entra.")] = None,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check the code here first (a typo never reaches Entra), then activate in Entra."""
    run_action(
        ctx,
        config,
        as_json,
        lambda inv: activate(
            inv,
            serial,
            code,
            actor=actor_of(actor),
            reason=reason,
            user=user,
            display_name=display_name,
        ),
    )


@app.command("deactivate")
def deactivate_command(
    ctx: typer.Context,
    serial: SerialArg,
    reason: ReasonOpt,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Stop a token signing in; it stays with its user."""
    run_action(
        ctx,
        config,
        as_json,
        lambda inv: deactivate(inv, serial, actor=actor_of(actor), reason=reason),
    )


@app.command("unassign")
def unassign_command(
    ctx: typer.Context,
    serial: SerialArg,
    reason: ReasonOpt,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Take a token back from its user; it returns to stock."""
    run_action(
        ctx,
        config,
        as_json,
        lambda inv: unassign(inv, serial, actor=actor_of(actor), reason=reason),
    )


@app.command("delete")
def delete_command(
    ctx: typer.Context,
    serial: SerialArg,
    reason: ReasonOpt,
    keep_seed: Annotated[
        bool, typer.Option("--keep-seed", help="Keep the sealed seed (default: destroy it).")
    ] = False,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Retire a token: unassigned and deleted in Entra, its seed destroyed."""
    run_action(
        ctx,
        config,
        as_json,
        lambda inv: delete(inv, serial, actor=actor_of(actor), reason=reason, keep_seed=keep_seed),
    )


@app.command("replace")
def replace_command(
    ctx: typer.Context,
    serial: SerialArg,
    code: Annotated[str, typer.Argument(help="The code the REPLACEMENT token shows now.")],
    reason: ReasonOpt,
    why: Annotated[str, typer.Option("--why", help="lost or broken.")] = "lost",
    new: Annotated[
        str | None, typer.Option("--new", help="Replacement serial (default: oldest in stock).")
    ] = None,
    display_name: Annotated[str | None, typer.Option("--name", help="Name in Entra.")] = None,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Mark a token lost or broken (deactivated) and give its user a new one, activated."""
    if why not in ("lost", "broken"):
        raise UsageError("--why must be lost or broken")
    kind: Literal["lost", "broken"] = "lost" if why == "lost" else "broken"
    run_action(
        ctx,
        config,
        as_json,
        lambda inv: replace(
            inv,
            serial,
            code,
            why=kind,
            actor=actor_of(actor),
            reason=reason,
            new_serial=new,
            display_name=display_name,
        ),
    )


@app.command("resync")
def resync_command(
    ctx: typer.Context,
    serial: SerialArg,
    first: Annotated[str, typer.Argument(help="A code the token shows.")],
    second: Annotated[str, typer.Argument(help="The next code it shows.")],
    reason: ReasonOpt,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Find a drifted token's clock from two consecutive codes; Entra re-learns it."""
    run_action(
        ctx,
        config,
        as_json,
        lambda inv: resync(inv, serial, first, second, actor=actor_of(actor), reason=reason),
    )


@app.command("identify")
def identify_command(
    ctx: typer.Context,
    codes: Annotated[list[str], typer.Argument(help="One code, or two consecutive codes.")],
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Find which token shows a code (two consecutive codes give a sure answer). Exits 8 if none."""
    with inventory(ctx, config) as inv:
        found = identify(inv, codes)
    if as_json:
        console.print_json({"count": len(found), "tokens": found})
    else:
        table = Table("serial", "state", "user", "offset (steps)")
        for c in found:
            table.add_row(
                escape(c["serial"]), c["state"], escape(c["user_upn"] or ""), str(c["offset"])
            )
        console.out.print(table)
    if not found:
        raise typer.Exit(8)


def register(tokens: typer.Typer) -> None:
    """Add the lifecycle commands to the ``tokens`` group."""
    for command in app.registered_commands:
        tokens.registered_commands.append(command)
