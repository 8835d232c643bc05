"""The shared adaptive rate limit: one Retry-After pauses every worker, the rate drops to what
Graph admitted (once per episode) and recovers while requests succeed."""

from __future__ import annotations

import itertools
import threading

import httpx
import pytest

from oathdesk.graph import AdaptiveRateLimiter
from tests.graph.mock import DEVICE_JSON, FakeTime, Scripted, graph_error


def _limiter(t: FakeTime) -> AdaptiveRateLimiter:
    return AdaptiveRateLimiter(clock=t)  # sleeps on the fake clock


def test_unlimited_until_throttled() -> None:
    t = FakeTime()
    limiter = _limiter(t)
    assert [limiter.reserve() for _ in range(100)] == [0.0] * 100
    assert limiter.rate is None


def test_retry_after_pauses_every_caller_then_spaces_them() -> None:
    t = FakeTime()
    limiter = _limiter(t)
    for _ in range(20):  # 20 successes over 2 s: 10 per second admitted
        limiter.on_success()
        t.advance(0.1)
    limiter.on_throttle(3.0)
    assert limiter.rate == pytest.approx(0.9 * 10)
    waits = [limiter.reserve() for _ in range(4)]
    assert waits[0] == pytest.approx(3.0)  # nobody goes before Retry-After has passed
    gaps = [b - a for a, b in itertools.pairwise(waits)]
    assert gaps == pytest.approx([1 / 9] * 3)


def test_many_refusals_of_one_episode_lower_the_rate_once() -> None:
    t = FakeTime()
    limiter = _limiter(t)
    for _ in range(20):
        limiter.on_success()
        t.advance(0.1)
    for _ in range(8):  # eight workers all refused at once
        limiter.on_throttle(0.5)
    assert limiter.reductions == 1 and limiter.throttle_events == 8
    assert limiter.rate == pytest.approx(9.0)
    t.advance(2.0)  # a later, separate episode lowers it again
    limiter.on_throttle(0.5)
    assert limiter.reductions == 2 and limiter.rate is not None and limiter.rate < 9.0


def test_rate_grows_while_requests_succeed_and_the_limit_lifts_when_quiet() -> None:
    t = FakeTime()
    limiter = _limiter(t)
    limiter.on_throttle(None)
    assert limiter.rate == 5.0  # nothing observed yet: halve the default guess
    for _ in range(30):
        t.advance(0.1)
        limiter.on_success()
    assert limiter.rate == pytest.approx(5.0 * 2.0**3, rel=0.01)  # doubles each second
    t.advance(limiter.horizon + 1)
    limiter.on_success()
    assert limiter.rate is None


def test_the_floor_holds() -> None:
    t = FakeTime()
    limiter = _limiter(t)
    for _ in range(20):
        limiter.on_throttle(None)
        t.advance(5)
    assert limiter.rate == limiter.min_rate


def test_one_throttled_worker_slows_all_workers_of_a_client() -> None:
    """Four threads share one client; the first 429 makes every later request wait."""
    answered: list[str] = []
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            first = not answered
            answered.append(request.url.path)
        if first:
            return graph_error(429, "TooManyRequests", headers={"Retry-After": "4"})
        return httpx.Response(200, json=DEVICE_JSON)

    mock = Scripted(handler)
    client = mock.client()
    threads = [threading.Thread(target=client.get_device, args=("d1",)) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    limiter = client.session.limiter
    assert limiter.throttle_events == 1 and limiter.rate is not None
    assert sum(mock.time.sleeps) >= 4.0
    assert len(answered) == 5
