"""A user's other authentication methods, modelled only as far as the five-method cap needs them.

Why: Entra caps a user at five OATH hardware tokens *and* authenticator apps combined (Learn's
hardware-OATH concept page), so a user holding three apps can take only two tokens. The emulator
knows these methods from the seed (``softwareMethods`` on a user) and shows them in
``GET /users/{id}/authentication/methods``; they cannot be added or removed through Graph here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from oathdesk.emulator.errors import bad_request

SOFTWARE_OATH = "softwareOath"
AUTHENTICATOR = "microsoftAuthenticator"
ODATA_TYPES = {
    SOFTWARE_OATH: "#microsoft.graph.softwareOathAuthenticationMethod",
    AUTHENTICATOR: "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
}
PASSWORD_TYPE = "#microsoft.graph.passwordAuthenticationMethod"
# Entra gives every user's password method this same well-known id.
PASSWORD_METHOD_ID = "28c10230-6103-485e-b985-444c60001490"


@dataclass
class SoftwareMethod:
    """A software OATH app or a Microsoft Authenticator registration (no secret is modelled)."""

    id: str
    kind: str  # SOFTWARE_OATH or AUTHENTICATOR
    display_name: str | None = None

    def to_graph(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"@odata.type": ODATA_TYPES[self.kind], "id": self.id}
        if self.kind == SOFTWARE_OATH:
            shown["secretKey"] = None  # never returned, as for hardware tokens
        else:
            shown |= {
                "displayName": self.display_name,
                "deviceTag": "SoftwareTokenActivated",
                "phoneAppVersion": None,
                "createdDateTime": None,
            }
        return shown

    def to_seed(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"id": self.id, "type": self.kind}
        if self.display_name is not None:
            entry["displayName"] = self.display_name
        return entry


def password_method() -> dict[str, Any]:
    """The password entry every user's method list starts with (the password is never shown)."""
    return {
        "@odata.type": PASSWORD_TYPE,
        "id": PASSWORD_METHOD_ID,
        "password": None,
        "createdDateTime": None,
    }


def parse_software(item: dict[str, Any], where: str) -> list[SoftwareMethod]:
    """A seed user's ``softwareMethods``: ``[{"type": "softwareOath" | "microsoftAuthenticator",
    "id"?, "displayName"?}]``; missing ids are generated."""
    raw = item.get("softwareMethods") or []
    if not isinstance(raw, list):
        raise bad_request(f"{where}: 'softwareMethods' must be a list of objects with 'type'")
    found: list[SoftwareMethod] = []
    for n, entry in enumerate(raw):
        at = f"{where}.softwareMethods[{n}]"
        if not isinstance(entry, dict) or entry.get("type") not in ODATA_TYPES:
            raise bad_request(f"{at}: 'type' must be one of {sorted(ODATA_TYPES)}")
        method_id = entry.get("id", str(uuid.uuid4()))
        name = entry.get("displayName")
        if not isinstance(method_id, str) or not method_id:
            raise bad_request(f"{at}: 'id' must be a non-empty string")
        if name is not None and not isinstance(name, str):
            raise bad_request(f"{at}: 'displayName' must be a string")
        found.append(SoftwareMethod(method_id, entry["type"], name))
    if len({m.id for m in found}) != len(found):
        raise bad_request(f"{where}: two softwareMethods share an id")
    return found
