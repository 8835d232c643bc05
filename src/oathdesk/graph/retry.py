"""Retry timing shared by every Graph call: Retry-After parsing, jittered backoff, and one
adaptive rate limit that all workers share, so a throttled tenant is slowed, not hammered.

The clock and sleep are injected, so the rules are tested without waiting.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from oathdesk.domain import Clock, SystemClock


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: a (fractional) number, or an HTTP date
    counted from ``now`` (Unix seconds)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - now
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN or infinite
        return None
    return max(0.0, seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry. ``attempts`` counts tries for failures, and
    ``throttle_attempts`` for 429s (never processed by Graph, so safe to repeat more)."""

    attempts: int = 6
    throttle_attempts: int = 30
    base_delay: float = 0.25
    max_delay: float = 20.0
    max_retry_after: float = 300.0

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Exponential backoff with equal jitter for the ``retry``-th retry (1, 2, ...)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** max(0, retry - 1)))
        return float(ceiling / 2 + rng.uniform(0, ceiling / 2))


class AdaptiveRateLimiter:
    """One request rate shared by all workers of a client.

    Unlimited until Graph throttles. A ``Retry-After`` pauses every worker until it has passed,
    and the rate drops to 90 % of what the service actually admitted recently (once per
    throttling episode, however many workers were refused). The rate then grows by ``growth``
    a second (doubles, by default) while requests succeed, and the limit is lifted after
    ``horizon`` seconds without throttling.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        sleep: Callable[[float], None] | None = None,
        min_rate: float = 0.5,
        horizon: float = 10.0,
        growth: float = 1.0,
        cooldown: float = 1.0,
    ) -> None:
        clock = clock or SystemClock()
        self._clock = clock.monotonic
        self._sleep = sleep or clock.sleep
        self._lock = threading.Lock()
        self.min_rate = min_rate
        self.horizon = horizon
        self.growth = growth
        self.cooldown = cooldown
        self.rate: float | None = None  # requests per second; None = unlimited
        self._paused_until = 0.0
        self._next_slot = 0.0
        self._episode_until = float("-inf")
        self._last_throttle = float("-inf")
        self._last_growth = 0.0
        self._successes: deque[float] = deque()
        self.throttle_events = 0
        self.reductions = 0
        self._kept = False  # a configured starting rate is never lifted, only grown

    def start_at(self, rate: float, *, growth: float = 0.1) -> None:
        """Begin at ``rate`` requests a second (Entra's limit where it is known) instead of
        unlimited, and creep up by ``growth`` a second while calls succeed: a bulk run of
        writes starts polite, finds the real ceiling from Graph's 429s, and stays near it."""
        with self._lock:
            now = self._clock()
            self.rate = max(self.min_rate, rate)
            self.growth = growth
            self._kept = True
            self._last_growth = now

    def reserve(self) -> float:
        """Claim the next sending slot and return how long to wait for it."""
        with self._lock:
            now = self._clock()
            start = max(now, self._paused_until, self._next_slot)
            self._next_slot = start + (1.0 / self.rate if self.rate else 0.0)
            return start - now

    def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)

    def on_success(self) -> None:
        with self._lock:
            now = self._clock()
            self._successes.append(now)
            while self._successes and self._successes[0] < now - self.horizon:
                self._successes.popleft()
            if self.rate is None:
                return
            if now - self._last_throttle > self.horizon and not self._kept:
                self.rate = None  # quiet for a while: lift the limit
                return
            elapsed = min(max(0.0, now - self._last_growth), 1.0)
            self.rate *= (1.0 + self.growth) ** elapsed
            self._last_growth = now

    def observed_rate(self) -> float | None:
        """Successful requests per second over the recent horizon (None if too few)."""
        with self._lock:
            return self._observed(self._clock())

    def _observed(self, now: float) -> float | None:
        recent = [t for t in self._successes if t >= now - self.horizon]
        if len(recent) < 2 or now - recent[0] <= 0:
            return None
        return len(recent) / (now - recent[0])

    def on_throttle(self, retry_after: float | None) -> None:
        """Graph said slow down: pause everyone for ``retry_after`` and lower the rate."""
        with self._lock:
            now = self._clock()
            self.throttle_events += 1
            self._last_throttle = now
            if retry_after:
                self._paused_until = max(self._paused_until, now + retry_after)
                self._next_slot = max(self._next_slot, self._paused_until)
            if now < self._episode_until:
                return  # the same episode: other workers' refusals say nothing new
            self._episode_until = max(now, self._paused_until) + self.cooldown
            self.reductions += 1
            observed = self._observed(now)
            target = 0.9 * observed if observed else (self.rate or 10.0) / 2
            if self.rate is not None:
                target = min(target, self.rate)
            self.rate = max(self.min_rate, target)
            self._last_growth = max(now, self._paused_until)
