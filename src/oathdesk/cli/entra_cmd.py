"""``oathdesk entra``: upload seed files into the Entra inventory and run each token's lifecycle.

Every command reaches real Entra or, with ``--emulator URL --ca-file F``, a local emulator through
the same client; nothing printed or logged ever holds a seed.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from oathdesk.cli import console
from oathdesk.cli.exits import Exit
from oathdesk.cli.options import (
    DEFAULT_SOURCE,
    ConfigOpt,
    JsonOpt,
    SeedSource,
    config_from,
    seed_file_options,
)
from oathdesk.domain import Problem, SeedFileInvalid, UsageError
from oathdesk.formats.csv_safety import neutralise
from oathdesk.graph import (
    Device,
    GraphClient,
    GraphSettings,
    Journal,
    Uploader,
    UploadOptions,
    UploadReport,
    connect,
    journal_path,
)

app = typer.Typer(
    help="Microsoft Entra ID: upload tokens (bulk, resumable) and assign, activate, "
    "deactivate, unassign, delete them.",
    no_args_is_help=True,
)

EmulatorOpt = Annotated[
    str | None,
    typer.Option(
        "--emulator",
        metavar="URL",
        help="Point authority and Graph at an oathdesk emulator (e.g. https://127.0.0.1:8443).",
        show_default=False,
    ),
]
CaFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--ca-file",
        help="An extra CA to trust (the emulator's ca.pem); overrides the ca_file setting.",
        dir_okay=False,
        show_default=False,
    ),
]
DeviceCodeOpt = Annotated[
    bool,
    typer.Option("--device-code", help="Sign in as a user with the device-code flow (delegated)."),
]
_CODE = re.compile(r"\d{6}")


def _client(
    ctx: typer.Context,
    config: Path | None,
    emulator: str | None,
    ca_file: Path | None,
    device_code: bool,
) -> tuple[GraphClient, GraphSettings]:
    settings = GraphSettings.from_config(
        config_from(ctx, config), emulator=emulator, ca_file=ca_file, delegated=device_code
    )
    prompt = lambda message: console.err.print(escape(message))  # noqa: E731
    return connect(settings, device_code=device_code, prompt=prompt), settings


def _print_problems(problems: list[Problem]) -> None:
    errors = [p for p in problems if p.is_error]
    console.err.print(f"[bold]{len(errors)} error(s); nothing was sent to Entra[/]")
    for p in errors[:50]:
        serial = f" [{escape(p.serial)}]" if p.serial else ""
        console.err.print(f"{escape(p.locator)}{serial} [red]{p.code}[/]: {escape(p.message)}")
    if len(errors) > 50:
        console.err.print(f"... and {len(errors) - 50} more")


def _report_table(report: UploadReport, dry_run: bool) -> None:
    counts = report.counts()
    summary = Table("outcome", "tokens", title="upload" + (" (dry run)" if dry_run else ""))
    rows = [("planned (would be created)", "planned")] if dry_run else [("created", "created")]
    rows += [("already present", "present"), ("failed", "failed")]
    for label, key in rows:
        summary.add_row(label, str(counts[key]))
    console.out.print(summary)
    failed = report.of("failed")
    if failed:
        table = Table("serial", "code", "reason", title="failed")
        for item in failed:
            table.add_row(escape(item.serial), item.code, escape(item.reason))
        console.out.print(table)


@app.command("upload")
@seed_file_options
def upload_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Seed file (any format; plain, ZIP, PGP).")],
    chunk: Annotated[int, typer.Option("--chunk", min=1, help="Tokens per bulk request.")] = 50,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=32, help="Requests in flight.")
    ] = 4,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check against the live inventory; send nothing.")
    ] = False,
    source: SeedSource = DEFAULT_SOURCE,
    emulator: EmulatorOpt = None,
    ca_file: CaFileOpt = None,
    device_code: DeviceCodeOpt = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Put every token of a seed file into the Entra inventory, each serial exactly once.

    Checks Entra's rules first (nothing is sent if any token breaks them). Serials already in
    Entra are reported as present. A journal beside FILE lets an interrupted upload resume:
    run the same command again. Exits 9 if any token failed.
    """
    result = source.open(file, config_from(ctx, config), target="entra")
    problems = result.errors + result.target_problems
    if problems:
        _print_problems(problems)
        raise SeedFileInvalid(
            f"{file}: {len(problems)} token problem(s) for Entra; nothing was sent.", problems
        )
    client, settings = _client(ctx, config, emulator, ca_file, device_code)
    journal = Journal(journal_path(file), tenant=settings.tenant_id, base_url=settings.base_url)
    options = UploadOptions(chunk_size=chunk, concurrency=concurrency, dry_run=dry_run)
    with (
        client,
        Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console.err,
            transient=True,
            disable=as_json,
        ) as progress,
    ):
        task = progress.add_task("checking" if dry_run else "uploading", total=len(result.records))
        uploader = Uploader(
            client,
            options,
            journal=journal,
            progress=lambda n: progress.advance(task, n),
        )
        report = uploader.upload(result.records)
    if as_json:
        console.print_json({"file": str(file), "dry_run": dry_run, **report.to_dict()})
    else:
        _report_table(report, dry_run)
    if report.of("failed"):
        raise typer.Exit(int(Exit.SERVICE))


@app.command("list")
def list_command(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option("--status", help="available, assigned, activated...")
    ] = None,
    serial: Annotated[str | None, typer.Option("--serial", help="One serial number.")] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
    emulator: EmulatorOpt = None,
    ca_file: CaFileOpt = None,
    device_code: DeviceCodeOpt = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the Entra token inventory (every page)."""
    if as_csv and as_json:
        raise UsageError("Choose one of --json and --csv.")
    client, _ = _client(ctx, config, emulator, ca_file, device_code)
    with client:
        devices = list(client.list_devices(status=status, serial=serial))
    if as_json:
        console.print_json({"count": len(devices), "devices": [d.to_dict() for d in devices]})
    elif as_csv:
        fields = list(Device.__dataclass_fields__)
        writer = csv.DictWriter(sys.stdout, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for d in devices:
            writer.writerow({k: _csv_safe(k, v) for k, v in d.to_dict().items()})
        sys.stdout.flush()
    else:
        table = Table("serial", "status", "manufacturer", "model", "assigned to", "id")
        for d in devices:
            table.add_row(
                escape(d.serial_number),
                d.status,
                escape(d.manufacturer),
                escape(d.model),
                escape(d.assigned_to_name or d.assigned_to_id),
                d.id,
            )
        console.out.print(table)
        console.out.print(f"{len(devices)} token(s)")


def _show(device: Device, as_json: bool) -> None:
    if as_json:
        console.print_json(device.to_dict())
        return
    table = Table("property", "value", show_header=False)
    for key, value in device.to_dict().items():
        table.add_row(key, escape("" if value is None else str(value)))
    console.out.print(table)


@app.command("show")
def show_command(
    ctx: typer.Context,
    serial: Annotated[str, typer.Argument(help="Serial number printed on the token.")],
    emulator: EmulatorOpt = None,
    ca_file: CaFileOpt = None,
    device_code: DeviceCodeOpt = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one token of the inventory. Exits 8 if no token has this serial."""
    client, _ = _client(ctx, config, emulator, ca_file, device_code)
    with client:
        device = client.device_by_serial(serial)
    _show(device, as_json)


def _holder(client: GraphClient, serial: str, action: str) -> tuple[Device, str]:
    device = client.device_by_serial(serial)
    if not device.assigned_to_id:
        raise UsageError(
            f"Token {serial} is not assigned to anyone, so it cannot be {action}; "
            f"assign it first with: oathdesk entra assign {serial} USER.",
            code="usage.not_assigned",
        )
    return device, client.method_id_for(device.assigned_to_id, device)


def _done(message: str, device: Device, as_json: bool) -> None:
    if as_json:
        console.print_json(device.to_dict())
    else:
        console.out.print(message)


@app.command("assign")
def assign_command(
    ctx: typer.Context,
    serial: Annotated[str, typer.Argument(help="Serial number printed on the token.")],
    user: Annotated[str, typer.Argument(help="The user's object id or UPN.")],
    emulator: EmulatorOpt = None,
    ca_file: CaFileOpt = None,
    device_code: DeviceCodeOpt = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Assign a token to a user (not yet activated)."""
    client, _ = _client(ctx, config, emulator, ca_file, device_code)
    with client:
        device = client.device_by_serial(serial)
        client.assign(user, device.id)
        device = client.get_device(device.id)
    _done(f"token {escape(serial)} assigned to {escape(user)}", device, as_json)


@app.command("activate")
def activate_command(
    ctx: typer.Context,
    serial: Annotated[str, typer.Argument(help="Serial number printed on the token.")],
    code: Annotated[str, typer.Argument(help="The 6-digit code the token shows now.")],
    emulator: EmulatorOpt = None,
    ca_file: CaFileOpt = None,
    device_code: DeviceCodeOpt = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Activate an assigned token with the code it shows (Entra checks the code)."""
    if not _CODE.fullmatch(code.strip()):
        raise UsageError("CODE must be the 6 digits the token shows now, e.g. 012345.")
    client, _ = _client(ctx, config, emulator, ca_file, device_code)
    with client:
        device, method_id = _holder(client, serial, "activated")
        client.activate(device.assigned_to_id, method_id, code.strip())
        device = client.get_device(device.id)
    _done(f"token {escape(serial)} activated", device, as_json)


def _holder_action(
    ctx: typer.Context,
    serial: str,
    verb: str,
    config: Path | None,
    emulator: str | None,
    ca_file: Path | None,
    device_code: bool,
    as_json: bool,
) -> None:
    client, _ = _client(ctx, config, emulator, ca_file, device_code)
    with client:
        device, method_id = _holder(client, serial, verb)
        call = client.deactivate if verb == "deactivated" else client.unassign
        call(device.assigned_to_id, method_id)
        device = client.get_device(device.id)
    _done(f"token {escape(serial)} {verb}", device, as_json)


@app.command("deactivate")
def deactivate_command(
    ctx: typer.Context,
    serial: Annotated[str, typer.Argument(help="Serial number printed on the token.")],
    emulator: EmulatorOpt = None,
    ca_file: CaFileOpt = None,
    device_code: DeviceCodeOpt = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Deactivate a token; it stays assigned to its user."""
    _holder_action(ctx, serial, "deactivated", config, emulator, ca_file, device_code, as_json)


@app.command("unassign")
def unassign_command(
    ctx: typer.Context,
    serial: Annotated[str, typer.Argument(help="Serial number printed on the token.")],
    emulator: EmulatorOpt = None,
    ca_file: CaFileOpt = None,
    device_code: DeviceCodeOpt = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Take a token from its user; it goes back to the inventory as available."""
    _holder_action(ctx, serial, "unassigned", config, emulator, ca_file, device_code, as_json)


@app.command("delete")
def delete_command(
    ctx: typer.Context,
    serial: Annotated[str, typer.Argument(help="Serial number printed on the token.")],
    emulator: EmulatorOpt = None,
    ca_file: CaFileOpt = None,
    device_code: DeviceCodeOpt = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete a token from the Entra inventory (it must be unassigned first)."""
    client, _ = _client(ctx, config, emulator, ca_file, device_code)
    with client:
        device = client.device_by_serial(serial)
        if device.assigned_to_id:
            raise UsageError(
                f"Token {serial} is assigned; unassign it first: oathdesk entra unassign {serial}.",
                code="usage.assigned",
            )
        client.delete_device(device.id)
    _done(f"token {escape(serial)} deleted from Entra", device, as_json)


@app.command("users")
def users_command(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="A UPN, an object id, or the start of a name.")],
    emulator: EmulatorOpt = None,
    ca_file: CaFileOpt = None,
    device_code: DeviceCodeOpt = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Find users to assign tokens to."""
    client, _ = _client(ctx, config, emulator, ca_file, device_code)
    with client:
        users = client.find_users(query)
    if as_json:
        console.print_json({"count": len(users), "users": [u.to_dict() for u in users]})
        return
    table = Table("name", "UPN", "id", "type")
    for u in users:
        table.add_row(escape(u.display_name), escape(u.user_principal_name), u.id, u.user_type)
    console.out.print(table)
    console.out.print(f"{len(users)} user(s)")


def _csv_safe(name: str, value: object) -> object:
    """A text value a spreadsheet would run as a formula gets a leading ' (csv_safety)."""
    if not isinstance(value, str):
        return value
    return neutralise(value, "serial" if name == "serial_number" else "")
