"""``oathdesk sync``: push stock to Entra as a resumable job, and reconcile with Entra's listing.

``push`` run again after an interruption resumes the same job and never creates a token twice;
``reconcile`` lists every difference and, with ``--fix``, repairs what is safe; ``clean-legacy``
removes a legacy CSV copy the way Microsoft documents, only when asked (``--yes``);
``migrate-legacy`` (in :mod:`oathdesk.cli.sync_migrate`) moves legacy copies into the inventory.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from oathdesk.cli import console
from oathdesk.cli.actions import ActorOpt, actor_of, inventory
from oathdesk.cli.exits import Exit
from oathdesk.cli.options import ConfigOpt, JsonOpt
from oathdesk.cli.sync_migrate import migrate_legacy_command
from oathdesk.service import clean_legacy, push, reconcile

app = typer.Typer(
    help="Keep Entra in step with the inventory: push stock, reconcile differences, clean up "
    "or migrate legacy CSV copies.",
    no_args_is_help=True,
)
app.command("migrate-legacy")(migrate_legacy_command)


@app.command("push")
def push_command(
    ctx: typer.Context,
    batch: Annotated[int | None, typer.Option("--batch", help="Only this import batch.")] = None,
    destroy_seeds: Annotated[
        bool | None,
        typer.Option(
            "--destroy-seeds/--keep-seeds",
            help="Destroy each seed once Entra holds the token (default: [store] "
            "destroy_seeds_after_sync).",
            show_default=False,
        ),
    ] = None,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Send every in_stock token to Entra; resumes an interrupted push. Exits 9 if any failed."""
    with inventory(ctx, config) as inv:
        report = push(inv, actor=actor_of(actor), batch_id=batch, destroy_seeds=destroy_seeds)
    if as_json:
        console.print_json(report.to_dict())
    else:
        console.out.print(
            f"job {report.job_id}{' (resumed)' if report.resumed else ''}: "
            f"{report.created} created, {report.present} already in Entra, "
            f"{report.skipped} skipped, {len(report.failed)} failed"
            + (f", {report.seeds_destroyed} seed(s) destroyed" if report.seeds_destroyed else "")
        )
        for f in report.failed[:50]:
            console.out.print(f"  {escape(f['serial'])}: {f['code']}: {escape(f['message'])}")
    if report.failed:
        raise typer.Exit(int(Exit.SERVICE))


@app.command("reconcile")
def reconcile_command(
    ctx: typer.Context,
    fix: Annotated[
        bool, typer.Option("--fix", help="Repair what is safe; say what is left alone.")
    ] = False,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare the inventory with Entra: missing, unknown, status and assignee differences,
    serials twice (a legacy CSV upload beside a Graph one)."""
    with inventory(ctx, config) as inv:
        doc = reconcile(inv, actor=actor_of(actor), fix=fix)
    if as_json:
        console.print_json(doc)
        return
    console.out.print(
        f"Entra holds {doc['entra_tokens']} token(s); the inventory {doc['inventory_tokens']}"
    )
    if not doc["findings"]:
        console.out.print("no differences")
        return
    table = Table("difference", "serial", "ours", "Entra", "outcome")
    for f in doc["findings"]:
        outcome = f.get("fixed") or f.get("untouched") or ""
        ours = f["ours"].get("state", "") if f["ours"] else ""
        theirs = f["entra"].get("status", "") if f["entra"] else ""
        table.add_row(f["kind"], escape(f["serial"]), ours, theirs, escape(outcome))
    console.out.print(table)


@app.command("clean-legacy")
def clean_legacy_command(
    ctx: typer.Context,
    serial: Annotated[str, typer.Argument(help="The serial held twice (legacy CSV + Graph).")],
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            help="The holder (UPN or id); default: whoever holds the Graph copy or our record.",
            show_default=False,
        ),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Remove the copies; without it, only list them.")
    ] = False,
    reason: Annotated[
        str | None,
        typer.Option("--reason", help="Why, for the audit log.", show_default=False),
    ] = None,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove a user's legacy CSV copy of SERIAL as Microsoft documents it: the legacy method
    from the user, then its device. Lists only, unless --yes. The Graph copy is never touched;
    an interrupted run finishes on the next one, and a second run does nothing more."""
    with inventory(ctx, config) as inv:
        report = clean_legacy(
            inv,
            serial,
            actor=actor_of(actor),
            user=user,
            apply=yes,
            **({"reason": reason} if reason else {}),
        )
    if as_json:
        console.print_json(report.to_dict())
        return
    for c in report.copies:  # one line each: ids are too long for a table's columns
        console.out.print(
            f"{c.outcome}: user {c.user_id}: legacy method {c.method_id}, device "
            f"{c.device_id} (the Graph copy {c.kept_device_id} stays)",
            soft_wrap=True,
        )
    if report.hint:
        console.out.print(escape(report.hint))
