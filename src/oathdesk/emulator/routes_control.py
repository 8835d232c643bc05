"""The control plane under ``/_emulator/``: reset, seed, state, faults, live configuration
and a simulated sign-in.

It answers loopback callers only, so an emulator bound to a wider address cannot be reseeded
from elsewhere; its snapshot never includes client secrets, passwords or token seeds.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from oathdesk.emulator.common import body_json, emu, ok
from oathdesk.emulator.errors import GraphError, bad_request
from oathdesk.emulator.faults import parse_rules
from oathdesk.emulator.tap import use

LOOPBACK = {"127.0.0.1", "::1"}


def _local(request: Request) -> None:
    host = request.client.host if request.client else ""
    if host not in LOOPBACK and not host.startswith("127."):
        raise GraphError(
            403, "accessDenied", "The emulator control plane answers loopback callers only."
        )


async def reset(request: Request) -> Response:
    _local(request)
    emu(request).reset()
    return ok(request, None, 204)


async def seed(request: Request) -> Response:
    _local(request)
    state = emu(request)
    state.load_seed(await body_json(request))
    return ok(request, state.snapshot(), 200)


async def snapshot(request: Request) -> Response:
    _local(request)
    return ok(request, emu(request).snapshot())


async def faults(request: Request) -> Response:
    _local(request)
    state = emu(request)
    if request.method == "POST":
        rules = parse_rules(await body_json(request))
        with state.lock:
            state.faults.rules.extend(rules)
    elif request.method == "DELETE":
        state.faults.rules.clear()
        return ok(request, None, 204)
    return ok(request, {"rules": [r.to_json() for r in state.faults.rules]})


async def config(request: Request) -> Response:
    _local(request)
    state = emu(request)
    if request.method == "PATCH":
        with state.lock:
            state.config.patch(await body_json(request))
            state.sync_config()
    return ok(request, state.config.to_json())


async def sign_in(request: Request) -> Response:
    """Rehearse a user signing in with a token code: updates drift and lastUsedDateTime."""
    _local(request)
    state = emu(request)
    body = await body_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("user"), str):
        raise bad_request('send {"user": "<id or UPN>", "code": "123456"}')
    user = state.directory.user(body["user"])
    if "temporaryAccessPass" in body:  # a sign-in with the user's Temporary Access Pass
        with state.lock:
            tap = state.directory.taps.get(user.id)
            return ok(request, {"success": use(tap, body["temporaryAccessPass"], state.now())})
    device = state.directory.sign_in(user, body.get("code"), state.now())
    return ok(
        request, {"success": device is not None, "methodId": device.method_key if device else None}
    )


routes = [
    Route("/_emulator/reset", reset, methods=["POST"]),
    Route("/_emulator/seed", seed, methods=["POST"]),
    Route("/_emulator/state", snapshot, methods=["GET"]),
    Route("/_emulator/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/_emulator/config", config, methods=["GET", "PATCH"]),
    Route("/_emulator/signin", sign_in, methods=["POST"]),
]
