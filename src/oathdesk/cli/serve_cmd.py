"""``oathdesk serve``: run the web console and REST API under uvicorn with production settings.

Why: one command, one process model: the configured inventory (schema checked first, so a
missing ``oathdesk db upgrade`` is a clear error, not a 500 on the first page), proxy headers
trusted only from the addresses named, no server banner, TLS when a certificate is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oathdesk.cli import console
from oathdesk.cli.options import ConfigOpt, config_from
from oathdesk.domain import UsageError


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8080,
    certfile: Annotated[
        Path | None,
        typer.Option("--tls-cert", help="TLS certificate (PEM) to serve HTTPS.", dir_okay=False),
    ] = None,
    keyfile: Annotated[
        Path | None,
        typer.Option("--tls-key", help="TLS private key (PEM) for --tls-cert.", dir_okay=False),
    ] = None,
    trusted_proxies: Annotated[
        str,
        typer.Option(
            "--trusted-proxies",
            help="Comma-separated addresses of reverse proxies whose X-Forwarded-For and "
            "X-Forwarded-Proto are believed (the client address drives sign-in throttling).",
        ),
    ] = "127.0.0.1",
    config: ConfigOpt = None,
) -> None:
    """Serve the web console and the REST API (/api/v1, OpenAPI at /api/docs)."""
    import uvicorn

    from oathdesk.web import create_app_from_config

    if (certfile is None) != (keyfile is None):
        raise UsageError("give both --tls-cert and --tls-key, or neither")
    cfg = config_from(config)
    app = create_app_from_config(cfg)
    scheme = "https" if certfile else "http"
    console.err.print(f"oathdesk console on {scheme}://{host}:{port}/ (Ctrl-C to stop)")
    uvicorn.run(
        app,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=trusted_proxies,
        server_header=False,
        ssl_certfile=str(certfile) if certfile else None,
        ssl_keyfile=str(keyfile) if keyfile else None,
        timeout_graceful_shutdown=10,
        log_level="info",
        access_log=True,
    )
