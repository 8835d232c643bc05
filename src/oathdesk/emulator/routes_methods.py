"""Routes for a user's hardware-OATH methods (B1–B9), under ``/users/{id or UPN}`` and ``/me``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from oathdesk.emulator import permissions as perm
from oathdesk.emulator.common import body_json, caller, context, emu, graph_base, me, ok
from oathdesk.emulator.errors import bad_request
from oathdesk.emulator.model import User, method_to_graph
from oathdesk.emulator.query import apply_filter, page, read_query, select
from oathdesk.emulator.reauth import require_recent_sign_in
from oathdesk.emulator.routes_devices import user_from_ref
from oathdesk.emulator.tokens import Principal

SELECTABLE = ("id", "createdDateTime", "lastUsedDateTime", "device")
FILTERABLE: dict[str, type] = {"id": str, "device/serialNumber": str, "device/status": str}


def _target(request: Request) -> tuple[Principal, User]:
    principal = caller(request)
    key = request.path_params.get("user") or me(request, principal)
    require_recent_sign_in(request, principal)  # /me: the MFA re-prompt (emulator.reauth)
    return principal, emu(request).directory.user(key)


def _collection(request: Request, user: User) -> str:
    return f"users('{user.id}')/authentication/hardwareOathMethods"


async def list_methods(request: Request) -> Response:
    principal, user = _target(request)
    perm.methods_read(principal, user)
    d = emu(request).directory
    params = dict(request.query_params)
    if params.get("$expand", "device") != "device":
        raise bad_request("$expand supports only 'device'", inner_code="invalidQueryOption")
    query = read_query(params, filterable=FILTERABLE, selectable=SELECTABLE, extra=("$expand",))
    items = apply_filter(
        [method_to_graph(x, d.users) for x in d.visible_methods(user)], query.filter
    )
    base = f"{graph_base(request)}{request.url.path.removeprefix('/beta')}"
    return ok(
        request,
        page(
            items,
            query,
            emu(request).config.page_size,
            base,
            params,
            context(request, _collection(request, user)),
        ),
    )


async def create_method(request: Request) -> Response:
    principal, user = _target(request)
    perm.methods_write(principal, user)
    body = await body_json(request)
    device_id = None
    if isinstance(body, dict):
        device = body.get("device")
        device_id = device.get("id") if isinstance(device, dict) else body.get("id")
    if not isinstance(device_id, str):
        raise bad_request('send {"device": {"id": "<device id>"}}')
    state = emu(request)
    device = state.directory.assign(user, device_id, state.now())
    shown = method_to_graph(device, state.directory.users)
    return ok(
        request,
        {"@odata.context": context(request, _collection(request, user) + "/$entity"), **shown},
        201,
        f"{graph_base(request)}/users/{user.id}/authentication/hardwareOathMethods/{device.id}",
    )


async def one_method(request: Request) -> Response:
    principal, user = _target(request)
    d = emu(request).directory
    method_id = request.path_params["method_id"]
    if request.method == "DELETE":
        perm.methods_write(principal, user)
        d.unassign(user, method_id)
        return ok(request, None, 204)
    perm.methods_read(principal, user)
    params = dict(request.query_params)
    if params.get("$expand", "device") != "device":
        raise bad_request("$expand supports only 'device'", inner_code="invalidQueryOption")
    query = read_query(params, filterable={}, selectable=SELECTABLE, extra=("$expand",))
    shown = select(method_to_graph(d.method(user, method_id), d.users), query.select)
    return ok(
        request,
        {"@odata.context": context(request, _collection(request, user) + "/$entity"), **shown},
    )


async def activate(request: Request) -> Response:
    principal, user = _target(request)
    perm.methods_write(principal, user)
    body = await body_json(request)
    if not isinstance(body, dict):
        raise bad_request('send {"verificationCode": "123456"}')
    state = emu(request)
    state.directory.activate(
        user,
        request.path_params["method_id"],
        body.get("verificationCode"),
        body.get("displayName"),
        state.now(),
    )
    return ok(request, None, 204)


async def deactivate(request: Request) -> Response:
    principal, user = _target(request)
    perm.methods_write(principal, user)
    emu(request).directory.deactivate(user, request.path_params["method_id"])
    return ok(request, None, 204)


async def assign_and_activate(request: Request) -> Response:
    principal, user = _target(request)
    perm.methods_write(principal, user)
    body = await body_json(request)
    state = emu(request)
    d = state.directory
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    if request.url.path.endswith("BySerialNumber"):
        serial = body.get("serialNumber")
        if not isinstance(serial, str) or not serial:
            raise bad_request("serialNumber is required")
        device = d.by_serial(serial, user)
    else:
        ref = body.get("device")
        if not isinstance(ref, dict) or not isinstance(ref.get("id"), str):
            raise bad_request('send {"device": {"id": "<device id>"}, "verificationCode": ...}')
        device = d.device(ref["id"])
    d.assign_and_activate(
        user, device, body.get("verificationCode"), body.get("displayName"), state.now()
    )
    return ok(request, None, 204)


async def method_assign_ref(request: Request) -> Response:
    principal, _ = _target(request)
    state = emu(request)
    d = state.directory
    target = d.user(user_from_ref(request, await body_json(request)))
    perm.methods_write(principal, target)
    d.assign(target, request.path_params["method_id"], state.now())
    return ok(request, None, 204)


routes: list[Route] = []
for _base in (
    "/beta/users/{user}/authentication/hardwareOathMethods",
    "/beta/me/authentication/hardwareOathMethods",
):
    routes += [
        Route(_base, list_methods, methods=["GET"]),
        Route(_base, create_method, methods=["POST"]),
        Route(f"{_base}/assignAndActivate", assign_and_activate, methods=["POST"]),
        Route(f"{_base}/assignAndActivateBySerialNumber", assign_and_activate, methods=["POST"]),
        Route(f"{_base}/{{method_id}}", one_method, methods=["GET", "DELETE"]),
        Route(f"{_base}/{{method_id}}/activate", activate, methods=["POST"]),
        Route(f"{_base}/{{method_id}}/deactivate", deactivate, methods=["POST"]),
        Route(f"{_base}/{{method_id}}/device/assignTo/$ref", method_assign_ref, methods=["PUT"]),
    ]
