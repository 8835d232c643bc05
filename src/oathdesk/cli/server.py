"""How every oathdesk server runs under uvicorn, and the options ``serve`` commands share.

Why: ``oathdesk serve`` and ``oathdesk delivery serve`` must run the same way: proxy headers
believed only from the addresses named, no server banner, TLS when a certificate is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oathdesk.cli import console
from oathdesk.domain import UsageError

HostOpt = Annotated[str, typer.Option("--host", help="Address to listen on.")]
TlsCertOpt = Annotated[
    Path | None,
    typer.Option("--tls-cert", help="TLS certificate (PEM) to serve HTTPS.", dir_okay=False),
]
TlsKeyOpt = Annotated[
    Path | None,
    typer.Option("--tls-key", help="TLS private key (PEM) for --tls-cert.", dir_okay=False),
]
ProxiesOpt = Annotated[
    str,
    typer.Option(
        "--trusted-proxies",
        help="Comma-separated addresses of reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed (the client address drives sign-in throttling).",
    ),
]


def check_tls(certfile: Path | None, keyfile: Path | None) -> None:
    if (certfile is None) != (keyfile is None):
        raise UsageError("Give both --tls-cert and --tls-key, or neither.")


def run_server(
    app: object,
    what: str,
    *,
    host: str,
    port: int,
    certfile: Path | None,
    keyfile: Path | None,
    trusted_proxies: str,
    access_log: bool = True,
) -> None:
    """Serve ``app`` under uvicorn as every oathdesk server runs: proxy headers believed only
    from ``trusted_proxies``, no server banner, TLS when a certificate is given."""
    import uvicorn

    scheme = "https" if certfile else "http"
    console.err.print(f"{what} on {scheme}://{host}:{port}/ (Ctrl-C to stop)")
    uvicorn.run(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=trusted_proxies,
        server_header=False,
        ssl_certfile=str(certfile) if certfile else None,
        ssl_keyfile=str(keyfile) if keyfile else None,
        timeout_graceful_shutdown=10,
        log_level="info",
        access_log=access_log,
    )
