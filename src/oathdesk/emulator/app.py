"""Builds the emulator's ASGI application from an :class:`EmulatorState` (no module globals).

Around the routes sits one gate that injects faults, enforces the per-app request budget and
saves the state after every change, and the handlers that turn refusals into Graph's envelope.
"""

from __future__ import annotations

import asyncio
from email.utils import formatdate
from typing import Any

import jwt
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oathdesk.emulator import (
    routes_auth_methods,
    routes_batch,
    routes_control,
    routes_devices,
    routes_groups,
    routes_identity,
    routes_methods,
    routes_organization,
    routes_signin,
    routes_tap,
    routes_users,
)
from oathdesk.emulator.common import emu, error_response
from oathdesk.emulator.errors import GraphError, OAuthError
from oathdesk.emulator.faults import FaultRule
from oathdesk.emulator.routes_identity import oauth_error_response
from oathdesk.emulator.state import EmulatorState

_FAULT_CODES = {
    429: "TooManyRequests",
    500: "generalException",
    502: "badGateway",
    503: "serviceNotAvailable",
    504: "gatewayTimeout",
}


async def _graph_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GraphError)
    return error_response(request, exc, emu(request).now())


async def _oauth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OAuthError)
    return oauth_error_response(exc, emu(request).now())


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        error = GraphError(
            405, "methodNotAllowed", f"{request.method} is not supported on {request.url.path}"
        )
    elif exc.status_code == 404:
        error = GraphError(
            404, "resourceNotFound", f"Resource not found for the segment '{request.url.path}'"
        )
    else:
        error = GraphError(exc.status_code, "badRequest", str(exc.detail))
    return error_response(request, error, emu(request).now())


async def _crash(request: Request, exc: Exception) -> Response:
    # A bug in the emulator still answers in Graph's shape; the details stay in the server log.
    error = GraphError(500, "generalException", "The emulator failed on this request.")
    return error_response(request, error, emu(request).now())


class Gate:
    """Faults, throttling, the ``Date`` header (the emulator's time) and persistence around
    every request."""

    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._dated(send)
        path, method = scope["path"], scope["method"]
        if not path.startswith("/_emulator/"):
            rule = self.state.faults.pick(method, path)
            if rule is not None and await self._fault(rule, scope, receive, send):
                return
            budgeted = path.startswith("/beta/") and path != "/beta/$batch"
            if budgeted and await self._throttled(scope, receive, send):
                return
        await self.app(scope, receive, send)
        if method not in ("GET", "HEAD") and "/oauth2/" not in path and path != "/devicelogin":
            self.state.save()

    def _dated(self, send: Send) -> Send:
        async def dated(message: Message) -> None:
            if message["type"] == "http.response.start":
                stamp = formatdate(self.state.now(), usegmt=True).encode()
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                message = {**message, "headers": [*headers, (b"date", stamp)]}
            await send(message)

        return dated

    async def _fault(self, rule: FaultRule, scope: Scope, receive: Receive, send: Send) -> bool:
        if rule.delay_ms:
            await asyncio.sleep(rule.delay_ms / 1000)
        if rule.drop:
            # Start a response and stop: the server closes the connection mid-reply.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"4096")],
                }
            )
            return True
        if rule.status is None:
            return False
        headers = {}
        if rule.retry_after is not None:
            headers["Retry-After"] = f"{rule.retry_after:g}"
        error = GraphError(
            rule.status,
            _FAULT_CODES.get(rule.status, "faultInjected"),
            f"Injected fault for {scope['method']} {scope['path']}",
            headers=headers,
        )
        response = error_response(Request(scope, receive), error, self.state.now())
        await response(scope, receive, send)
        return True

    async def _throttled(self, scope: Scope, receive: Receive, send: Send) -> bool:
        throttle = self.state.throttle()
        if throttle is None:
            return False
        request = Request(scope, receive)
        key = request.client.host if request.client else "anonymous"
        _, _, token = request.headers.get("authorization", "").partition(" ")
        if token:
            try:
                claims: dict[str, Any] = jwt.decode(
                    token.strip(), options={"verify_signature": False}
                )
                key = f"app:{claims.get('appid', key)}"
            except jwt.PyJWTError:
                pass
        with self.state.lock:
            wait = throttle.charge(key, self.state.clock.monotonic())
        if wait is None:
            return False
        error = GraphError(
            429,
            "TooManyRequests",
            "Too many requests: the app's request "
            "budget for this window is spent. Wait Retry-After seconds.",
            headers={"Retry-After": f"{wait:g}"},
        )
        await error_response(request, error, self.state.now())(scope, receive, send)
        return True


def create_app(state: EmulatorState) -> ASGIApp:
    """The whole emulator (Graph beta, identity, control plane) over ``state``."""
    inner = Starlette(
        routes=[
            *routes_control.routes,
            *routes_batch.routes,
            *routes_devices.routes,
            *routes_methods.routes,
            *routes_auth_methods.routes,
            *routes_tap.routes,
            *routes_users.routes,
            *routes_groups.routes,
            *routes_organization.routes,
            *routes_identity.routes,
            *routes_signin.routes,
        ],
        exception_handlers={
            GraphError: _graph_error,
            OAuthError: _oauth_error,
            HTTPException: _http_error,
            Exception: _crash,
        },
    )
    gate = Gate(inner, state)
    inner.state.emulator = state
    inner.state.gate = gate  # $batch runs each of its requests through the whole emulator
    return gate
