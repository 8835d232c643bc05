"""Which token shows this code? For the agent holding a token whose serial has worn off.

Why: the OTP engine's ``CodeIndex`` answers it without computing every token's code per
question; this use case feeds it the inventory's live tokens (seeds opened in memory only, each
with its drift) and returns serials, states and holders, never a seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oathdesk.domain import UsageError
from oathdesk.otp import CodeIndex, OtpKey, sign_in_window
from oathdesk.service.context import Inventory
from oathdesk.store import TokenFilter, TokenState

LIVE = [s for s in TokenState if s is not TokenState.RETIRED]


def identify(
    inv: Inventory, codes: Sequence[str], *, window: int | None = None
) -> list[dict[str, Any]]:
    """Tokens showing ``codes`` now (one code, or two consecutive codes for a sure answer)."""
    codes = [c.strip() for c in codes]
    if not 1 <= len(codes) <= 2:
        raise UsageError("Give one code, or two consecutive codes from the same token.")
    at = inv.clock.now()
    entries = []
    states: dict[str, dict[str, Any]] = {}
    with inv.uow(write=False) as uow:
        cursor: str | None = None
        while True:
            page = uow.tokens.list(
                TokenFilter(states=LIVE, has_seed=True), limit=1000, cursor=cursor
            )
            for token in page.items:
                record = uow.tokens.seed_record(token, inv.sealer)
                entries.append((token.serial, OtpKey.of(record), uow.tokens.otp_state(token)))
                states[token.serial] = {"state": token.state.value, "user_upn": token.user_upn}
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    index = CodeIndex(entries, at=at, window=sign_in_window(30) if window is None else window)
    return [
        {"serial": c.serial, "offset": c.offset, **states[c.serial]}
        for c in index.identify(codes, at)
    ]
