"""Temporary Access Passes (Graph ``temporaryAccessPassMethods``): issue one, list, delete.

Why a module of its own: a pass is a password, so the one answer that holds it (the create's)
is turned into a :class:`~oathdesk.domain.Secret` at once, and every other shape here carries
only its facts (lifetime, start, usability). Graph keeps one pass per user and shows the pass
only on creation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from oathdesk.domain import Secret
from oathdesk.graph.errors import GraphRequestError
from oathdesk.graph.session import GraphSession


def _path(user: str) -> str:
    who = "me" if user.lower() == "me" else f"users/{quote(user, safe='@')}"
    return f"{who}/authentication/temporaryAccessPassMethods"


@dataclass(frozen=True)
class TapInfo:
    """A pass's facts, never the pass."""

    id: str
    created: str
    start: str
    lifetime_minutes: int
    usable_once: bool
    usable: bool
    reason: str

    @classmethod
    def from_graph(cls, raw: dict[str, Any]) -> TapInfo:
        minutes = raw.get("lifetimeInMinutes")
        return cls(
            id=str(raw.get("id") or ""),
            created=str(raw.get("createdDateTime") or ""),
            start=str(raw.get("startDateTime") or raw.get("createdDateTime") or ""),
            lifetime_minutes=minutes if isinstance(minutes, int) else 0,
            usable_once=bool(raw.get("isUsableOnce")),
            usable=bool(raw.get("isUsable")),
            reason=str(raw.get("methodUsabilityReason") or ""),
        )


@dataclass(frozen=True)
class IssuedTap:
    """A pass just issued: its facts, and the pass itself as a Secret (show it once, keep it
    nowhere)."""

    info: TapInfo
    secret: Secret


def issue_tap(
    session: GraphSession,
    user: str,
    *,
    lifetime_minutes: int,
    usable_once: bool,
    start: str | None = None,
) -> IssuedTap:
    body: dict[str, Any] = {"lifetimeInMinutes": lifetime_minutes, "isUsableOnce": usable_once}
    if start:
        body["startDateTime"] = start
    data = session.json(
        "POST", _path(user), what=f"issue a Temporary Access Pass to {user}", body=body
    )
    text = data.pop("temporaryAccessPass", None)
    if not isinstance(text, str) or not text:
        raise GraphRequestError(
            "Entra's answer to a Temporary Access Pass request holds no pass.",
            code="graph.request.bad_reply",
        )
    return IssuedTap(TapInfo.from_graph(data), Secret(text.encode()))


def list_taps(session: GraphSession, user: str) -> list[TapInfo]:
    what = f"list {user}'s Temporary Access Pass"
    return [TapInfo.from_graph(x) for x in session.pages(_path(user), what=what)]


def delete_tap(session: GraphSession, user: str, tap_id: str) -> None:
    session.request(
        "DELETE", f"{_path(user)}/{tap_id}", what=f"delete {user}'s Temporary Access Pass"
    )
