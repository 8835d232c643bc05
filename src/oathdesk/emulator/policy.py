"""The hardware-OATH method policy (C1) and its enforcement on assignment and activation.

Why: a client proven against an emulator that ignores the policy would never meet Entra's
refusal when an administrator disables the method or scopes it to a group. The policy resource
(``hardwareOathAuthenticationMethodConfiguration``) has ``state``, ``includeTargets`` (targets
of ``targetType`` ``group``, ``id`` a group id or ``all_users``) and ``excludeTargets``
(groups); ``DELETE`` reverts it to the default configuration. Microsoft documents neither the
refusal nor the default's ``state``; the choices are in docs/emulator.md ("Fidelity").
"""

from __future__ import annotations

import copy
from typing import Any

from oathdesk.emulator.errors import GraphError, bad_request
from oathdesk.emulator.model import User

ALL_USERS = "all_users"
_ALL_USERS_TARGET = {"targetType": "group", "id": ALL_USERS, "isRegistrationRequired": False}
# Entra's default for the method (what DELETE restores): off, aimed at all users.
DEFAULT_POLICY: dict[str, Any] = {
    "state": "disabled",
    "includeTargets": [_ALL_USERS_TARGET],
    "excludeTargets": [],
}
# The emulator's tenant starts with the method on for everyone, so rehearsals work at once.
STARTING_POLICY: dict[str, Any] = {**DEFAULT_POLICY, "state": "enabled"}
REFUSAL = (
    "Converged UserCredentialPolicy does not allow creating or updating this authentication "
    "method. AuthMethodType [HardwareOath]."
)


def default_policy() -> dict[str, Any]:
    return copy.deepcopy(DEFAULT_POLICY)


def starting_policy() -> dict[str, Any]:
    return copy.deepcopy(STARTING_POLICY)


def _targets(key: str, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(
        isinstance(t, dict) and isinstance(t.get("id"), str) and t["id"] for t in value
    ):
        raise bad_request(f'{key} must be an array of {{"targetType": "group", "id": ...}}')
    if key == "includeTargets" and not value:
        raise bad_request("includeTargets needs at least one target: a group id or all_users")
    kept = []
    for target in value:
        if target.get("targetType", "group") != "group":
            raise bad_request(f"{key}: only targetType 'group' is supported")
        entry = {"targetType": "group", "id": target["id"]}
        if key == "includeTargets":
            entry["isRegistrationRequired"] = bool(target.get("isRegistrationRequired", False))
        kept.append(entry)
    return kept


def patched(current: dict[str, Any], body: Any) -> dict[str, Any]:
    """The policy after a PATCH; nothing changes unless the whole body is valid."""
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    updated = copy.deepcopy(current)
    if "state" in body:
        if body["state"] not in ("enabled", "disabled"):
            raise bad_request("state must be 'enabled' or 'disabled'")
        updated["state"] = body["state"]
    for key in ("includeTargets", "excludeTargets"):
        if key in body:
            updated[key] = _targets(key, body[key])
    return updated


def _hits(targets: Any, groups: set[str]) -> bool:
    for target in targets if isinstance(targets, list) else []:
        wanted = str(target.get("id", "")).lower() if isinstance(target, dict) else ""
        if wanted == ALL_USERS or wanted in groups:
            return True
    return False


def enforce(policy: dict[str, Any], user: User) -> None:
    """Refuse (400) assigning or activating a token for ``user`` when the method is disabled,
    the user is in no included group, or the user is in an excluded group."""
    groups = {g.lower() for g in user.groups}
    if policy.get("state") != "enabled":
        raise _refused("the hardware OATH method is disabled in the authentication methods policy")
    if _hits(policy.get("excludeTargets"), groups):
        raise _refused(f"user '{user.id}' is in a group the hardware OATH policy excludes")
    included = policy.get("includeTargets") or [_ALL_USERS_TARGET]  # empty: saved before 2026-12
    if not _hits(included, groups):
        raise _refused(f"user '{user.id}' is in no group the hardware OATH policy includes")


def _refused(why: str) -> GraphError:
    return bad_request(f"{REFUSAL} ({why})")
