"""Web console fixtures: a real uvicorn over TLS on 127.0.0.1, a fresh SQLite inventory per test.

One server runs for the whole session; each test swaps in its own app (its own database, clock
and signing key), so tests never share state yet pay the server start only once.
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import APIRouter
from fastapi.routing import APIRoute
from playwright.sync_api import Browser, Page
from starlette.types import ASGIApp, Receive, Scope, Send

from oathdesk.bootstrap import build_inventory, database_url
from oathdesk.config import Config
from oathdesk.domain import FixedClock, Secret
from oathdesk.emulator.tls import TlsFiles, ensure_tls
from oathdesk.service import Inventory
from oathdesk.service.accounts import create_account
from oathdesk.store import upgrade
from oathdesk.web import WebSettings, create_app

PASSWORD = "correct horse battery staple"
ROLE_OF = {"ada": ["admin"], "hal": ["helpdesk"], "aud": ["auditor"], "joe": []}
CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


class Swappable:
    """The ASGI app the server runs: forwards to whichever app the current test installed."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "no app installed for this test"
        await self.app(scope, receive, send)


@dataclass
class Server:
    url: str
    ca: Path
    holder: Swappable


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return ensure_tls(tmp_path_factory.mktemp("tls"), ["127.0.0.1"])


@pytest.fixture(scope="session")
def server(tls: TlsFiles) -> Iterator[Server]:
    holder = Swappable()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        holder,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=True,  # as ``oathdesk serve``: X-Forwarded-For believed from 127.0.0.1
        forwarded_allow_ips="127.0.0.1",
        ssl_certfile=str(tls.server_cert),
        ssl_keyfile=str(tls.server_key),
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not uv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield Server(f"https://127.0.0.1:{port}", tls.ca_cert, holder)
    uv.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(time.time())


@pytest.fixture
def inv(tmp_path: Path, clock: FixedClock) -> Iterator[Inventory]:
    config = Config(sections={"data": {"dir": str(tmp_path / "data")}})
    upgrade(database_url(config))
    inventory = build_inventory(config, clock=clock)
    yield inventory
    inventory.close()


@pytest.fixture
def settings() -> WebSettings:
    return WebSettings(secret_key=Secret(b"k" * 16 + bytes(range(16))), secure_cookies=True)


@pytest.fixture
def accounts(inv: Inventory) -> dict[str, list[str]]:
    for name, roles in ROLE_OF.items():
        create_account(inv, name, Secret(PASSWORD.encode()), roles, actor="test")
    return ROLE_OF


@pytest.fixture
def app_url(server: Server, inv: Inventory, settings: WebSettings) -> Iterator[str]:
    server.holder.app = create_app(inv, settings)
    yield server.url
    server.holder.app = None


@pytest.fixture
def client(app_url: str, server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=app_url,
        verify=ssl.create_default_context(cafile=server.ca),
        follow_redirects=False,
    ) as c:
        yield c


@pytest.fixture
def page(chromium: Browser, app_url: str) -> Iterator[Page]:
    """A tab of the module's chromium (tests/browser.py) on this test's app, in its own context."""
    context = chromium.new_context(
        base_url=app_url, ignore_https_errors=True, viewport={"width": 1280, "height": 900}
    )
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


def new_client(app_url: str, server: Server, **headers: str) -> httpx.Client:
    return httpx.Client(
        base_url=app_url,
        verify=ssl.create_default_context(cafile=server.ca),
        follow_redirects=False,
        headers=headers,
        timeout=60,  # an argon2 sign-in on a busy 2-core machine can pass httpx's 5 s default
    )


def form_token(client: httpx.Client, path: str = "/signin") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = CSRF_RE.search(page.text)
    assert found, "no CSRF token in the form"
    return found.group(1)


def sign_in(
    client: httpx.Client, name: str, password: str = PASSWORD, next_path: str = "/dashboard"
) -> httpx.Response:
    token = form_token(client)
    return client.post(
        "/signin",
        data={"name": name, "password": password, "csrf_token": token, "next": next_path},
    )


def signed_in(client: httpx.Client, name: str) -> httpx.Client:
    response = sign_in(client, name)
    assert response.status_code == 303, response.text
    return client


def add_tokens(
    inv: Inventory, serials: list[str], *, states: dict[str, list[str]] | None = None
) -> None:
    """Import ``serials`` as one batch (real sealing, real audit), then move some of them:
    ``states`` maps a target state to serials, reached through the allowed transitions."""
    import hashlib

    from oathdesk.domain import SeedRecord
    from oathdesk.store import NewBatch, TokenState

    records = [
        SeedRecord(
            serial=s,
            secret=Secret(hashlib.sha256(s.encode()).digest()[:20]),
            manufacturer="Token2",
            model="C302",
        )
        for s in serials
    ]
    digest = hashlib.sha256(",".join(serials).encode()).hexdigest()
    with inv.uow() as uow:
        uow.tokens.add_batch(
            NewBatch("stock.csv", "entra-csv", digest), records, inv.sealer, actor="test"
        )
    path = [TokenState.AVAILABLE, TokenState.ASSIGNED, TokenState.ACTIVATED]
    for target, chosen in (states or {}).items():
        with inv.uow() as uow:
            for serial in chosen:
                token = uow.tokens.get_for_update(serial)
                for step in path[: path.index(TokenState(target)) + 1]:
                    uow.tokens.move(token, step)
                if token.state is not TokenState.AVAILABLE:
                    token.user_upn = f"user-{serial.lower()}@contoso.com"


def app_routes(app: object) -> list[APIRoute]:
    """Every API route of an app, through routers included in routers (FastAPI keeps an
    included router as one opaque entry of ``app.routes``, so a flat walk would see none)."""
    found: list[APIRoute] = []
    pending = list(getattr(app, "routes", []))
    while pending:
        route = pending.pop(0)
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            pending.extend(route.original_router.routes)
        elif isinstance(route, APIRouter):
            pending.extend(route.routes)
    assert found, "no API route found: FastAPI's route tree changed shape"
    return found
