"""Group membership: ``POST /beta/users/{id or UPN}/checkMemberGroups`` (and ``/beta/me/...``).

Graph answers, from the group ids it is given (at most 20), those the user is a member of. The
permission check is the user-read check every user lookup makes (``User.Read`` for oneself;
``User.ReadBasic.All``, ``User.Read.All`` or ``Directory.Read.All``) plus a group-read permission
(``GroupMember.Read.All``, ``Group.Read.All`` or ``Directory.Read.All``), as Microsoft's page on
``directoryObject: checkMemberGroups`` pairs them. Membership is flat here: the emulator has no
nested groups, so "transitive" and "direct" are the same.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from oathdesk.emulator import permissions as perm
from oathdesk.emulator.common import body_json, caller, emu, me, ok
from oathdesk.emulator.errors import bad_request, denied
from oathdesk.emulator.tokens import Principal

GROUPS_READ = {"GroupMember.Read.All", "Group.Read.All", "Directory.Read.All"}
MAX_GROUP_IDS = 20


def _need_group_read(principal: Principal) -> None:
    held = principal.roles if principal.is_app else principal.scopes
    if not held & GROUPS_READ:
        kind = "application permission" if principal.is_app else "delegated scope"
        raise denied(
            f"Insufficient privileges to read group memberships: the token needs the {kind} "
            f"{' or '.join(sorted(GROUPS_READ))}"
        )


def _group_ids(body: object) -> list[str]:
    ids = body.get("groupIds") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(g, str) and g for g in ids):
        raise bad_request("groupIds must be a non-empty list of group ids")
    if len(ids) > MAX_GROUP_IDS:
        raise bad_request(f"groupIds may name at most {MAX_GROUP_IDS} groups")
    return ids


async def check_member_groups(request: Request) -> Response:
    principal = caller(request)
    key = request.path_params.get("user") or me(request, principal)
    user = emu(request).directory.user(key)
    perm.users_read(principal, user)
    _need_group_read(principal)
    wanted = _group_ids(await body_json(request))
    held = {g.lower() for g in user.groups}
    member = list(dict.fromkeys(g for g in wanted if g.lower() in held))
    return ok(request, {"value": member})


routes = [
    Route("/beta/users/{user}/checkMemberGroups", check_member_groups, methods=["POST"]),
    Route("/beta/me/checkMemberGroups", check_member_groups, methods=["POST"]),
]
