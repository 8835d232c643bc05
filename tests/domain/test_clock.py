"""The clock every module is handed: a fixed one moves only when told, wall and monotonic time
together, and its waits are instant."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from oathdesk.domain import FixedClock, SystemClock
from oathdesk.domain.clock import utc, utc_now


def test_a_fixed_clock_advances_wall_and_monotonic_time_together() -> None:
    clock = FixedClock(1_700_000_000.0)
    start = clock.monotonic()
    clock.advance(90)
    clock.sleep(10)  # a wait on a fixed clock is instant and moves it
    assert clock.now() == 1_700_000_100.0
    assert clock.monotonic() - start == 100.0
    assert utc_now(clock) == datetime(2023, 11, 14, 22, 15, tzinfo=UTC)


def test_setting_the_wall_time_back_never_moves_monotonic_time_back() -> None:
    clock = FixedClock(1_000.0)
    clock.advance(5)
    clock.at = 10.0  # a corrected system clock
    assert clock.now() == 10.0 and clock.monotonic() == 5.0
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_the_system_clock_reads_the_machine() -> None:
    clock = SystemClock()
    before = clock.monotonic()
    assert abs(clock.now() - datetime.now(UTC).timestamp()) < 5
    clock.sleep(0)
    assert clock.monotonic() >= before
    assert utc(0) == datetime(1970, 1, 1, tzinfo=UTC)
