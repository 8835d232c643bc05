"""How Graph lets callers name and read users, where it differs from "anything goes".

Why: ``assignTo`` on a create (A3/A4) takes the user's object id; paths accept a UPN too, and a
client that learnt that from the paths would send a UPN and fail only against real Entra. And
``User.ReadBasic.All`` shows only the basic profile of other users (the permissions reference:
displayName, givenName, id, mail, photo, securityIdentifier, surname, userPrincipalName), so a
client reading ``userType`` with it gets nothing back and must notice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from oathdesk.emulator.errors import GraphError, bad_request

# The basic profile this emulator models (it has no photo, names split or security id).
BASIC_FIELDS = frozenset(
    {"id", "displayName", "givenName", "surname", "mail", "userPrincipalName", "photo"}
)


def require_object_id(value: str) -> str:
    """``assignTo.id`` must be an object id; a user principal name is refused as Graph does."""
    if "@" in value:
        raise _not_an_object_id(value)
    return value


def _not_an_object_id(value: str) -> GraphError:
    return bad_request(
        f"Invalid object identifier '{value}'. assignTo takes the user's object id, "
        "not a user principal name"
    )


def basic(item: dict[str, Any], fields: Iterable[str] = BASIC_FIELDS) -> dict[str, Any]:
    """``item`` cut down to the basic profile (OData annotations kept)."""
    keep = set(fields)
    return {k: v for k, v in item.items() if k in keep or k.startswith("@")}
