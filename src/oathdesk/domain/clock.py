"""Time as an injected dependency: code that needs 'now' takes a Clock, tests pass a fixed one.

Why: one source of time makes every timestamp, expiry, throttle window and latency reproducible
in tests and consistent within a run. :class:`SystemClock` is the only code in oathdesk that reads
the machine's clocks; everything else asks the clock it was given (a test enforces this).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch (wall time: stored timestamps, expiries, OTP steps)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (durations, latencies, rate limits); only
        differences between two readings mean anything."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` on this clock (so a fixed clock's waits are instant and move it)."""
        ...


class SystemClock:
    """The machine's clocks."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


@dataclass
class FixedClock:
    """A clock that stands still until moved; for tests and replays.

    :meth:`advance` moves wall and monotonic time together; setting ``at`` jumps the wall clock
    alone (as a corrected system clock would), so a monotonic reading never goes back.
    """

    at: float
    elapsed: float = 0.0

    def now(self) -> float:
        return self.at

    def monotonic(self) -> float:
        return self.elapsed

    def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock only advances; set 'at' to move the wall time back")
        self.at += seconds
        self.elapsed += seconds


def utc(ts: float) -> datetime:
    """A Unix time as a timezone-aware UTC datetime."""
    return datetime.fromtimestamp(ts, tz=UTC)


def utc_now(clock: Clock) -> datetime:
    """The clock's wall time as a timezone-aware UTC datetime (what the database stores)."""
    return utc(clock.now())
