"""Is Graph reachable from this node? One unauthenticated request to the Graph base URL with a
short timeout, its answer kept for a while.

Why this cheap: a readiness probe runs every few seconds on every node; signing in or reading
the tenant each time would spend Graph's request budget and the app's token quota. Any HTTP
answer (401 from real Graph, 404 from the emulator) proves name resolution, routing, TLS and
the CA are right; only no answer at all counts as unreachable.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import httpx

from oathdesk.domain import Clock, SystemClock
from oathdesk.domain.request_context import current_request_id
from oathdesk.graph.metrics import observe
from oathdesk.graph.session import make_http_client
from oathdesk.graph.settings import GraphSettings

PROBE_TIMEOUT = 3.0  # seconds: a probe must answer well within the orchestrator's own timeout
PROBE_TTL = 30.0  # seconds an answer is reused


@dataclass(frozen=True)
class ProbeResult:
    """``reachable`` and, when not, the kind of failure (a type name, never a host or a URL)."""

    reachable: bool
    reason: str = ""


class GraphProbe:
    """Reachability of ``settings.base_url``, asked at most once per ``ttl`` seconds."""

    def __init__(
        self,
        settings: GraphSettings,
        *,
        timeout: float = PROBE_TIMEOUT,
        ttl: float = PROBE_TTL,
        clock: Clock | None = None,
    ) -> None:
        self.url = settings.base_url
        self.ca_file = str(settings.ca_file) if settings.ca_file else None
        self.timeout = timeout
        self.ttl = ttl
        self.clock: Clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._last: tuple[float, ProbeResult] | None = None

    def check(self) -> ProbeResult:
        with self._lock:  # one probe at a time; the others wait for its answer
            now = self.clock.monotonic()
            if self._last is not None and now - self._last[0] < self.ttl:
                return self._last[1]
            result = self._ask()
            self._last = (self.clock.monotonic(), result)
            return result

    def _ask(self) -> ProbeResult:
        headers = {"client-request-id": current_request_id() or ""}
        started = self.clock.monotonic()
        try:
            with make_http_client(self.ca_file, timeout=self.timeout, connections=1) as http:
                response = http.get(self.url, headers={k: v for k, v in headers.items() if v})
        except httpx.HTTPError as exc:
            observe("GET", self.url, None, self.clock.monotonic() - started)
            return ProbeResult(False, type(exc).__name__)
        observe("GET", self.url, response.status_code, self.clock.monotonic() - started)
        return ProbeResult(True)
