"""Every request gets an id, a log line and a place in the metrics: the outermost middleware of
both web apps.

Why one middleware: the id must be set before anything else runs (so every log line and Graph
call of the request carries it) and the time measured around everything else; the route
template is known only once routing has run, so the line is written on the way out. The id
comes from ``X-Request-ID`` when the proxy in front sends a well-formed one (it then follows the
request through the proxy's logs too), else it is made here; it is returned in the answer.
The line names the route template, never the path: delivery paths carry download tokens.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oathdesk.domain import Clock
from oathdesk.domain.request_context import new_request_id, request_id_scope, well_formed
from oathdesk.http.metrics import HTTP_LATENCY, HTTP_REQUESTS, THROTTLED
from oathdesk.http.status import refusals_noted

access_log = logging.getLogger("oathdesk.http.access")
HEADER_B = b"x-request-id"
QUIET = frozenset({"/healthz", "/readyz", "/metrics"})  # probes: logged at DEBUG only
UNMATCHED = "(unmatched)"


class ObserveRequests:
    """ASGI middleware: request id, access log line, request count and latency."""

    def __init__(self, app: ASGIApp, *, name: str, clock: Clock, trust_header: bool = True) -> None:
        self.app = app
        self.name = name
        self.clock = clock
        self.trust_header = trust_header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, HEADER_B) if self.trust_header else None
        request_id = given if given is not None and well_formed(given) else new_request_id()
        status = 500  # what a crash before the answer started is counted as
        started = self.clock.monotonic()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        with request_id_scope(request_id), refusals_noted() as refused:
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                self._record(scope, status, self.clock.monotonic() - started, refused)

    def _record(self, scope: Scope, status: int, seconds: float, refused: list[str]) -> None:
        method = str(scope["method"])
        route = route_template(scope)
        HTTP_REQUESTS.labels(self.name, method, route, str(status)).inc()
        if status == 429:  # by the code that refused: auth.throttled, delivery.find_throttled...
            THROTTLED.labels(self.name, refused[-1] if refused else "other").inc()
        HTTP_LATENCY.labels(self.name, method, route).observe(seconds)
        level = logging.DEBUG if route in QUIET else logging.INFO
        access_log.log(
            level,
            "%s %s %d %.1f ms",
            method,
            route,
            status,
            seconds * 1000,
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
                "app": self.name,
            },
        )


def route_template(scope: Scope) -> str:
    """The template of the route that answered (``/tokens/{serial}``), the mount a static file
    came from, or ``(unmatched)``; never the path itself."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    app: Any = scope.get("app")
    for mount in getattr(app, "routes", ()):
        if isinstance(mount, Mount) and str(scope.get("path", "")).startswith(mount.path + "/"):
            return f"{mount.path}/{{path}}"
    return UNMATCHED


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            try:
                return str(value.decode("ascii"))
            except UnicodeDecodeError:
                return None
    return None
