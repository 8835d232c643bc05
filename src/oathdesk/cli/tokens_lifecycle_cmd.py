"""``oathdesk tokens assign|activate|deactivate|unassign|delete|replace|resync|lost|found``, and
``identify``.

Each action changes one token in the inventory and in Entra, with a reason and an actor, through
the lifecycle's ``perform`` (the same dispatch as the web console and the API); the code of an
activation is checked here first. Registered on the ``tokens`` group by ``register``.
"""

from __future__ import annotations

from pathlib import Path
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
    show_result,
)
from oathdesk.cli.exits import Exit
from oathdesk.cli.options import ConfigOpt, JsonOpt
from oathdesk.domain import UsageError
from oathdesk.service import Action, ActionRequest, identify, perform
from oathdesk.service.tap import DEFAULT_MINUTES, TapRequest

app = typer.Typer()


def _act(
    ctx: typer.Context,
    config: Path | None,
    as_json: bool,
    serial: str,
    action: Action,
    asked: ActionRequest,
    actor: str | None,
) -> None:
    """Run ``action`` on ``serial`` and print what it did."""
    run_action(
        ctx, config, as_json, lambda inv: perform(inv, serial, action, asked, actor=actor_of(actor))
    )


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
    _act(ctx, config, as_json, serial, Action.ASSIGN, ActionRequest(reason, user=user), actor)


@app.command("activate")
def activate_command(
    ctx: typer.Context,
    serial: SerialArg,
    code: CodeArg,
    reason: ReasonOpt,
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            help="Hand it over to this user (UPN or id): assigned first if in stock; a token "
            "held by someone else is refused.",
        ),
    ] = None,
    display_name: Annotated[str | None, typer.Option("--name", help="Name in Entra.")] = None,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check the code here first (a typo never reaches Entra), then activate in Entra."""
    asked = ActionRequest(reason, user=user, code=code, display_name=display_name)
    _act(ctx, config, as_json, serial, Action.ACTIVATE, asked, actor)


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
    _act(ctx, config, as_json, serial, Action.DEACTIVATE, ActionRequest(reason), actor)


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
    _act(ctx, config, as_json, serial, Action.UNASSIGN, ActionRequest(reason), actor)


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
    _act(
        ctx,
        config,
        as_json,
        serial,
        Action.DELETE,
        ActionRequest(reason, keep_seed=keep_seed),
        actor,
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
    tap: Annotated[
        bool,
        typer.Option(
            "--tap",
            help="Also issue the user a Temporary Access Pass (to sign in until the new token "
            "reaches them); printed once, stored nowhere.",
        ),
    ] = False,
    tap_minutes: Annotated[
        int, typer.Option("--tap-minutes", help="The pass's lifetime (10 to 43200 minutes).")
    ] = DEFAULT_MINUTES,
    tap_reusable: Annotated[
        bool,
        typer.Option("--tap-reusable", help="The pass works for its whole lifetime, not once."),
    ] = False,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Mark a token lost or broken (deactivated) and give its user a new one, activated; with
    --tap, also a Temporary Access Pass, printed once."""
    if why not in ("lost", "broken"):
        raise UsageError("--why must be lost or broken.")
    kind: Literal["lost", "broken"] = "lost" if why == "lost" else "broken"
    asked = ActionRequest(
        reason,
        code=code,
        why=kind,
        new_serial=new,
        display_name=display_name,
        tap=TapRequest(tap_minutes, not tap_reusable).check() if tap else None,
    )
    with inventory(ctx, config) as inv:
        result = perform(inv, serial, Action.REPLACE, asked, actor=actor_of(actor))
    show_result(result, as_json)
    issued = result.tap
    if issued is not None:  # the one place the pass is ever shown
        if as_json:
            return
        once = "one sign-in" if issued.one_time else "any number of sign-ins"
        console.out.print(
            f"Temporary Access Pass for {escape(issued.user)} (valid until {issued.expires}, "
            f"{once}): {escape(issued.reveal())}"
        )
        console.out.print(
            "Give it to the user now: oathdesk keeps no copy and cannot show it again."
        )
    elif "tap_error" in result.extra:
        failed = result.extra["tap_error"]
        console.err.print(
            f"The token was replaced, but Entra issued no Temporary Access Pass "
            f"({failed['code']}): {escape(failed['message'])}"
        )
        raise typer.Exit(int(Exit.SERVICE))


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
    asked = ActionRequest(reason, code=first, second_code=second)
    _act(ctx, config, as_json, serial, Action.RESYNC, asked, actor)


@app.command("lost")
def lost_command(
    ctx: typer.Context,
    serial: SerialArg,
    reason: ReasonOpt,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Mark a token lost (deactivated in Entra first if it signs in); it stays with its user."""
    _act(ctx, config, as_json, serial, Action.LOST, ActionRequest(reason), actor)


@app.command("found")
def found_command(
    ctx: typer.Context,
    serial: SerialArg,
    reason: ReasonOpt,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A lost token was found: back to its holder (deactivated or assigned: activate it with a
    code to sign in again), or back to stock if nobody held it."""
    _act(ctx, config, as_json, serial, Action.FOUND, ActionRequest(reason), actor)


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
