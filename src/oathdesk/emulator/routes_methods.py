"""Routes for a user's hardware-OATH methods (B1–B9), under ``/users/{id or UPN}`` and ``/me``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from oathdesk.emulator import permissions as perm
from oathdesk.emulator.common import body_json, caller, context, emu, graph_base, me, ok
from oathdesk.emulator.errors import bad_request
from oathdesk.emulator.model import METHOD_TYPE, User, device_to_graph, iso, method_to_graph
from oathdesk.emulator.query import Query, apply_filter, page, read_query, select
from oathdesk.emulator.reauth import require_recent_sign_in
from oathdesk.emulator.routes_devices import SELECTABLE as DEVICE_SELECTABLE
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


def _read_query(params: dict[str, str], filterable: dict[str, type]) -> Query:
    """The query of a method read: ``$expand=device`` (the SDK's spelling) is honoured, and an
    expanded device stays in the answer whatever ``$select`` names, as OData has it."""
    if params.get("$expand", "device") != "device":
        raise bad_request("$expand supports only 'device'", inner_code="invalidQueryOption")
    query = read_query(params, filterable=filterable, selectable=SELECTABLE, extra=("$expand",))
    if "$expand" in params and query.select is not None and "device" not in query.select:
        query.select.append("device")
    return query


async def list_methods(request: Request) -> Response:
    principal, user = _target(request)
    perm.methods_read(principal, user)
    d = emu(request).directory
    params = dict(request.query_params)
    query = _read_query(params, FILTERABLE)
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
    # The documented answer: the new method's own id (not the device id) and no device.
    shown = {
        "@odata.context": context(request, _collection(request, user) + "/$entity"),
        "@odata.type": METHOD_TYPE,
        "id": device.method_key,
        "createdDateTime": iso(device.assigned_at),
    }
    where = f"{graph_base(request)}/users/{user.id}/authentication/hardwareOathMethods"
    return ok(request, shown, 201, f"{where}/{device.method_key}")


async def one_method(request: Request) -> Response:
    principal, user = _target(request)
    d = emu(request).directory
    method_id = request.path_params["method_id"]
    if request.method == "DELETE":
        perm.methods_write(principal, user)
        d.unassign(user, method_id)
        return ok(request, None, 204)
    perm.methods_read(principal, user)
    query = _read_query(dict(request.query_params), {})
    shown = select(method_to_graph(d.method(user, method_id), d.users), query.select)
    return ok(
        request,
        {"@odata.context": context(request, _collection(request, user) + "/$entity"), **shown},
    )


async def method_device(request: Request) -> Response:
    """``GET …/hardwareOathMethods/{id}/device``: the method's device as the inventory shows it
    (the SDK's ``.device.get()``), with ``$select``."""
    principal, user = _target(request)
    perm.methods_read(principal, user)
    d = emu(request).directory
    query = read_query(
        dict(request.query_params), filterable={}, selectable=DEVICE_SELECTABLE, extra=()
    )
    device = d.method(user, request.path_params["method_id"])
    shown = select(device_to_graph(device, d.users), query.select)
    fragment = f"{_collection(request, user)}('{request.path_params['method_id']}')/device/$entity"
    return ok(request, {"@odata.context": context(request, fragment), **shown})


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
    key = request.path_params["method_id"]
    held = d.device_of_method(key)  # a method id; else, as before, a device id
    d.assign(target, held.id if held is not None else key, state.now())
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
        Route(f"{_base}/{{method_id}}/device", method_device, methods=["GET"]),
        Route(f"{_base}/{{method_id}}/activate", activate, methods=["POST"]),
        Route(f"{_base}/{{method_id}}/deactivate", deactivate, methods=["POST"]),
        Route(f"{_base}/{{method_id}}/device/assignTo/$ref", method_assign_ref, methods=["PUT"]),
    ]
