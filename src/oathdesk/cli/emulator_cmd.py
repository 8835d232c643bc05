"""``oathdesk emulator serve``: run the local Entra ID over HTTPS from a data folder."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Annotated

import typer

from oathdesk.cli import console
from oathdesk.cli.options import config_from
from oathdesk.domain import InputFileError, UsageError
from oathdesk.emulator import EmulatorConfig, EmulatorState
from oathdesk.emulator.errors import GraphError
from oathdesk.emulator.faults import Throttle
from oathdesk.emulator.server import serve as run_server
from oathdesk.emulator.server import tls_files

app = typer.Typer(
    help="The local Entra ID emulator (Graph hardware-OATH API, identity, TLS).",
    no_args_is_help=True,
)


def _read_seed(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputFileError(f"Cannot read the seed file {path}: {exc.strerror}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"The seed file {path} is not valid JSON ({exc}).") from None


def _check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UsageError(
                f"Cannot listen on {host}:{port} ({exc.strerror}); pick another with --port."
            ) from None


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8443,
    data: Annotated[
        Path | None,
        typer.Option(
            help="Data folder (state, CA, keys); default <data dir>/emulator.", show_default=False
        ),
    ] = None,
    seed: Annotated[
        Path | None,
        typer.Option(
            help="Seed JSON (tenant, apps, users); replaces the saved state.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    page_size: Annotated[int, typer.Option(min=1, help="Items per page in collections.")] = 100,
    max_bulk: Annotated[int, typer.Option(min=1, help="Most devices in one bulk create.")] = 100,
    throttle: Annotated[
        str | None,
        typer.Option(help="Request budget per app, N/SECONDS (e.g. 100/10).", show_default=False),
    ] = None,
    no_tls: Annotated[
        bool, typer.Option("--no-tls", help="Serve plain HTTP (debugging only; MSAL needs HTTPS).")
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Configuration file.", dir_okay=False, show_default=False),
    ] = None,
) -> None:
    """Serve the emulator; with no --seed it makes a tenant, an app and sample users once."""
    folder = data or config_from(ctx, config).data_dir / "emulator"
    if throttle is not None:
        try:
            Throttle.parse(throttle)
        except GraphError as exc:
            raise UsageError(exc.message) from None
    _check_port(host, port)
    settings = EmulatorConfig(page_size=page_size, max_bulk=max_bulk, throttle=throttle)
    document = _read_seed(seed) if seed else None
    try:
        state = EmulatorState.open(folder, seed=document, config=settings)
        tls = None if no_tls else tls_files(folder, host)
    except OSError as exc:
        raise InputFileError(
            f"Cannot write the emulator data folder {folder}: {exc.strerror}."
        ) from None
    scheme = "http" if no_tls else "https"
    shown = f"[{host}]" if ":" in host else host
    d = state.directory
    first = next(iter(d.apps.values()), None)
    out = console.out
    out.print(f"oathdesk emulator on {scheme}://{shown}:{port}")
    out.print(f"  authority     {scheme}://{shown}:{port}/{d.tenant.id}")
    out.print(f"  tenant id     {d.tenant.id}  ({d.tenant.domain})")
    if first is not None:
        out.print(f"  client id     {first.client_id}")
        out.print(f"  client secret {first.client_secret or '(certificate only)'}")
    out.print(f"  CA file       {tls.ca_cert if tls else '(none: --no-tls)'}")
    out.print(f"  data folder   {folder}")
    for user in d.users.values():
        kind = "guest" if user.user_type == "Guest" else ", ".join(user.roles) or "member"
        out.print(f"  user          {user.user_principal_name}  password {user.password}  ({kind})")
    run_server(state, host=host, port=port, tls=tls)


if __name__ == "__main__":  # pragma: no cover - `python -m oathdesk.cli.emulator_cmd`
    app()
