"""``oathdesk sync migrate-legacy``: move legacy CSV copies into the Graph inventory, as one job.

Why a module of its own: the command has a dry-run table, a progress bar and a resume, more
than the other ``sync`` commands; ``sync_cmd`` registers it. The dry run prints what each
legacy copy would go through (or why it is left alone); a real run shows a bar on stderr while
the job works and the same table at the end. Exit 9 when a copy failed (run again with
``--resume``).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from oathdesk.cli import console
from oathdesk.cli.actions import ActorOpt, actor_of, inventory
from oathdesk.cli.exits import Exit
from oathdesk.cli.options import ConfigOpt, JsonOpt
from oathdesk.service import MigrationReport, migrate_legacy


class _Bar:
    """A spinner line while users are read, then a bar over the copies being migrated."""

    def __init__(self, enabled: bool) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console.err,
            transient=True,
            disable=not enabled,
        )
        self.task: TaskID | None = None

    def scanned(self, users: int) -> None:
        if self.task is None:
            self.task = self.progress.add_task("reading users' methods", total=None)
        self.progress.update(self.task, completed=users)

    def todo(self, count: int) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task("migrating legacy copies", total=count)

    def step(self, _row: object) -> None:
        if self.task is not None:
            self.progress.advance(self.task)


def _table(report: MigrationReport) -> None:
    table = Table("serial", "user", "legacy", "ours", "outcome", "steps / why")
    for row in report.rows:
        what = "; ".join(row.steps) if row.outcome == "planned" else (row.message or "")
        if row.outcome == "failed":
            what = f"{row.reason}: {row.message}"
        table.add_row(
            escape(row.serial),
            escape(row.user_upn or row.user_id),
            row.legacy_status,
            row.ours,
            row.outcome,
            escape(what),
        )
    console.out.print(table)


def migrate_legacy_command(
    ctx: typer.Context,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="List what would happen to each legacy copy; change nothing."
        ),
    ] = False,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue the unfinished migration job (after a kill or failed copies).",
        ),
    ] = False,
    user: Annotated[
        list[str] | None,
        typer.Option(
            "--user",
            help="Only this holder's copies (UPN or id; repeat it); default: every user.",
            show_default=False,
        ),
    ] = None,
    activate_from_seed: Annotated[
        bool,
        typer.Option(
            "--activate-from-seed",
            help="Also activate (from the sealed seed) the Graph copy of a legacy copy that was "
            "only assigned; an activated legacy copy is always migrated activated.",
        ),
    ] = False,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why, for the audit log.", show_default=False)
    ] = None,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Move every legacy (CSV-uploaded) token whose seed oathdesk holds into the Graph
    inventory: create the device, assign it to the same user, activate it with a code from the
    sealed seed (when the legacy copy was active), then remove the legacy copy. One audited job;
    killed or failed, run it again with --resume. Tokens without a seed, guests and users who
    are gone are reported and left alone."""
    bar = _Bar(enabled=not as_json and not dry_run)
    with inventory(ctx, config) as inv, bar.progress:
        report = migrate_legacy(
            inv,
            actor=actor_of(actor),
            dry_run=dry_run,
            resume=resume,
            users=user or None,
            activate_assigned=activate_from_seed,
            hook=bar.step,
            scanned=bar.scanned,
            todo=bar.todo,
            **({"reason": reason} if reason else {}),
        )
    if as_json:
        console.print_json(report.to_dict())
    else:
        head = "dry run: nothing changed" if dry_run else f"job {report.job_id}"
        if report.resumed and not dry_run:
            head += " (resumed)"
        counts = ", ".join(f"{n} {k}" for k, n in sorted(report.counts().items()))
        console.out.print(f"{head}: {counts or 'no legacy copies found'}")
        if report.rows:
            _table(report)
    if any(r.outcome == "failed" for r in report.rows):
        raise typer.Exit(int(Exit.SERVICE))
