"""The request states as the delivery pages and commands offer them (names in their order).

The tables themselves are the store's (``oathdesk.store.delivery_models``, migration
``0006_delivery``); the states and their allowed moves are ``oathdesk.store.RequestState``.
"""

from __future__ import annotations

from oathdesk.store import RequestState

STATES: tuple[str, ...] = tuple(state.value for state in RequestState)

__all__ = ["STATES", "RequestState"]
