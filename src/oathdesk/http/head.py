"""``HEAD`` answered like ``GET`` without the body, on every route of an app.

Why: monitoring probes, link checkers and some browsers send ``HEAD``; FastAPI routes declared
with ``GET`` answer it with 405, which looks like a broken page. HTTP (RFC 9110 §9.3.2) asks
for the same status and headers as ``GET``, so the request runs as ``GET`` and the body is
dropped on the way out (``Content-Length`` stays that of the ``GET``).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """ASGI middleware: run ``HEAD`` as ``GET`` and send no body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # the rest follows; only the last part is passed on, empty
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        as_get = {**scope, "method": "GET"}
        await self.app(as_get, receive, without_body)
        if "route" in as_get:  # the route that answered, for the request's log line and metrics
            scope["route"] = as_get["route"]
