"""For the notification tests: a real SMTP listener (aiosmtpd, tests/delivery/support.py), a real
HTTP listener for the webhook, and an inventory whose ``[notify]`` points at them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from oathdesk.bootstrap import build_inventory
from oathdesk.config import Config
from oathdesk.domain import FixedClock
from oathdesk.service import Inventory
from tests.delivery.support import Mailbox, _Collect, free_port

HOOK_SECRET = "webhook-shared-secret-for-tests"


@dataclass
class Smtp:
    """An SMTP port that can be down (nothing listens) and brought up on the same port."""

    port: int
    box: Mailbox
    controller: Controller | None = None

    def up(self) -> None:
        self.controller = Controller(
            _Collect(self.box.messages), hostname="127.0.0.1", port=self.port
        )
        self.controller.start()

    def down(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[Message]:
        return self.box.messages


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    port = free_port()
    server = Smtp(port, Mailbox(port=port))
    server.up()
    try:
        yield server
    finally:
        server.down()


@dataclass
class Hook:
    """A loopback HTTP server that records every POST and answers the next status in line."""

    url: str
    calls: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


@pytest.fixture
def hook() -> Iterator[Hook]:
    calls: list[tuple[dict[str, str], bytes]] = []
    statuses: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            calls.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(statuses.pop(0) if statuses else 204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Hook(f"http://127.0.0.1:{server.server_address[1]}/hook", calls, statuses)
    finally:
        server.shutdown()
        server.server_close()


def with_notify(cfg: Config, **notify: Any) -> Config:
    """``cfg`` with a ``[notify]`` section (enabled unless told otherwise)."""
    section = {"enabled": True, "portal_url": "https://portal.example.com/me"} | notify
    return replace(cfg, sections={**cfg.sections, "notify": section})


def open_inventory(cfg: Config, clock: FixedClock | None = None) -> Inventory:
    """The inventory of ``cfg``; with ``clock``, the store and lifecycle run on it (Graph keeps
    the system clock: its tokens are checked by the emulator's)."""
    inv = build_inventory(cfg)
    if clock is not None:
        inv.clock = clock
    return inv


def smtp_settings(server: Smtp, **more: Any) -> dict[str, Any]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": server.port,
        "smtp_from": "it@example.com",
    } | more


def folder_settings(folder: Path) -> dict[str, Any]:
    return {"mail_dir": str(folder)}
