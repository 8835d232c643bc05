"""The emulator tells time only by its clock (plus the configured offset): the Date header,
error envelopes, STS errors and the request budget all move with a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import formatdate

import httpx

from oathdesk.domain import FixedClock
from oathdesk.emulator import EmulatorState
from oathdesk.emulator.server import RunningEmulator
from tests.emulator.helpers import SEED, TENANT

T0 = 1_500_000_000.0  # 2017-07-14T02:40:00Z


@contextmanager
def _serving(clock: FixedClock) -> Iterator[tuple[EmulatorState, httpx.Client]]:
    state = EmulatorState(SEED, clock=clock)
    with (
        RunningEmulator(state, tls=None) as server,
        httpx.Client(base_url=server.url, trust_env=False, timeout=10) as client,
    ):
        yield state, client


def test_date_header_and_error_dates_are_the_emulator_time() -> None:
    clock = FixedClock(T0)
    with _serving(clock) as (state, client):
        _check_dates(clock, state, client)


def _check_dates(clock: FixedClock, state: EmulatorState, client: httpx.Client) -> None:
    missing = client.get("/beta/nowhere")
    assert missing.status_code == 404
    assert missing.headers.get_list("date") == [formatdate(T0, usegmt=True)]  # not the server's
    assert missing.json()["error"]["innerError"]["date"] == "2017-07-14T02:40:00"
    state.config.clock_offset = 3600.0  # an hour of drift shows everywhere
    clock.advance(60)
    refused = client.post(f"/{TENANT}/oauth2/v2.0/token", data={"grant_type": "nonsense"})
    assert refused.status_code == 400
    assert refused.headers["date"] == formatdate(T0 + 3660, usegmt=True)
    assert refused.json()["timestamp"] == "2017-07-14 03:41:00Z"


def test_the_request_budget_is_counted_on_the_emulator_clock() -> None:
    clock = FixedClock(T0)
    with _serving(clock) as (state, client):
        _check_budget(clock, state, client)


def _check_budget(clock: FixedClock, state: EmulatorState, client: httpx.Client) -> None:
    state.config.throttle = "2/60"
    assert [client.get("/beta/users").status_code for _ in range(2)] == [401, 401]
    spent = client.get("/beta/users")
    assert spent.status_code == 429 and spent.headers["retry-after"] == "60"
    clock.advance(45)
    assert client.get("/beta/users").headers["retry-after"] == "15"
    clock.advance(15)  # a new window
    assert client.get("/beta/users").status_code == 401
