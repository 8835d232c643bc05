"""One HTTPS emulator for the whole emulator suite, reset to the same seed before every test."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from oathdesk.emulator import EmulatorState
from oathdesk.emulator.server import RunningEmulator
from oathdesk.emulator.tls import ensure_tls
from tests.emulator.helpers import SEED, TENANT, Lab


@pytest.fixture(scope="session")
def lab_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    folder: Path = tmp_path_factory.mktemp("emulator")
    tls = ensure_tls(folder / "tls", ["127.0.0.1"])
    state = EmulatorState(SEED, data_dir=folder / "data")
    with (
        RunningEmulator(state, tls=tls) as server,
        httpx.Client(
            verify=ssl.create_default_context(cafile=str(tls.ca_cert)), trust_env=False, timeout=10
        ) as http,
    ):
        yield Lab(server, str(tls.ca_cert), http)


@pytest.fixture
def lab(lab_session: Lab) -> Lab:
    http, url = lab_session.http, lab_session.url
    if lab_session.state.directory.tenant.id != TENANT:
        assert http.post(f"{url}/_emulator/seed", json=SEED).status_code == 200
    assert http.post(f"{url}/_emulator/reset").status_code == 204
    return lab_session
