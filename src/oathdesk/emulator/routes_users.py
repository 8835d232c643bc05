"""Routes for the directory's users: list with ``eq``/``startswith`` filters and paging, get one.

What a caller sees depends on its permission: ``User.ReadBasic.All`` alone gives other users'
basic profile only, even when ``$select`` asks for more (user_rules.BASIC_FIELDS).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from oathdesk.emulator import permissions as perm
from oathdesk.emulator.common import caller, context, emu, graph_base, me, ok
from oathdesk.emulator.query import apply_filter, page, read_query, select
from oathdesk.emulator.user_rules import basic

SELECTABLE = ("id", "displayName", "userPrincipalName", "userType", "mail", "accountEnabled")
FILTERABLE: dict[str, type] = {
    "userPrincipalName": str,
    "id": str,
    "userType": str,
    "displayName": str,
    "mail": str,
}
# Graph's user page: startsWith on displayName, mail and userPrincipalName (among others).
PREFIXABLE = ("displayName", "userPrincipalName", "mail")


async def list_users(request: Request) -> Response:
    principal = caller(request)
    perm.users_read(principal)
    d = emu(request).directory
    params = dict(request.query_params)
    query = read_query(
        params,
        filterable=FILTERABLE,
        selectable=SELECTABLE,
        prefixable=PREFIXABLE,
        disjunction=True,
    )
    users = sorted(d.users.values(), key=lambda u: u.user_principal_name.lower())
    items = apply_filter(
        [u.to_graph() if perm.users_full(principal, u) else basic(u.to_graph()) for u in users],
        query.filter,
    )
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
    shown = user.to_graph() if perm.users_full(principal, user) else basic(user.to_graph())
    return ok(
        request,
        {"@odata.context": context(request, "users/$entity"), **select(shown, query.select)},
    )


routes = [
    Route("/beta/users", list_users, methods=["GET"]),
    Route("/beta/users/{user}", one_user, methods=["GET"]),
    Route("/beta/me", one_user, methods=["GET"]),
]
