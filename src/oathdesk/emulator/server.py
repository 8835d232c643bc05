"""Running the emulator: over HTTPS from a data folder (the CLI), or in a background thread on a
free loopback port (tests and ``oathdesk demo``), both with the generated local CA.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from oathdesk.domain import Clock
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
        date_header=False,  # the app's Date header tells the emulator's time
        **options,
    )


class _Server(uvicorn.Server):
    """A uvicorn server that says when it has started (or given up), so nobody polls a clock."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.settled = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        finally:
            self.settled.set()

    def run(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            super().run(sockets)
        finally:
            self.settled.set()


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
        self._server = _Server(_uvicorn_config(state, host, self.port, tls, log_level))
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
        """Serve, and return once the server listens (or fail if it stopped or took too long)."""
        self._thread.start()
        if not self._server.settled.wait(timeout) or not self._server.started:
            raise RuntimeError(f"the emulator did not start on {self.url}")
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


def tls_files(data_dir: Path, host: str, *, clock: Clock | None = None) -> TlsFiles:
    """The CA and server certificate for ``host`` under ``data_dir/tls`` (made on first use)."""
    return ensure_tls(data_dir / "tls", [host], clock=clock)


def serve(
    state: EmulatorState, *, host: str, port: int, tls: TlsFiles | None, log_level: str = "info"
) -> None:
    """Serve until interrupted (blocking); ``tls=None`` serves plain HTTP (debugging only)."""
    uvicorn.Server(_uvicorn_config(state, host, port, tls, log_level)).run()
