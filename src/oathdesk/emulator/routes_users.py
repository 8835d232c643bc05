"""Routes for the directory's users: list with ``userPrincipalName`` filters and paging, get one."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from oathdesk.emulator import permissions as perm
from oathdesk.emulator.common import caller, context, emu, graph_base, me, ok
from oathdesk.emulator.query import apply_filter, page, read_query, select

SELECTABLE = ("id", "displayName", "userPrincipalName", "userType", "mail", "accountEnabled")
FILTERABLE: dict[str, type] = {"userPrincipalName": str, "id": str, "userType": str}


async def list_users(request: Request) -> Response:
    perm.users_read(caller(request))
    d = emu(request).directory
    params = dict(request.query_params)
    query = read_query(params, filterable=FILTERABLE, selectable=SELECTABLE)
    users = sorted(d.users.values(), key=lambda u: u.user_principal_name.lower())
    items = apply_filter([u.to_graph() for u in users], query.filter)
    return ok(
        request,
        page(
            items,
            query,
            emu(request).config.page_size,
            f"{graph_base(request)}/users",
            params,
            context(request, "users"),
        ),
    )


async def one_user(request: Request) -> Response:
    principal = caller(request)
    key = request.path_params.get("user") or me(request, principal)
    user = emu(request).directory.user(key)
    perm.users_read(principal, user)
    query = read_query(dict(request.query_params), filterable={}, selectable=SELECTABLE)
    return ok(
        request,
        {
            "@odata.context": context(request, "users/$entity"),
            **select(user.to_graph(), query.select),
        },
    )


routes = [
    Route("/beta/users", list_users, methods=["GET"]),
    Route("/beta/users/{user}", one_user, methods=["GET"]),
    Route("/beta/me", one_user, methods=["GET"]),
]
