"""A Temporary Access Pass for a user whose token was replaced, shown once and kept nowhere.

Why: a user who lost a token cannot sign in until the replacement reaches them; Entra's
Temporary Access Pass bridges that gap. The pass is a password: it goes from Graph's answer to
the one screen (or the one CLI line) that shows it, as a :class:`~oathdesk.domain.Secret`, and
never into the database, a log line, an error or an API answer. The audit records that a pass
was issued, to whom, for how long and until when, never the pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from oathdesk.domain import Secret, UsageError
from oathdesk.service.context import Inventory

MIN_MINUTES, MAX_MINUTES, DEFAULT_MINUTES = 10, 43_200, 60
ISSUED = "user.tap_issued"


@dataclass(frozen=True)
class TapRequest:
    """The help desk's choice: how long the pass lives, and whether one sign-in spends it."""

    minutes: int = DEFAULT_MINUTES
    one_time: bool = True

    def check(self) -> TapRequest:
        """Refuse, before anything changes, a lifetime Entra's policy can never allow."""
        if not MIN_MINUTES <= self.minutes <= MAX_MINUTES:
            raise UsageError(
                f"A Temporary Access Pass lives {MIN_MINUTES} to {MAX_MINUTES:,} minutes (30 "
                f"days), not {self.minutes}.",
                code="usage.tap_lifetime",
                details={"minutes": self.minutes},
            )
        return self


@dataclass
class IssuedPass:
    """A pass just issued: its facts, and the pass, which only :meth:`reveal` shows."""

    user: str
    user_id: str
    minutes: int
    one_time: bool
    starts: str
    expires: str
    secret: Secret = field(repr=False)

    def facts(self) -> dict[str, Any]:
        """Everything but the pass (for JSON answers and the audit)."""
        return {
            "user": self.user,
            "user_id": self.user_id,
            "lifetime_minutes": self.minutes,
            "one_time": self.one_time,
            "starts": self.starts,
            "expires": self.expires,
        }

    def reveal(self) -> str:
        return self.secret.reveal().decode()


def _when(text: str, fallback: datetime) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return fallback


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def issue_tap(
    inv: Inventory,
    user_id: str,
    user: str,
    request: TapRequest,
    *,
    actor: str,
    reason: str,
    serial: str | None = None,
) -> IssuedPass:
    """Ask Entra for a pass for ``user_id`` (replacing any earlier one, as Entra keeps one per
    user) and audit ``user.tap_issued`` with its lifetime and expiry, never the pass."""
    request.check()
    issued = inv.entra().issue_tap(
        user_id, lifetime_minutes=request.minutes, usable_once=request.one_time
    )
    start = _when(issued.info.start, inv.now())
    minutes = issued.info.lifetime_minutes or request.minutes
    result = IssuedPass(
        user,
        user_id,
        minutes,
        issued.info.usable_once,
        _iso(start),
        _iso(start + timedelta(minutes=minutes)),
        issued.secret,
    )
    with inv.uow() as uow:
        uow.audit.append(
            ISSUED,
            actor=actor,
            subject=f"user:{user}",
            reason=reason,
            details={**result.facts(), "tap_id": issued.info.id, "replaced_token": serial},
            tenant=inv.tenant,
        )
    return result
