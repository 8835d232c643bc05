"""One HTTPS emulator for the Graph suite, reset before every test, and a client signed in
through MSAL exactly as production signs in (only URLs and the trusted CA differ)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from oathdesk.domain import Secret
from oathdesk.emulator import EmulatorState
from oathdesk.emulator.server import RunningEmulator
from oathdesk.emulator.tls import ensure_tls
from oathdesk.graph import GraphClient, GraphSettings, RetryPolicy, connect
from tests.graph.support import APP, APP_SECRET, SEED, TENANT


@dataclass
class Emu:
    server: RunningEmulator
    ca: Path
    control: httpx.Client

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def state(self) -> EmulatorState:
        return self.server.state

    def settings(self, client_id: str = APP, secret: str = APP_SECRET) -> GraphSettings:
        return GraphSettings(
            tenant_id=TENANT,
            client_id=client_id,
            client_secret=Secret(secret.encode()),
            authority_host=self.url,
            base_url=f"{self.url}/beta",
            ca_file=self.ca,
        )

    def client(self, timeout: float = 30.0, **kw: Any) -> GraphClient:
        policy = RetryPolicy(base_delay=0.02, max_delay=0.2, attempts=8)
        return connect(self.settings(**kw), timeout=timeout, policy=policy)

    def faults(self, *rules: dict[str, Any]) -> None:
        r = self.control.post(f"{self.url}/_emulator/faults", json={"rules": list(rules)})
        assert r.status_code == 200, r.text

    def configure(self, **settings: Any) -> None:
        r = self.control.patch(f"{self.url}/_emulator/config", json=settings)
        assert r.status_code == 200, r.text

    def serials(self) -> list[str]:
        return [d.serial_number for d in self.state.directory.devices.values()]


@pytest.fixture(scope="session")
def emu_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emu]:
    folder = tmp_path_factory.mktemp("graph-emulator")
    tls = ensure_tls(folder / "tls", ["127.0.0.1"])
    state = EmulatorState(SEED)
    context = ssl.create_default_context(cafile=str(tls.ca_cert))
    with (
        RunningEmulator(state, tls=tls) as server,
        httpx.Client(verify=context, trust_env=False, timeout=30) as control,
    ):
        yield Emu(server, Path(tls.ca_cert), control)


@pytest.fixture
def emu(emu_session: Emu) -> Emu:
    assert emu_session.control.post(f"{emu_session.url}/_emulator/reset").status_code == 204
    return emu_session


# Emulator switches where Microsoft is silent or contradicts itself (docs/emulator.md,
# "Fidelity"): every position of each, so the client is proven against every reading.
SWITCHES = [
    {"bulkResultOrder": order, "assignToStatus": status}
    for order in ("request", "shuffled", "reversed")
    for status in ("available", "assigned")
]


@pytest.fixture(params=SWITCHES, ids=lambda s: f"{s['bulkResultOrder']}-{s['assignToStatus']}")
def switched(emu: Emu, request: pytest.FixtureRequest) -> dict[str, Any]:
    """The emulator, reset, with one combination of the fidelity switches set."""
    settings: dict[str, Any] = request.param
    emu.configure(**settings)
    return settings


@pytest.fixture
def client(emu: Emu) -> Iterator[GraphClient]:
    graph = emu.client()
    yield graph
    graph.close()
