"""A user's methods as the legacy clean-up and the five-method cap need them.

Why: a user's hardware method and its inventory device are two objects whose ids may differ
(the 2026-12 reading of Microsoft's example), so the clean-up of a legacy CSV copy must remove
the *method* id from the user and then delete the *device* id; :class:`UserMethod` keeps both.
The cap counts hardware tokens and authenticator apps together (Learn), which only the full
method list (``/authentication/methods``) shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from oathdesk.graph.models import Device

MAX_OATH_METHODS = 5  # hardware tokens and authenticator apps together, per user (Learn)
HARDWARE_TYPE = "#microsoft.graph.hardwareOathAuthenticationMethod"
CAPPED_TYPES = frozenset(
    {
        HARDWARE_TYPE,
        "#microsoft.graph.softwareOathAuthenticationMethod",
        "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
    }
)


@dataclass(frozen=True)
class UserMethod:
    """One hardware method of a user: its own id and the device it points to."""

    id: str
    device: Device

    @classmethod
    def from_graph(cls, raw: Mapping[str, Any]) -> UserMethod:
        inner = raw.get("device")
        method_id = str(raw.get("id") or "")
        # without an expanded device only the method is known; Graph's examples use one id
        device = Device.from_graph(inner) if isinstance(inner, dict) else Device(method_id, "")
        return cls(method_id, device)


def capped_count(methods: Iterable[Mapping[str, Any]]) -> int:
    """How many entries of a user's full method list count towards the five-method cap."""
    return sum(1 for m in methods if str(m.get("@odata.type", "")) in CAPPED_TYPES)
