"""``oathdesk serve``: run the web console and REST API under uvicorn with production settings.

Why: one command, one process model: the configured inventory (schema checked first, so a
missing ``oathdesk db upgrade`` is a clear error, not a 500 on the first page), proxy headers
trusted only from the addresses named, no server banner, TLS when a certificate is given.
"""

from __future__ import annotations

from typing import Annotated

import typer

from oathdesk.cli.logs import log_format as log_format_of
from oathdesk.cli.logs import log_level
from oathdesk.cli.options import ConfigOpt, config_from
from oathdesk.cli.server import (
    HostOpt,
    LogFormatOpt,
    ProxiesOpt,
    TlsCertOpt,
    TlsKeyOpt,
    check_tls,
    run_server,
)


def serve(
    ctx: typer.Context,
    host: HostOpt = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8080,
    certfile: TlsCertOpt = None,
    keyfile: TlsKeyOpt = None,
    trusted_proxies: ProxiesOpt = "127.0.0.1",
    log_format: LogFormatOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Serve the web console and the REST API (/api/v1, OpenAPI at /api/docs)."""
    # the web stack (FastAPI, Jinja) loads only for the commands that serve it
    from oathdesk.web import create_app_from_config

    check_tls(certfile, keyfile)
    settings = config_from(ctx, config)
    fmt, level = log_format_of(settings, log_format), log_level(settings)
    app = create_app_from_config(settings)
    run_server(
        app,
        "oathdesk console",
        host=host,
        port=port,
        certfile=certfile,
        keyfile=keyfile,
        trusted_proxies=trusted_proxies,
        log_format=fmt,
        log_level=level,
    )
