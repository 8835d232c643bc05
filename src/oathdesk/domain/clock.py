"""Time as an injected dependency: code that needs 'now' takes a Clock, tests pass a fixed one."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


@dataclass
class FixedClock:
    """A clock that stands still until moved; for tests and replays."""

    at: float

    def now(self) -> float:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += seconds


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)
