"""Injected failures and throttling, so clients can rehearse 429s, 5xx, drops and slowness.

A rule matches by method and a path regular expression and fires by probability and/or a count
of remaining uses. Throttling is a fixed-window request budget per app (or per client address).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from oathdesk.emulator.errors import bad_request


@dataclass
class FaultRule:
    path: re.Pattern[str]
    method: str | None = None
    status: int | None = None
    retry_after: float | None = None
    probability: float = 1.0
    count: int | None = None  # remaining firings; None = unlimited
    delay_ms: int = 0
    drop: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path.pattern,
            "status": self.status,
            "retryAfter": self.retry_after,
            "probability": self.probability,
            "count": self.count,
            "delayMs": self.delay_ms,
            "drop": self.drop,
        }


def _number(item: dict[str, Any], key: str, where: str) -> float | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise bad_request(f"{where}: '{key}' must be a non-negative number")
    return float(value)


def parse_rules(body: Any) -> list[FaultRule]:
    if not isinstance(body, dict) or not isinstance(body.get("rules"), list):
        raise bad_request('faults: send {"rules": [{"path": "<regex>", ...}]}')
    rules = []
    for n, item in enumerate(body["rules"]):
        where = f"rules[{n}]"
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise bad_request(f"{where}: 'path' (a regular expression) is required")
        try:
            pattern = re.compile(item["path"])
        except re.error as exc:
            raise bad_request(
                f"{where}: 'path' is not a valid regular expression ({exc})"
            ) from None
        status = item.get("status")
        if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
            raise bad_request(f"{where}: 'status' must be an HTTP error status (400-599)")
        probability = _number(item, "probability", where)
        if probability is not None and probability > 1:
            raise bad_request(f"{where}: 'probability' must be between 0 and 1")
        count = _number(item, "count", where)
        method = item.get("method")
        if method is not None and not isinstance(method, str):
            raise bad_request(f"{where}: 'method' must be a string")
        drop = bool(item.get("drop", False))
        delay = int(_number(item, "delayMs", where) or 0)
        if status is None and not drop and not delay:
            raise bad_request(f"{where}: give at least one of status, drop or delayMs")
        rules.append(
            FaultRule(
                path=pattern,
                method=method.upper() if method else None,
                status=status,
                retry_after=_number(item, "retryAfter", where),
                probability=1.0 if probability is None else probability,
                count=None if count is None else int(count),
                delay_ms=delay,
                drop=drop,
            )
        )
    return rules


class Faults:
    """The active rules; :meth:`pick` consumes one firing of the first rule that matches."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.rules: list[FaultRule] = []
        self._rng = rng or random.Random()  # noqa: S311 - chaos, not cryptography

    def pick(self, method: str, path: str) -> FaultRule | None:
        for rule in self.rules:
            if rule.method and rule.method != method:
                continue
            if not rule.path.search(path) or rule.count == 0:
                continue
            if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                continue
            if rule.count is not None:
                rule.count -= 1
            return rule
        return None


@dataclass
class Throttle:
    """``limit`` requests per ``window`` seconds per caller; over it, 429 with ``Retry-After``."""

    limit: int
    window: float

    def __post_init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    @classmethod
    def parse(cls, text: str) -> Throttle:
        try:
            limit, seconds = text.split("/", 1)
            throttle = cls(int(limit), float(seconds))
        except ValueError:
            raise bad_request(f"throttle '{text}' must look like N/SECONDS, e.g. 100/10") from None
        if throttle.limit < 1 or throttle.window <= 0:
            raise bad_request("throttle needs at least 1 request per a positive number of seconds")
        return throttle

    def spec(self) -> str:
        return f"{self.limit}/{self.window:g}"

    def charge(self, caller: str, now: float) -> float | None:
        """Count one request; return the seconds to wait when the budget is spent."""
        start, used = self._windows.get(caller, (now, 0))
        if now - start >= self.window:
            start, used = now, 0
        if used >= self.limit:
            return max(0.001, round(self.window - (now - start), 3))
        self._windows[caller] = (start, used + 1)
        return None
