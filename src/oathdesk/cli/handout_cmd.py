"""``oathdesk tokens hand-out``: give a roster's tokens to their users (and, by choice, activate
them from the sealed seed) as one resumable job, with a progress bar and a per-row report.

The roster is checked row by row first (``--dry-run`` stops there); any error stops the run
before Entra is touched. A killed run is finished with ``--resume JOB``: rows that were in flight
are settled from Entra's state first, so nothing is assigned twice. Registered on the ``tokens``
group by ``register``.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from oathdesk.cli import console
from oathdesk.cli.actions import ActorOpt, actor_of, inventory
from oathdesk.cli.exits import Exit
from oathdesk.cli.options import ConfigOpt, JsonOpt, config_from, read_bytes
from oathdesk.domain import Problem, UsageError
from oathdesk.service import (
    HandoutSettings,
    Inventory,
    RosterInvalid,
    check_choice,
    handout_outcomes,
    handout_status,
    plan_handout,
    roster_from_batch,
    roster_from_file,
    run_handout,
    start_handout,
)

MAX_ROSTER = 32 * 1024 * 1024


def _problems(problems: list[Problem], *, limit: int = 50) -> None:
    errors = sum(p.is_error for p in problems)
    if errors:
        console.err.print(f"[bold]{errors} row(s) cannot be handed out; nothing was sent[/]")
    for p in problems[:limit]:
        serial = f" [{escape(p.serial)}]" if p.serial else ""
        colour = "red" if p.is_error else "yellow"
        console.err.print(f"{escape(p.locator)}{serial} [{colour}]{p.code}[/]: {escape(p.message)}")
    if len(problems) > limit:
        console.err.print(f"... and {len(problems) - limit} more (--json lists them all)")


def _write_report(path: Path, rows: list[dict[str, Any]]) -> None:
    fields = ["line", "serial", "user", "outcome", "code", "message", "attempts"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def _run(inv: Inventory, job_id: int, actor: str, settings: HandoutSettings, quiet: bool) -> Any:
    total = handout_status(inv, job_id)["progress"]["total"]
    bar = Progress(
        TextColumn("hand-out"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeRemainingColumn(),
        console=console.err,
        disable=quiet,
    )
    with bar:
        task = bar.add_task("hand-out", total=total, failed=0)

        def progress(counts: dict[str, int]) -> None:
            finished = counts.get("done", 0) + counts.get("failed", 0) + counts.get("skipped", 0)
            bar.update(task, completed=finished, failed=counts.get("failed", 0))

        return run_handout(inv, job_id, actor=actor, settings=settings, progress=progress)


def hand_out_command(
    ctx: typer.Context,
    roster: Annotated[
        Path | None,
        typer.Argument(
            help="Roster CSV: serial,upn[,display name] per line, header optional.",
            show_default=False,
        ),
    ] = None,
    batch: Annotated[
        int | None,
        typer.Option(
            "--batch",
            help="Use the users the seed file of this import batch names (Entra CSV upn, "
            "Entra JSON assignTo, PSKC UserId) as the roster.",
            show_default=False,
        ),
    ] = None,
    activate_from_seed: Annotated[
        bool,
        typer.Option(
            "--activate-from-seed",
            help="Also activate each token with a code made from its sealed seed (needs "
            "[handout] activate_from_seed = true; the token is usable before its holder has it).",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the roster and list the plan; send nothing.")
    ] = False,
    resume: Annotated[
        int | None,
        typer.Option("--resume", help="Finish the hand-out job JOB.", show_default=False),
    ] = None,
    reason: Annotated[
        str, typer.Option("--reason", help="Why (a ticket number, a sentence); audited.")
    ] = "roster hand-out",
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="Graph calls at once (default [handout] workers).", min=1),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Also write the per-row outcome as CSV to this file."),
    ] = None,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Hand out a roster's tokens: assign each to its user in Entra (and with
    --activate-from-seed activate it), exactly once, resumable. Exits 9 if any row failed."""
    sources = sum(x is not None for x in (roster, batch, resume))
    if sources != 1:
        raise UsageError("Name one roster file, --batch N, or --resume JOB.", code="usage.invalid")
    settings = HandoutSettings.from_config(config_from(ctx, config))
    if workers:
        settings = HandoutSettings(settings.activate_from_seed, workers, settings.rate)
    who = actor_of(actor)
    with inventory(ctx, config) as inv:
        if resume is None:
            if activate_from_seed and not dry_run:
                check_choice(settings, True)
            source = (
                roster_from_file(read_bytes(roster, "roster", MAX_ROSTER), roster.name)
                if roster is not None
                else roster_from_batch(inv, batch or 0)
            )
            plan = plan_handout(inv, source, activate=activate_from_seed, workers=settings.workers)
            if dry_run:
                _show_plan(plan.to_dict(), plan.problems, as_json)
                if plan.errors:
                    raise typer.Exit(int(Exit.INVALID_INPUT))
                return
            try:
                job_id = start_handout(inv, plan, actor=who, reason=reason, settings=settings)
            except RosterInvalid as exc:
                if as_json:
                    console.print_json(exc.to_dict())
                else:
                    _problems(exc.problems)
                raise typer.Exit(int(Exit.INVALID_INPUT)) from None
            if not as_json:
                _problems([p for p in plan.problems if not p.is_error])
                console.err.print(f"hand-out job {job_id}: {len(plan.rows)} row(s)")
        else:
            job_id = resume
        done = _run(inv, job_id, who, settings, quiet=as_json)
        rows = handout_outcomes(inv, job_id)
    if report is not None:
        _write_report(report, rows)
    if as_json:
        console.print_json({**done.to_dict(), "rows": rows})
    else:
        _show_outcomes(done.to_dict(), rows)
    if done.progress.get("failed") or done.state == "pending":
        raise typer.Exit(int(Exit.SERVICE))


def _show_plan(doc: dict[str, Any], problems: list[Problem], as_json: bool) -> None:
    if as_json:
        console.print_json(doc)
        return
    _problems(problems)
    how = "assign and activate from the sealed seed" if doc["activate_from_seed"] else "assign"
    console.out.print(f"dry run: {len(doc['rows'])} row(s) to {how}; nothing was sent")
    table = Table("line", "serial", "user", "display name")
    for r in doc["rows"][:200]:
        table.add_row(
            str(r["line"]), escape(r["serial"]), escape(r["user"]), escape(r["display_name"])
        )
    console.out.print(table)


def _show_outcomes(doc: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    p = doc["progress"]
    console.out.print(
        f"job {doc['job_id']}{' (resumed)' if doc['resumed'] else ''}: {p.get('done', 0)} done, "
        f"{p.get('failed', 0)} failed, {p.get('pending', 0) + p.get('sending', 0)} left"
        + (
            f"; {doc['settled_in_flight']} in-flight row(s) settled from Entra"
            if doc["settled_in_flight"]
            else ""
        )
    )
    table = Table("line", "serial", "user", "outcome", "why")
    for r in rows[:200]:
        why = f"{r['code']}: {r['message']}" if r["code"] else ""
        table.add_row(
            str(r["line"] or ""),
            escape(r["serial"]),
            escape(r["user"] or ""),
            r["outcome"],
            escape(why),
        )
    console.out.print(table)
    if len(rows) > 200:
        console.out.print(f"... and {len(rows) - 200} more rows (--report FILE or --json)")


def register(app: typer.Typer) -> None:
    app.command("hand-out")(hand_out_command)
