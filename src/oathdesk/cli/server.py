"""How every oathdesk server runs under uvicorn, and the options ``serve`` commands share.

Why: ``oathdesk serve`` and ``oathdesk delivery serve`` must run the same way: proxy headers
believed only from the addresses named, no server banner, TLS when a certificate is given.
"""

from __future__ import annotations

import logging
import logging.config
from pathlib import Path
from typing import Annotated

import typer

from oathdesk.cli import console
from oathdesk.cli.logs import LogFormat, logging_config
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
LogFormatOpt = Annotated[
    str | None,
    typer.Option(
        "--log-format",
        help="Log lines as text or json (one object per line, for a log shipper); "
        "default: [log] format, else text.",
    ),
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
    log_format: LogFormat = "text",
    log_level: str = "info",
) -> None:
    """Serve ``app`` under uvicorn as every oathdesk server runs: proxy headers believed only
    from ``trusted_proxies``, no server banner, TLS when a certificate is given, every log line
    (uvicorn's too) in ``log_format`` with its request id; the apps write the request lines
    themselves (route templates, never paths), so uvicorn's access log is off."""
    import uvicorn

    scheme = "https" if certfile else "http"
    logging.config.dictConfig(logging_config(log_format, log_level))
    banner = f"{what} on {scheme}://{host}:{port}/"
    if log_format == "json":  # every line a JSON object, the first one too
        logging.getLogger("oathdesk.serve").info("%s", banner)
    else:
        console.err.print(f"{banner} (Ctrl-C to stop)")
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
        log_config=None,  # configured above, uvicorn's loggers included
        log_level=log_level,
        access_log=False,
    )
