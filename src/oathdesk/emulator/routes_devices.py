"""Routes for the tenant inventory (A1–A8) and the hardware-OATH policy switch (C1)."""

from __future__ import annotations

import random
import zlib
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from oathdesk.emulator import permissions as perm
from oathdesk.emulator import policy as method_policy
from oathdesk.emulator.common import (
    DEVICES_PATH,
    body_json,
    caller,
    context,
    emu,
    graph_base,
    ok,
    request_ids,
)
from oathdesk.emulator.errors import GraphError, bad_request, not_found
from oathdesk.emulator.model import Device, device_to_graph, method_to_graph
from oathdesk.emulator.query import apply_filter, page, parse_filter, read_query, select
from oathdesk.emulator.tokens import Principal

FILTERABLE: dict[str, type] = {
    "status": str,
    "serialNumber": str,
    "manufacturer": str,
    "model": str,
    "hashFunction": str,
    "timeIntervalInSeconds": int,
    "assignedTo/id": str,
    "id": str,
}
SELECTABLE = (
    "id",
    "displayName",
    "serialNumber",
    "manufacturer",
    "model",
    "secretKey",
    "timeIntervalInSeconds",
    "status",
    "lastUsedDateTime",
    "hashFunction",
    "assignedTo",
)
ENTITY = f"{DEVICES_PATH}/$entity"
POLICY_PATH = "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/hardwareOath"


def _all(request: Request) -> list[dict[str, Any]]:
    d = emu(request).directory
    return [device_to_graph(x, d.users) for x in d.inventory()]


async def devices_root(request: Request) -> Response:
    perm.inventory_read(caller(request))
    return ok(
        request,
        {
            "@odata.context": context(request, "directory/authenticationMethodDevices/$entity"),
            "id": emu(request).directory.tenant.id,
        },
    )


async def list_devices(request: Request) -> Response:
    perm.inventory_read(caller(request))
    params = dict(request.query_params)
    query = read_query(params, filterable=FILTERABLE, selectable=SELECTABLE)
    items = apply_filter(_all(request), query.filter)
    return ok(
        request,
        page(
            items,
            query,
            emu(request).config.page_size,
            f"{graph_base(request)}/{DEVICES_PATH}",
            params,
            context(request, DEVICES_PATH),
        ),
    )


async def count_devices(request: Request) -> Response:
    perm.inventory_read(caller(request))
    items = _all(request)
    if "$filter" in request.query_params:
        items = apply_filter(items, parse_filter(request.query_params["$filter"], FILTERABLE))
    rid, crid = request_ids(request)
    return PlainTextResponse(
        str(len(items)), headers={"request-id": rid, "client-request-id": crid}
    )


def _create_one(
    request: Request, principal: Principal, item: Any, known: set[str] | None
) -> Device:
    state = emu(request)
    d = state.directory
    device, assignee = d.validate_new(item, known)
    if assignee is not None:
        perm.assign_on_create(principal, d.user(assignee))
    d.add(device, assignee, state.now())
    if known is not None:
        known.add(device.serial_number)
    return device


async def create_devices(request: Request) -> Response:
    principal = caller(request)
    perm.inventory_write(principal)
    body = await body_json(request)
    if request.method == "POST" and not (isinstance(body, dict) and "@context" in body):
        device = _create_one(request, principal, body, None)
        created = device_to_graph(device, emu(request).directory.users)
        where = f"{graph_base(request)}/{DEVICES_PATH}/{created['id']}"
        return ok(request, {"@odata.context": context(request, ENTITY), **created}, 201, where)
    return _bulk(request, principal, body)


def _bulk(request: Request, principal: Principal, body: Any) -> Response:
    state = emu(request)
    if not isinstance(body, dict) or body.get("@context") != "#$delta":
        raise bad_request('a bulk create needs "@context": "#$delta" and a "value" array')
    items = body.get("value")
    if not isinstance(items, list) or not items:
        raise bad_request("'value' must be a non-empty array of devices")
    if len(items) > state.config.max_bulk:
        raise bad_request(
            f"{len(items)} devices in one request; at most "
            f"{state.config.max_bulk} are accepted. Split the upload"
        )
    ids = [i.get("@contentId") for i in items if isinstance(i, dict) and "@contentId" in i]
    if len(set(map(str, ids))) != len(ids):
        raise bad_request("@contentId values must be unique within the request")
    results: list[dict[str, Any]] = []
    known = {device.serial_number for device in state.directory.inventory()}
    created = 0
    for item in items:
        echo = (
            {"@contentId": item["@contentId"]}
            if isinstance(item, dict) and "@contentId" in item
            else {}
        )
        try:
            # The documented answer: the user-method shape with the device nested, and no
            # @contentId (so a client can only match results by device.serialNumber).
            device = _create_one(request, principal, item, known)
            results.append(method_to_graph(device, state.directory.users))
            created += 1
        except GraphError as exc:
            failure: dict[str, Any] = {
                **echo,
                "@Core.DataModificationException": {
                    "failedOperation": "insert",
                    "responseCode": exc.status,
                    "info": {"code": exc.graph_code, "message": exc.message},
                },
            }
            if isinstance(item, dict) and isinstance(item.get("serialNumber"), str):
                failure["serialNumber"] = item["serialNumber"]
            results.append(failure)
    partial = state.config.bulk_partial_status if created else 200
    status = 201 if created == len(items) else partial
    ordered = _reorder(results, state.config.bulk_result_order)
    return ok(request, {"@odata.context": context(request, DEVICES_PATH), "value": ordered}, status)


def _reorder(results: list[dict[str, Any]], order: str) -> list[dict[str, Any]]:
    """Entra documents no order for bulk results; ``bulkResultOrder`` lets tests prove a client
    never matches them by position (``shuffled`` is seeded by the entries, so reproducible)."""
    if order == "reversed":
        return results[::-1]
    if order == "shuffled":
        shuffled = list(results)
        rng = random.Random(zlib.crc32(repr(results).encode()))  # noqa: S311 - an order, no secret
        rng.shuffle(shuffled)
        if len(shuffled) > 1 and shuffled == results:  # a shuffle that changed nothing
            shuffled = shuffled[1:] + shuffled[:1]
        return shuffled
    return results


async def one_device(request: Request) -> Response:
    principal = caller(request)
    state = emu(request)
    d = state.directory
    device_id = request.path_params["device_id"]
    if request.method == "GET":
        perm.inventory_read(principal)
        query = read_query(dict(request.query_params), filterable={}, selectable=SELECTABLE)
        shown = select(device_to_graph(d.device(device_id), d.users), query.select)
        return ok(request, {"@odata.context": context(request, ENTITY), **shown})
    perm.inventory_write(principal)
    if request.method == "PATCH":
        d.update(device_id, await body_json(request))
    else:
        d.delete(device_id)
    return ok(request, None, 204)


async def device_assigned_user(request: Request) -> Response:
    perm.inventory_read(caller(request))
    d = emu(request).directory
    device = d.device(request.path_params["device_id"])
    if device.assigned_to is None:
        raise not_found("The token is not assigned to anyone")
    user = d.user(device.assigned_to)
    return ok(request, {"@odata.context": context(request, "users/$entity"), **user.to_graph()})


def user_from_ref(request: Request, body: Any) -> str:
    ref = body.get("@odata.id") if isinstance(body, dict) else None
    if not isinstance(ref, str) or "/users/" not in ref:
        raise bad_request('send {"@odata.id": "https://graph.microsoft.com/beta/users/<id>"}')
    return ref.rstrip("/").rsplit("/", 1)[-1]


async def device_assign_ref(request: Request) -> Response:
    principal = caller(request)
    state = emu(request)
    d = state.directory
    target = d.user(user_from_ref(request, await body_json(request)))
    perm.methods_write(principal, target)
    d.assign(target, request.path_params["device_id"], state.now())
    return ok(request, None, 204)


async def policy(request: Request) -> Response:
    principal = caller(request)
    d = emu(request).directory
    if request.method in ("PATCH", "DELETE"):
        perm.policy_write(principal)
        if request.method == "DELETE":  # "reverts ... to its default configuration"
            d.policy = method_policy.default_policy()
        else:
            d.policy = method_policy.patched(d.policy, await body_json(request))
        return ok(request, None, 204)
    perm.policy_read(principal)
    return ok(
        request,
        {
            "@odata.context": context(
                request,
                "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/$entity",
            ),
            "@odata.type": "#microsoft.graph.hardwareOathAuthenticationMethodConfiguration",
            "id": "HardwareOath",
            **d.policy,
        },
    )


_DEV = f"/beta/{DEVICES_PATH}"
routes = [
    Route("/beta/directory/authenticationMethodDevices", devices_root, methods=["GET"]),
    Route(_DEV, list_devices, methods=["GET"]),
    Route(_DEV, create_devices, methods=["POST", "PATCH"]),
    Route(f"{_DEV}/$count", count_devices, methods=["GET"]),
    Route(f"{_DEV}/{{device_id}}", one_device, methods=["GET", "PATCH", "DELETE"]),
    Route(f"{_DEV}/{{device_id}}/assignTo", device_assigned_user, methods=["GET"]),
    Route(f"{_DEV}/{{device_id}}/assignTo/$ref", device_assign_ref, methods=["PUT"]),
    Route(f"/beta/{POLICY_PATH}", policy, methods=["GET", "PATCH", "DELETE"]),
]
