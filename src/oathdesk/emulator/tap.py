"""Temporary Access Passes: one per user, a lifetime inside the policy's bounds, the pass itself
shown only in the answer to its creation.

Why: when a user's token is lost the help desk issues a pass so the user can sign in until the
replacement arrives. Graph's ``temporaryAccessPassAuthenticationMethod``: ``lifetimeInMinutes``
10 to 43,200 (default 60 here, the default policy's), ``isUsableOnce``, an optional
``startDateTime``; ``isUsable`` and ``methodUsabilityReason`` (``EnabledByPolicy``,
``NotYetValid``, ``Expired``, ``OneTimeUsed``) follow the emulator's clock. A user has one pass:
creating another replaces it (the beta reference's wording). Passes live in memory only; a
saved state never holds one.
"""

from __future__ import annotations

import secrets
import string
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from oathdesk.emulator.errors import bad_request
from oathdesk.emulator.model import iso

TAP_TYPE = "#microsoft.graph.temporaryAccessPassAuthenticationMethod"
MIN_MINUTES, MAX_MINUTES, DEFAULT_MINUTES = 10, 43_200, 60
LENGTH = 8  # the policy's default length
_ALPHABET = string.ascii_letters + string.digits + "!@#$%&*+=?"


@dataclass
class Tap:
    id: str
    secret: str = field(repr=False)
    created: float
    start: float
    lifetime_minutes: int
    usable_once: bool
    used: bool = False

    def reason(self, now: float) -> str:
        if now < self.start:
            return "NotYetValid"
        if now >= self.start + self.lifetime_minutes * 60:
            return "Expired"
        if self.usable_once and self.used:
            return "OneTimeUsed"
        return "EnabledByPolicy"

    def to_graph(self, now: float, *, with_pass: bool = False) -> dict[str, Any]:
        reason = self.reason(now)
        return {
            "@odata.type": TAP_TYPE,
            "id": self.id,
            "temporaryAccessPass": self.secret if with_pass else None,
            "createdDateTime": iso(self.created),
            "startDateTime": iso(self.start),
            "lifetimeInMinutes": self.lifetime_minutes,
            "isUsableOnce": self.usable_once,
            "isUsable": reason == "EnabledByPolicy",
            "methodUsabilityReason": reason,
        }


def _start(value: Any, now: float) -> float:
    if value is None:
        return now
    if not isinstance(value, str):
        raise bad_request("startDateTime must be an ISO 8601 date and time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request("startDateTime must be an ISO 8601 date and time") from None
    if parsed.tzinfo is None:
        raise bad_request("startDateTime needs a time zone (for example Z)")
    return max(parsed.timestamp(), now)


def new_tap(body: Any, now: float) -> Tap:
    """A pass from a create body, refused with 400 when a field breaks the policy."""
    if not isinstance(body, dict):
        raise bad_request("send a temporaryAccessPassAuthenticationMethod object")
    unknown = set(body) - {"@odata.type", "startDateTime", "lifetimeInMinutes", "isUsableOnce"}
    if unknown:
        raise bad_request(f"Property '{sorted(unknown)[0]}' cannot be set on a new pass")
    minutes = body.get("lifetimeInMinutes", DEFAULT_MINUTES)
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise bad_request("lifetimeInMinutes must be a whole number of minutes")
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise bad_request(
            f"lifetimeInMinutes must be between {MIN_MINUTES} and {MAX_MINUTES} "
            "(the Temporary Access Pass policy's bounds)"
        )
    once = body.get("isUsableOnce", False)
    if not isinstance(once, bool):
        raise bad_request("isUsableOnce must be true or false")
    secret = "".join(secrets.choice(_ALPHABET) for _ in range(LENGTH))
    return Tap(
        str(uuid.uuid4()), secret, now, _start(body.get("startDateTime"), now), minutes, once
    )


def use(tap: Tap | None, offered: Any, now: float) -> bool:
    """A sign-in with a pass: true when it is the user's pass and usable now (a one-time pass
    is spent by it)."""
    if tap is None or not isinstance(offered, str) or tap.reason(now) != "EnabledByPolicy":
        return False
    if not secrets.compare_digest(tap.secret.encode(), offered.encode()):
        return False
    tap.used = True
    return True
