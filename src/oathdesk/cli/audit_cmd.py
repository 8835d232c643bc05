"""``oathdesk audit``: anchor, verify and export the keyed, hash-chained audit log.

``checkpoint`` appends the chain's signed head to the checkpoint file (and syslog); ``verify``
checks the chain against the latest checkpoint and exits 9, naming the first edited, deleted or
reordered entry, or a head moved back, when it is broken (``oathdesk delivery audit
checkpoint|verify`` do the same for the delivery service's chain).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from oathdesk.cli import console
from oathdesk.cli.actions import inventory
from oathdesk.cli.options import ConfigOpt, JsonOpt
from oathdesk.domain import InputFileError
from oathdesk.service import ChainReport, Checkpoint, checkpoint_audit, export_audit, verify_audit

app = typer.Typer(
    help="The tamper-evident audit log: anchor it, verify it, export it.", no_args_is_help=True
)

SyslogOpt = Annotated[
    bool, typer.Option("--syslog", help="Also send the signed head to syslog (facility auth).")
]


@app.command("verify")
def verify_command(ctx: typer.Context, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Check every entry against the one before it and against the latest checkpoint. Exits 9
    if the chain is broken."""
    with inventory(ctx, config) as inv:
        report = verify_audit(inv)
    show_chain(report, as_json=as_json)


@app.command("checkpoint")
def checkpoint_command(
    ctx: typer.Context,
    syslog: SyslogOpt = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Verify the chain, then append its head (seq, hash, time), signed with the audit key, to
    the checkpoint file. Run it regularly; keep the file (or syslog) off the database's host."""
    with inventory(ctx, config) as inv:
        report, made, path = checkpoint_audit(inv, syslog=syslog)
    show_checkpoint(report, made, path, as_json=as_json)


def show_checkpoint(
    report: ChainReport, made: Checkpoint, path: Path, *, as_json: bool, name: str = "audit chain"
) -> None:
    if as_json:
        console.print_json(made.to_dict() | {"file": str(path), "checked": report.checked})
        return
    console.out.print(
        f"{name} checkpoint at entry {made.seq} ({report.checked} entries verified) "
        f"written to {path}"
    )


def show_chain(report: ChainReport, *, as_json: bool, name: str = "audit chain") -> None:
    """Print a chain's walk (``--json``: the whole report); a broken chain exits 9."""
    if as_json:
        console.print_json(report.to_dict())
    elif report.ok:
        anchored = (
            f", checkpoint at entry {report.checkpoint_seq} holds"
            if report.checkpoint_seq is not None
            else " (no checkpoint yet: run the checkpoint command)"
        )
        console.out.print(f"{name} intact: {report.checked} entries verified{anchored}")
    else:
        console.out.print(f"[bold red]{name} broken[/] at entry {report.seq}: {report.message}")
    report.raise_if_broken()


@app.command("export")
def export_command(
    ctx: typer.Context,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write here instead of standard output.", dir_okay=False
        ),
    ] = None,
    after: Annotated[int, typer.Option("--after", min=0, help="Only entries after this seq.")] = 0,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the audit entries as JSON lines (with their hashes, so a SIEM can re-check them)."""
    count = 0
    with inventory(ctx, config) as inv:
        try:
            sink = output.open("w", encoding="utf-8") if output else sys.stdout
        except OSError as exc:
            raise InputFileError(
                f"{output}: cannot be written ({exc.strerror}).", code="file.unwritable"
            ) from None
        try:
            for line in export_audit(inv, after=after):
                sink.write(line + "\n")
                count += 1
        finally:
            if output:
                sink.close()
            else:
                sink.flush()
    if output:
        if as_json:
            console.print_json({"output": str(output), "entries": count})
        else:
            console.out.print(f"{count} audit entries written to {output}")
