"""``oathdesk notify``: send the queued notifications, queue reminders, test the mail settings.

Why commands and not a daemon: the outbox is drained by whatever runs ``notify send`` (cron,
a systemd timer, a scheduler calling ``send_pending``), so one missed run only delays mails;
``reminders`` is cron-friendly (idempotent within its interval, ``--dry-run`` lists who is due).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from oathdesk.cli import console
from oathdesk.cli.actions import inventory
from oathdesk.cli.exits import Exit
from oathdesk.cli.options import ConfigOpt, JsonOpt
from oathdesk.service import Inventory, outbox_status, send_pending, send_reminders, send_test
from oathdesk.service.notify import SendReport

app = typer.Typer(
    help="Mail (and webhook) notifications to token holders: send, remind, test, status.",
    no_args_is_help=True,
)
CHUNK = 50


def _drain(inv: Inventory, *, quiet: bool) -> SendReport:
    """Every due row, a chunk at a time, with a progress bar on the terminal."""
    total = SendReport()
    due = outbox_status(inv)["counts"]["pending"]
    columns = (TextColumn("sending"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console.err, disable=quiet or due == 0) as bar:
        task = bar.add_task("send", total=due)
        while True:
            report = send_pending(inv, limit=CHUNK)
            total.sent += report.sent
            total.retrying += report.retrying
            total.failed += report.failed
            total.problems += report.problems
            handled = report.sent + report.retrying + report.failed
            bar.advance(task, handled)
            if handled < CHUNK:
                return total


def _show_send(report: SendReport) -> None:
    console.out.print(
        f"{report.sent} sent, {report.retrying} to retry later, {report.failed} given up"
    )
    for problem in report.problems[:20]:
        console.out.print(
            f"  #{problem['id']} {problem['event']} {problem['channel']} "
            f"{escape(problem['serial'])} (attempt {problem['attempts']}, {problem['outcome']}): "
            f"{escape(str(problem['error']))}"
        )


@app.command("send")
def send_command(ctx: typer.Context, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Deliver every notification due now (cron-friendly). Exits 9 when one was given up."""
    with inventory(ctx, config) as inv:
        report = _drain(inv, quiet=as_json)
    if as_json:
        console.print_json(report.to_dict())
    else:
        _show_send(report)
    if report.failed:
        raise typer.Exit(int(Exit.SERVICE))


@app.command("reminders")
def reminders_command(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List who is due a reminder; queue and send nothing.")
    ] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remind users whose token is assigned but not activated (after the notify reminder_days
    setting, at most once per token per reminder_interval_days), then send the outbox."""
    with inventory(ctx, config) as inv:
        report = send_reminders(inv, dry_run=dry_run)
        sent = None if dry_run else _drain(inv, quiet=as_json)
    result: dict[str, Any] = report.to_dict() | {"send": sent.to_dict() if sent else None}
    if as_json:
        console.print_json(result)
        return
    table = Table("serial", "user", "days", title="due a reminder" + (" (dry run)" * dry_run))
    for row in report.due:
        table.add_row(escape(row["serial"]), escape(str(row["user"])), str(row["days"]))
    console.out.print(table)
    if sent is not None:
        console.out.print(f"{report.queued} message(s) queued")
        _show_send(sent)


@app.command("test")
def test_command(
    ctx: typer.Context,
    address: Annotated[str, typer.Argument(help="Where to send the test mail.")],
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check every template renders, then send a test mail to ADDRESS now (not queued)."""
    with inventory(ctx, config) as inv:
        result = send_test(inv, address)
    if as_json:
        console.print_json(result)
    else:
        console.out.print(
            f"test mail sent to {escape(result['sent_to'])} via {escape(result['via'])}"
        )


@app.command("status")
def status_command(ctx: typer.Context, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """The notification settings in force (no secret), the outbox's counts, its last failures."""
    with inventory(ctx, config) as inv:
        status = outbox_status(inv)
    if as_json:
        console.print_json(status)
        return
    settings = status["settings"]
    where = settings["mail_dir"] or f"{settings['smtp_host'] or '-'}:{settings['smtp_port']}"
    console.out.print(
        f"notifications {'on' if settings['enabled'] else 'off'}; mail via {escape(where)} "
        f"({settings['smtp_security']}); webhook {'set' if settings['webhook'] else 'not set'}"
    )
    console.out.print(", ".join(f"{k}: {v}" for k, v in status["counts"].items()))
    for failure in status["failures"]:
        console.out.print(
            f"  #{failure['id']} {failure['event']} {failure['channel']} "
            f"{escape(failure['serial'])} {failure['status']} after {failure['attempts']}: "
            f"{escape(str(failure['error']))}"
        )
