"""The token lifecycle: the design's state names and the moves allowed between them.

Why: every lifecycle action in the service is a move in this table, and the store refuses a move
that is not in it with a typed conflict, so two racing actions cannot leave a token in a state the
design has no name for. ``retired`` is final.
"""

from __future__ import annotations

from enum import StrEnum


class TokenState(StrEnum):
    IN_STOCK = "in_stock"  # imported, not in Entra yet
    AVAILABLE = "available"  # in Entra's inventory, not assigned
    ASSIGNED = "assigned"
    ACTIVATED = "activated"
    FAILED_ACTIVATION = "failed_activation"
    DEACTIVATED = "deactivated"
    LOST = "lost"
    BROKEN = "broken"
    RETIRED = "retired"  # deleted from Entra; seed destroyed


_S = TokenState

TRANSITIONS: dict[TokenState, frozenset[TokenState]] = {
    _S.IN_STOCK: frozenset(
        {_S.AVAILABLE, _S.ASSIGNED, _S.ACTIVATED, _S.LOST, _S.BROKEN, _S.RETIRED}
    ),
    _S.AVAILABLE: frozenset(
        {_S.IN_STOCK, _S.ASSIGNED, _S.ACTIVATED, _S.LOST, _S.BROKEN, _S.RETIRED}
    ),
    _S.ASSIGNED: frozenset(
        {_S.AVAILABLE, _S.ACTIVATED, _S.FAILED_ACTIVATION, _S.LOST, _S.BROKEN, _S.RETIRED}
    ),
    _S.ACTIVATED: frozenset({_S.AVAILABLE, _S.DEACTIVATED, _S.LOST, _S.BROKEN, _S.RETIRED}),
    _S.FAILED_ACTIVATION: frozenset(
        {_S.AVAILABLE, _S.ASSIGNED, _S.ACTIVATED, _S.FAILED_ACTIVATION, _S.LOST, _S.BROKEN}
        | {_S.RETIRED}
    ),
    _S.DEACTIVATED: frozenset(
        {_S.AVAILABLE, _S.ASSIGNED, _S.ACTIVATED, _S.LOST, _S.BROKEN, _S.RETIRED}
    ),
    # found again: back to stock, or back to its holder in the state Entra holds it in
    _S.LOST: frozenset(
        {_S.IN_STOCK, _S.AVAILABLE, _S.ASSIGNED, _S.ACTIVATED, _S.FAILED_ACTIVATION}
        | {_S.DEACTIVATED, _S.RETIRED}
    ),
    _S.BROKEN: frozenset({_S.RETIRED}),
    _S.RETIRED: frozenset(),
}


def can_move(current: TokenState, target: TokenState) -> bool:
    return target in TRANSITIONS[current]
