"""``GET /users/{id or UPN}/authentication/methods`` (and ``/me/…``): every method a user holds.

Why: the five-method cap counts hardware tokens and authenticator apps together, so a client
that wants to warn before the sixth has to see the apps too; this list is where Graph shows them.
Entries are typed by ``@odata.type``: the password, each software OATH app, each Authenticator
registration, and each hardware token (legacy CSV copies included, as in B1).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from oathdesk.emulator import permissions as perm
from oathdesk.emulator.common import caller, context, emu, graph_base, me, ok
from oathdesk.emulator.model import User, method_to_graph
from oathdesk.emulator.query import page, read_query
from oathdesk.emulator.software import password_method


def all_methods(request: Request, user: User) -> list[dict[str, Any]]:
    """The password first, then the apps, then the hardware tokens (without ``device``: it is
    a navigation property here, which the list does not expand)."""
    d = emu(request).directory
    hardware = []
    for device in d.visible_methods(user):
        shown = method_to_graph(device, d.users)
        shown.pop("device", None)
        hardware.append(shown)
    return [password_method(), *(m.to_graph() for m in user.software_methods), *hardware]


async def list_all_methods(request: Request) -> Response:
    principal = caller(request)
    key = request.path_params.get("user") or me(request, principal)
    user = emu(request).directory.user(key)
    perm.methods_read(principal, user)
    params = dict(request.query_params)
    query = read_query(params, filterable={}, selectable=())
    base = f"{graph_base(request)}{request.url.path.removeprefix('/beta')}"
    return ok(
        request,
        page(
            all_methods(request, user),
            query,
            emu(request).config.page_size,
            base,
            params,
            context(request, f"users('{user.id}')/authentication/methods"),
        ),
    )


routes: list[Route] = [
    Route("/beta/users/{user}/authentication/methods", list_all_methods, methods=["GET"]),
    Route("/beta/me/authentication/methods", list_all_methods, methods=["GET"]),
]
