"""Running the emulator: over HTTPS from a data folder (the CLI), or in a background thread on a
free loopback port (tests and ``oathdesk demo``), both with the generated local CA.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from oathdesk.emulator.app import create_app
from oathdesk.emulator.state import EmulatorState
from oathdesk.emulator.tls import TlsFiles, ensure_tls


def _uvicorn_config(
    state: EmulatorState, host: str, port: int, tls: TlsFiles | None, log_level: str
) -> uvicorn.Config:
    options: dict[str, Any] = {}
    if tls is not None:
        options.update(ssl_certfile=str(tls.server_cert), ssl_keyfile=str(tls.server_key))
    return uvicorn.Config(
        create_app(state),
        host=host,
        port=port,
        log_level=log_level,
        lifespan="off",
        access_log=False,
        server_header=False,
        **options,
    )


class RunningEmulator:
    """An emulator serving in a daemon thread; use as a context manager, read :attr:`url`."""

    def __init__(
        self,
        state: EmulatorState,
        *,
        tls: TlsFiles | None,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
    ) -> None:
        self.state = state
        self.tls = tls
        # IPPROTO_TCP (not 0) makes asyncio set TCP_NODELAY on each connection; without it
        # every small reply waits ~40 ms for the client's delayed ACK.
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.bind((host, port))
        self.host, self.port = host, self._sock.getsockname()[1]
        self._server = uvicorn.Server(_uvicorn_config(state, host, self.port, tls, log_level))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def authority(self) -> str:
        return f"{self.url}/{self.state.directory.tenant.id}"

    def start(self, timeout: float = 15.0) -> RunningEmulator:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator did not start on {self.url}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> RunningEmulator:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def tls_files(data_dir: Path, host: str) -> TlsFiles:
    """The CA and server certificate for ``host`` under ``data_dir/tls`` (made on first use)."""
    return ensure_tls(data_dir / "tls", [host])


def serve(
    state: EmulatorState, *, host: str, port: int, tls: TlsFiles | None, log_level: str = "info"
) -> None:
    """Serve until interrupted (blocking); ``tls=None`` serves plain HTTP (debugging only)."""
    uvicorn.Server(_uvicorn_config(state, host, port, tls, log_level)).run()
