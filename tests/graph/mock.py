"""A scripted Graph for ``httpx.MockTransport``: route functions, a request log, fake time."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from oathdesk.domain import FixedClock
from oathdesk.graph import (
    GraphClient,
    GraphSession,
    RetryPolicy,
    StaticToken,
)

BASE = "https://graph.test/beta"
DEVICE_JSON = {"id": "d1", "serialNumber": "SN-1", "status": "available", "secretKey": None}


@dataclass
class FakeTime(FixedClock):
    """A clock that only moves when someone sleeps (or a test advances it)."""

    at: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        super().sleep(seconds)


def graph_error(
    status: int, code: str, *, headers: dict[str, str] | None = None, request_id: str = "rid-1"
) -> httpx.Response:
    body = {
        "error": {
            "code": code,
            "message": f"{code} happened",
            "innerError": {"request-id": request_id},
        }
    }
    return httpx.Response(status, json=body, headers=headers or {})


@dataclass
class Scripted:
    """Answers each request with the next response of its route's script (or a function)."""

    handler: Callable[[httpx.Request], httpx.Response]
    time: FakeTime = field(default_factory=FakeTime)
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def client(self, policy: RetryPolicy | None = None) -> GraphClient:
        session = GraphSession(
            httpx.Client(transport=httpx.MockTransport(self)),
            StaticToken("test-token"),
            BASE,
            policy=policy or RetryPolicy(attempts=4, throttle_attempts=5),
            clock=self.time,  # the session and its rate limiter sleep on it
        )
        return GraphClient(session)

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]


def sequence(
    *responses: httpx.Response | type[Exception],
) -> Callable[[httpx.Request], httpx.Response]:
    """Answer with each response in turn (an exception class is raised instead)."""
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0)
        if isinstance(item, type):
            raise item("scripted failure", request=request)  # type: ignore[call-arg]
        return item

    return handler
