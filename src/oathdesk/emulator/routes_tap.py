"""Routes for a user's Temporary Access Pass: ``POST``/``GET`` ``…/temporaryAccessPassMethods``
and ``GET``/``DELETE`` ``…/{id}``, under ``/beta`` and ``/v1.0`` as Graph has them.

The pass itself is in the answer to ``POST`` only; every read shows ``temporaryAccessPass:
null``. Rules in :mod:`oathdesk.emulator.tap`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from oathdesk.emulator import permissions as perm
from oathdesk.emulator.common import body_json, caller, emu, me, ok
from oathdesk.emulator.errors import not_found
from oathdesk.emulator.model import User
from oathdesk.emulator.tap import new_tap
from oathdesk.emulator.tokens import Principal


def _target(request: Request) -> tuple[Principal, User]:
    principal = caller(request)
    key = request.path_params.get("user") or me(request, principal)
    return principal, emu(request).directory.user(key)


def _context(request: Request, user: User) -> str:
    version = request.url.path.split("/", 2)[1]
    base = str(request.base_url).rstrip("/")
    return (
        f"{base}/{version}/$metadata#users('{user.id}')/authentication/temporaryAccessPassMethods"
    )


async def create(request: Request) -> Response:
    principal, user = _target(request)
    perm.tap_write(principal, user)
    state = emu(request)
    tap = new_tap(await body_json(request), state.now())
    with state.lock:
        state.directory.taps[user.id] = tap  # one pass per user: a new one replaces the old
    shown = {
        "@odata.context": f"{_context(request, user)}/$entity",
        **tap.to_graph(state.now(), with_pass=True),
    }
    return ok(request, shown, 201, location=f"{request.url}/{tap.id}")


async def listing(request: Request) -> Response:
    principal, user = _target(request)
    perm.tap_read(principal, user)
    state = emu(request)
    tap = state.directory.taps.get(user.id)
    value = [tap.to_graph(state.now())] if tap is not None else []
    return ok(request, {"@odata.context": _context(request, user), "value": value})


async def one(request: Request) -> Response:
    principal, user = _target(request)
    state = emu(request)
    tap = state.directory.taps.get(user.id)
    wanted = request.path_params["tap_id"]
    if request.method == "DELETE":
        perm.tap_write(principal, user)
    else:
        perm.tap_read(principal, user)
    if tap is None or tap.id != wanted:
        raise not_found(f"Temporary Access Pass '{wanted}' does not exist for this user")
    if request.method == "DELETE":
        with state.lock:
            state.directory.taps.pop(user.id, None)
        return ok(request, None, 204)
    shown = {"@odata.context": f"{_context(request, user)}/$entity", **tap.to_graph(state.now())}
    return ok(request, shown)


routes: list[Route] = []
for _version in ("beta", "v1.0"):
    for _who in ("users/{user}", "me"):
        _base = f"/{_version}/{_who}/authentication/temporaryAccessPassMethods"
        routes += [
            Route(_base, create, methods=["POST"]),
            Route(_base, listing, methods=["GET"]),
            Route(f"{_base}/{{tap_id}}", one, methods=["GET", "DELETE"]),
        ]
