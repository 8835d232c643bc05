"""``oathdesk delivery``: the seed delivery service (vendor side) from the command line.

``load`` brings orders in from a seed file plus an order manifest; ``requests`` and ``approve``
are the review queue for scripts; ``purge-expired`` deletes stored files whose link expired (run
it from cron); ``audit checkpoint|verify`` anchor and check the delivery audit chain; ``serve``
runs the customer wizard and the team's review pages. The tables come from ``oathdesk db upgrade``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from oathdesk.cli import console
from oathdesk.cli.actions import ActorOpt, actor_of
from oathdesk.cli.audit_cmd import SyslogOpt, show_chain, show_checkpoint
from oathdesk.cli.context import CliContext, cli_context
from oathdesk.cli.logs import log_format as log_format_of
from oathdesk.cli.logs import log_level
from oathdesk.cli.options import (
    DEFAULT_SOURCE,
    ConfigOpt,
    JsonOpt,
    SeedSource,
    config_from,
    open_options,
    read_bytes,
    seed_file_options,
)
from oathdesk.cli.server import (
    HostOpt,
    LogFormatOpt,
    ProxiesOpt,
    TlsCertOpt,
    TlsKeyOpt,
    check_tls,
    run_server,
)
from oathdesk.config import Config
from oathdesk.delivery import (
    Delivery,
    DeliverySettings,
    approve,
    checkpoint_audit,
    list_requests,
    load,
    purge_expired,
    verify_audit,
)
from oathdesk.delivery.models import STATES
from oathdesk.domain import UsageError

app = typer.Typer(
    help="Seed delivery (vendor side): load orders, review requests, purge expired files, "
    "verify the audit chain, serve.",
    no_args_is_help=True,
)
audit_app = typer.Typer(help="The delivery audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
KEY_FILE = "delivery-secret.key"


def settings_from(cfg: Config) -> DeliverySettings:
    # the web stack (FastAPI, Jinja) loads only for the commands that serve it
    from oathdesk.web.settings import load_or_create_key

    path = cfg.path("delivery", "secret_key_file", cfg.data_dir / "keys" / KEY_FILE)
    return DeliverySettings.from_config(cfg, load_or_create_key(path))


@contextmanager
def delivery(config: Path | None, cli: CliContext | None = None) -> Iterator[Delivery]:
    """The configured inventory, its schema checked (``db upgrade`` makes the delivery tables)."""
    cli = cli or CliContext()
    settings = settings_from(cli.config(config))
    inv = cli.open_inventory(config)
    try:
        service = Delivery(inv, settings)
        service.prepare()
        yield service
    finally:
        inv.close()


@app.command("load")
@seed_file_options
def load_cmd(
    ctx: typer.Context,
    seed_file: Annotated[
        Path, typer.Argument(help="The seed file (any format oathdesk reads; plain, ZIP, PGP).")
    ],
    manifest: Annotated[
        Path,
        typer.Argument(
            help="Order manifest: CSV (customer, email_domain, account_manager, "
            "po_number, invoice_number, shipment_number, serial) or JSON."
        ),
    ],
    source: SeedSource = DEFAULT_SOURCE,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Load orders, shipments and their tokens (seeds sealed) from a seed file and a manifest.

    The seed file opens as for `oathdesk tokens import`: a password ZIP with --password-file, a PGP
    message with --gpg-home (and --pgp-passphrase-file), --from when its format is not detected.
    """
    options = open_options(source, config_from(ctx, config))
    seeds, orders = read_bytes(seed_file, "seed file"), read_bytes(manifest, "manifest")
    with delivery(config, cli_context(ctx)) as dl:
        result = load(
            dl,
            seeds,
            seed_file.name,
            orders,
            manifest.name,
            actor=actor_of(actor),
            options=options,
        )
    if as_json:
        console.print_json(result.to_dict())
        return
    console.out.print(
        f"loaded {result.orders} order(s), {result.shipments} shipment(s), {result.tokens} "
        f"token(s); {result.customers} new customer(s); {result.unused} token(s) of the seed "
        "file were in no order"
    )


@app.command("requests")
def requests_cmd(
    ctx: typer.Context,
    state: Annotated[
        str | None, typer.Option("--state", help=f"Only this state ({', '.join(STATES)}).")
    ] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List delivery requests, oldest first."""
    if state is not None and state not in STATES:
        raise UsageError(f"--state must be one of {', '.join(STATES)}.", code="usage.bad_state")
    with delivery(config, cli_context(ctx)) as dl:
        items = list_requests(dl, state)
    if as_json:
        console.print_json({"requests": [i.to_dict() for i in items]})
        return
    table = Table("id", "state", "customer", "e-mail", "order", "shipments", "format", "encryption")
    for i in items:
        table.add_row(
            str(i.id),
            i.state,
            escape(i.customer),
            escape(i.email),
            escape(i.order),
            escape(", ".join(i.shipments)),
            i.format,
            i.encryption,
        )
    console.out.print(table)


@app.command("approve")
def approve_cmd(
    ctx: typer.Context,
    request_id: Annotated[int, typer.Argument(help="The request number.")],
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Approve a pending request: build, encrypt and store the file(s), mail the link(s)."""
    with delivery(config, cli_context(ctx)) as dl:
        view = approve(dl, request_id, actor=actor_of(actor))
    if as_json:
        console.print_json(view.to_dict() | {"files": [f.file_name for f in view.files]})
        return
    console.out.print(
        f"request {view.id}: {view.state}; {len(view.files)} file(s) mailed to {escape(view.email)}"
    )


@app.command("purge-expired")
def purge_cmd(
    ctx: typer.Context, actor: ActorOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False
) -> None:
    """Delete every stored file whose link has expired (run it regularly)."""
    with delivery(config, cli_context(ctx)) as dl:
        count = purge_expired(dl, actor=actor_of(actor))
    if as_json:
        console.print_json({"deleted": count})
        return
    console.out.print(f"deleted {count} expired file(s)")


@audit_app.command("verify")
def audit_verify_cmd(
    ctx: typer.Context, config: ConfigOpt = None, as_json: JsonOpt = False
) -> None:
    """Check every delivery audit entry against the one before it and against the latest
    checkpoint. Exits 9 if it is broken."""
    with delivery(config, cli_context(ctx)) as dl:
        report = verify_audit(dl)
    show_chain(report, as_json=as_json, name="delivery audit chain")


@audit_app.command("checkpoint")
def audit_checkpoint_cmd(
    ctx: typer.Context,
    syslog: SyslogOpt = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Verify the delivery chain, then append its signed head to the checkpoint file."""
    with delivery(config, cli_context(ctx)) as dl:
        report, made, path = checkpoint_audit(dl, syslog=syslog)
    show_checkpoint(report, made, path, as_json=as_json, name="delivery audit chain")


@app.command("serve")
def serve_cmd(
    ctx: typer.Context,
    host: HostOpt = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8444,
    certfile: TlsCertOpt = None,
    keyfile: TlsKeyOpt = None,
    trusted_proxies: ProxiesOpt = "127.0.0.1",
    log_format: LogFormatOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Serve the customer wizard, the download pages and the delivery team's review queue."""
    # the web stack (FastAPI, Jinja) loads only for the commands that serve it
    from oathdesk.delivery.web_app import create_delivery_app
    from oathdesk.http.operations import Operations

    check_tls(certfile, keyfile)
    cli = cli_context(ctx)
    loaded = cli.config(config)
    settings = settings_from(loaded)
    fmt, level = log_format_of(loaded, log_format), log_level(loaded)
    operations = Operations.from_config(loaded)
    inv = cli.open_inventory(config)
    dl = Delivery(inv, settings)
    try:
        dl.prepare()
    except BaseException:
        inv.close()
        raise
    run_server(
        create_delivery_app(dl, owns_inventory=True, operations=operations),
        "oathdesk seed delivery",
        host=host,
        port=port,
        certfile=certfile,
        keyfile=keyfile,
        trusted_proxies=trusted_proxies,
        log_format=fmt,  # the request lines name route templates: paths hold download tokens
        log_level=level,
    )
