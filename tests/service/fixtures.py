"""Fixtures for the inventory tests (imported by tests/service and tests/cli).

Every test runs on SQLite and on the machine's PostgreSQL (``db_url``, tests/backends.py: a
schema per test, made by the migrations), against a real HTTPS emulator reset before each test.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from oathdesk.bootstrap import build_inventory
from oathdesk.config import Config
from oathdesk.domain import Secret
from oathdesk.emulator import EmulatorState
from oathdesk.emulator.server import RunningEmulator
from oathdesk.emulator.tls import ensure_tls
from oathdesk.graph import GraphClient, GraphSettings, RetryPolicy, connect
from oathdesk.service import Inventory
from oathdesk.store import upgrade
from tests.service import support


class _Collect(logging.Handler):
    """Keeps every record's message and traceback for the end-of-session secret search."""

    def emit(self, record: logging.LogRecord) -> None:
        support.SEEN.append(self.format(record))


@pytest.fixture(scope="session")
def no_secret_anywhere() -> Iterator[None]:
    """At the end of the session: no seed any test issued appears in any log record or command
    output captured by any inventory test (the issue's "during the whole suite")."""
    yield
    haystack = "\n".join(support.SEEN)
    leaked = [raw for raw in support.ISSUED for form in support.leak_forms(raw) if form in haystack]
    assert support.SEEN or not support.ISSUED, "the watch captured nothing"
    assert not leaked, f"{len(leaked)} seed(s) appeared in logs or command output"


@pytest.fixture(autouse=True)
def watch_logs(no_secret_anywhere: None) -> Iterator[None]:
    """Every log record (DEBUG and up, every library) during each inventory test."""
    handler = _Collect(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@dataclass
class Emu:
    server: RunningEmulator
    ca: Path
    control: httpx.Client

    @property
    def url(self) -> str:
        return self.server.url

    def client(self) -> GraphClient:
        settings = GraphSettings(
            tenant_id=support.TENANT,
            client_id=support.APP,
            client_secret=Secret(support.APP_SECRET.encode()),
            authority_host=self.url,
            base_url=f"{self.url}/beta",
            ca_file=self.ca,
        )
        return connect(settings, policy=RetryPolicy(base_delay=0.02, max_delay=0.2, attempts=6))

    def configure(self, **settings: Any) -> None:
        r = self.control.patch(f"{self.url}/_emulator/config", json=settings)
        assert r.status_code == 200, r.text

    def seed(self, document: dict[str, Any]) -> None:
        r = self.control.post(f"{self.url}/_emulator/seed", json=document)
        assert r.status_code == 200, r.text


@pytest.fixture(scope="session")
def emu_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emu]:
    folder = tmp_path_factory.mktemp("inventory-emulator")
    tls = ensure_tls(folder / "tls", ["127.0.0.1"])
    server = RunningEmulator(EmulatorState(support.SEED), tls=tls)
    context = ssl.create_default_context(cafile=str(tls.ca_cert))
    with server, httpx.Client(verify=context, trust_env=False, timeout=30) as control:
        yield Emu(server, Path(tls.ca_cert), control)


@pytest.fixture
def emu(emu_session: Emu) -> Emu:
    """The emulator with the test tenant, no tokens, default behaviour."""
    emu_session.seed(support.SEED)
    assert emu_session.control.post(f"{emu_session.url}/_emulator/reset").status_code == 204
    return emu_session


# The emulator's fidelity switches (docs/emulator.md, "Fidelity"), each in every position at
# least once: the product's flows must hold whichever reading Entra turns out to follow.
SWITCHES = [
    {"bulkResultOrder": "request", "assignToStatus": "available"},
    {"bulkResultOrder": "shuffled", "assignToStatus": "assigned"},
    {"bulkResultOrder": "reversed", "assignToStatus": "available"},
]


@pytest.fixture(params=SWITCHES, ids=lambda s: f"{s['bulkResultOrder']}-{s['assignToStatus']}")
def switched(emu: Emu, request: pytest.FixtureRequest) -> dict[str, Any]:
    """The emulator, reset, with one combination of the fidelity switches set."""
    settings: dict[str, Any] = request.param
    emu.configure(**settings)
    return settings


@pytest.fixture
def cfg(db_url: str, tmp_path: Path, emu: Emu) -> Config:
    """Settings for a migrated database, a key file in tmp and the emulator."""
    upgrade(db_url)
    return support.config(db_url, tmp_path, emu.url, emu.ca)


@pytest.fixture
def inv(cfg: Config) -> Iterator[Inventory]:
    inventory = build_inventory(cfg)
    try:
        yield inventory
    finally:
        inventory.close()
