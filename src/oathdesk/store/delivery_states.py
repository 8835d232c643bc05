"""A delivery request's life: the state names and the moves allowed between them.

Why: approval, mailing, confirmation and expiry run in separate transactions (and two reviewers
may act at once), so every state change is a move in this table and the store refuses any other
with a typed conflict; a request can never reach a state the delivery flow has no name for.
``rejected``, ``confirmed`` and ``expired`` are final.
"""

from __future__ import annotations

from enum import StrEnum


class RequestState(StrEnum):
    PENDING = "pending"  # waiting for the delivery team
    REJECTED = "rejected"
    APPROVED = "approved"  # files built and stored, mail not sent yet
    MAIL_FAILED = "mail_failed"  # the relay refused: approving again mails fresh links
    SENT = "sent"
    CONFIRMED = "confirmed"  # every file confirmed by the customer (and deleted)
    EXPIRED = "expired"  # every file gone, at least one by expiry


_R = RequestState

# A link can be confirmed (or expire) before the step that records the mail commits, and a relay
# can fail after it took the message: hence confirmed/expired from approved and mail_failed.
REQUEST_MOVES: dict[RequestState, frozenset[RequestState]] = {
    _R.PENDING: frozenset({_R.APPROVED, _R.REJECTED}),
    _R.APPROVED: frozenset({_R.SENT, _R.MAIL_FAILED, _R.CONFIRMED, _R.EXPIRED}),
    _R.MAIL_FAILED: frozenset({_R.SENT, _R.MAIL_FAILED, _R.CONFIRMED, _R.EXPIRED}),
    _R.SENT: frozenset({_R.CONFIRMED, _R.EXPIRED}),
    _R.REJECTED: frozenset(),
    _R.CONFIRMED: frozenset(),
    _R.EXPIRED: frozenset(),
}


def can_move_request(current: RequestState, target: RequestState) -> bool:
    return target in REQUEST_MOVES[current]
