"""``oathdesk sync``: push stock to Entra as a resumable job, and reconcile with Entra's listing.

``push`` run again after an interruption resumes the same job and never creates a token twice;
``reconcile`` lists every difference and, with ``--fix``, repairs what is safe.
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
from oathdesk.service import push, reconcile

app = typer.Typer(
    help="Keep Entra in step with the inventory: push stock, reconcile differences.",
    no_args_is_help=True,
)


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
