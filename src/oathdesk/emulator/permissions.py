"""The permission table of graph-api.md §3: application roles for apps; delegated scopes plus a
directory role for users acting on others. Each check raises 403 naming what is missing.

Since October 2025 Graph also has per-method permissions ("What's new in Microsoft Graph",
October 2025): ``UserAuthMethod-HardwareOATH.Read`` and ``.ReadWrite`` (delegated only) and
``.Read.All`` and ``.ReadWrite.All`` (delegated and application). They are the least-privileged
choice for a user's hardware OATH methods; the broad ``UserAuthenticationMethod.*`` ones stay
accepted as higher-privileged. The policy (C1) is read with ``Policy.Read.AuthenticationMethod``
or ``Policy.ReadWrite.AuthenticationMethod``, as its Get page lists (``Policy.Read.All`` is not
listed there, so it is refused). ``User.ReadBasic.All`` reads other users' basic profile only.
"""

from __future__ import annotations

from oathdesk.emulator.errors import GraphError, denied
from oathdesk.emulator.model import ROLE_IDS, User
from oathdesk.emulator.tokens import Principal

GA = ROLE_IDS["Global Administrator"]
GR = ROLE_IDS["Global Reader"]
AA = ROLE_IDS["Authentication Administrator"]
PAA = ROLE_IDS["Privileged Authentication Administrator"]
APA = ROLE_IDS["Authentication Policy Administrator"]

HW = "UserAuthMethod-HardwareOATH"
POLICY_READ = {"Policy.Read.All", "Policy.ReadWrite.AuthenticationMethod"}
POLICY_WRITE = {"Policy.ReadWrite.AuthenticationMethod"}
CONFIG_READ = {"Policy.Read.AuthenticationMethod", "Policy.ReadWrite.AuthenticationMethod"}
UAM_WRITE_ALL = {"UserAuthenticationMethod.ReadWrite.All", f"{HW}.ReadWrite.All"}
UAM_READ_ALL = {"UserAuthenticationMethod.Read.All", f"{HW}.Read.All", *UAM_WRITE_ALL}
UAM_WRITE_SELF = {"UserAuthenticationMethod.ReadWrite", f"{HW}.ReadWrite", *UAM_WRITE_ALL}
UAM_READ_SELF = {"UserAuthenticationMethod.Read", f"{HW}.Read", *UAM_WRITE_SELF, *UAM_READ_ALL}
USERS_READ = {"User.Read.All", "User.ReadBasic.All", "Directory.Read.All"}
USERS_FULL = {"User.Read.All", "Directory.Read.All"}


def _need(principal: Principal, permissions: set[str], what: str) -> None:
    held = principal.roles if principal.is_app else principal.scopes
    if not held & permissions:
        kind = "application permission" if principal.is_app else "delegated scope"
        raise denied(
            f"Insufficient privileges to {what}: the token needs the {kind} "
            f"{' or '.join(sorted(permissions))}"
        )


def _need_role(principal: Principal, role_ids: set[str], what: str) -> None:
    if principal.is_app or principal.role_ids & role_ids:
        return
    names = sorted(name for name, rid in ROLE_IDS.items() if rid in role_ids)
    raise denied(
        f"Insufficient privileges to {what}: the signed-in user needs one of the "
        f"directory roles {names}"
    )


def me_refused() -> GraphError:
    return GraphError(
        400, "BadRequest", "/me request is only valid with delegated authentication flow."
    )


def inventory_read(principal: Principal) -> None:
    _need(principal, POLICY_READ, "read the hardware OATH inventory")
    _need_role(principal, {GA, GR, APA}, "read the hardware OATH inventory")


def inventory_write(principal: Principal) -> None:
    _need(principal, POLICY_WRITE, "change the hardware OATH inventory")
    _need_role(principal, {GA, APA}, "change the hardware OATH inventory")


def _admin_roles(target: User) -> set[str]:
    # Authentication Administrators act on non-admins only; admins need the privileged role.
    return {GA, PAA} if target.is_admin else {GA, PAA, AA}


def assign_on_create(principal: Principal, target: User) -> None:
    _need(principal, UAM_WRITE_ALL, "assign a token while creating it")
    _need_role(principal, _admin_roles(target), "assign a token to this user")


def methods_read(principal: Principal, target: User) -> None:
    if not principal.is_app and principal.object_id == target.id:
        _need(principal, UAM_READ_SELF, "read your authentication methods")
        return
    _need(principal, UAM_READ_ALL, "read another user's authentication methods")
    _need_role(principal, _admin_roles(target) | {GR}, "read this user's authentication methods")


def methods_write(principal: Principal, target: User) -> None:
    if not principal.is_app and principal.object_id == target.id:
        _need(principal, UAM_WRITE_SELF, "change your authentication methods")
        return
    _need(principal, UAM_WRITE_ALL, "change another user's authentication methods")
    _need_role(principal, _admin_roles(target), "change this user's authentication methods")


def users_read(principal: Principal, target: User | None = None) -> None:
    if target is not None and not principal.is_app and principal.object_id == target.id:
        _need(principal, USERS_READ | {"User.Read"}, "read your profile")
        return
    _need(principal, USERS_READ, "read users")


def users_full(principal: Principal, target: User) -> bool:
    """Whether the caller sees the whole profile: ``User.ReadBasic.All`` alone shows others'
    basic profile only (one's own profile stays whole, as ``User.Read`` allows)."""
    held = principal.roles if principal.is_app else principal.scopes
    own = not principal.is_app and principal.object_id == target.id
    return bool(held & USERS_FULL) or (own and bool(held & (USERS_READ | {"User.Read"})))


def policy_read(principal: Principal) -> None:
    _need(principal, CONFIG_READ, "read the authentication methods policy")
    _need_role(principal, {GA, GR, APA}, "read the authentication methods policy")


def policy_write(principal: Principal) -> None:
    _need(principal, POLICY_WRITE, "change the authentication methods policy")
    _need_role(principal, {GA, APA}, "change the authentication methods policy")


TAP_WRITE = {"UserAuthenticationMethod.ReadWrite.All"}
TAP_READ = {"UserAuthenticationMethod.Read.All", *TAP_WRITE}


def tap_read(principal: Principal, target: User) -> None:
    """Temporary Access Passes: the broad authentication-method permissions only (the
    hardware-OATH per-method ones do not reach them)."""
    if not principal.is_app and principal.object_id == target.id:
        _need(principal, TAP_READ | {"UserAuthenticationMethod.Read"}, "read your passes")
        return
    _need(principal, TAP_READ, "read another user's Temporary Access Pass")
    _need_role(principal, _admin_roles(target) | {GR}, "read this user's Temporary Access Pass")


def tap_write(principal: Principal, target: User) -> None:
    _need(principal, TAP_WRITE, "issue or delete a Temporary Access Pass")
    _need_role(principal, _admin_roles(target), "issue a Temporary Access Pass to this user")
