"""Checking codes against a token's state: windows, drift, replay refusal and resync.

Why: a code is only worth checking together with what was accepted before. The state a store
keeps per token is small (the last accepted step or counter, and the drift in steps); every
function takes the time as an argument, returns the state to store next and mutates nothing;
comparisons are constant-time and codes stay fixed-width strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from oathdesk.domain import HashAlgorithm, OtpError, OtpKind, Secret, SeedRecord
from oathdesk.otp.core import (
    MAX_COUNTER,
    OtpKey,
    OtpSpec,
    check_window,
    time_step,
    well_formed,
)

DEFAULT_TOTP_WINDOW = 1  # steps either side of the expected step
DEFAULT_HOTP_LOOKAHEAD = 10  # counters after the next expected one (button presses not used)
HOTP_RESYNC_WINDOW = 1000  # counters searched by a two-code HOTP resync


def activation_window(period: int) -> int:
    """Entra's activation window in steps: ±1 day for 30 s tokens, ±2 days for 60 s tokens."""
    seconds = 86_400 if period <= 30 else 172_800
    return max(1, seconds // period)


def sign_in_window(period: int) -> int:
    """Entra's sign-in window in steps: ±1 minute for 30 s tokens, ±2 minutes for 60 s tokens."""
    seconds = 60 if period <= 30 else 120
    return max(1, seconds // period)


def claim_window(period: int) -> int:
    """The window for one code proving possession at a distance (self-service): Entra's sign-in
    window around the token's known drift. A day-wide window accepts about 5,742 distinct
    6-digit codes, one guess in 174; this one at most 5 (docs/security.md)."""
    return sign_in_window(period)


@dataclass(frozen=True, slots=True)
class OtpState:
    """What to remember per token between checks: the last accepted step and the drift."""

    last_step: int | None = None  # last accepted time step (TOTP) or counter (HOTP)
    drift: int = 0  # TOTP: the token's step minus ours at the last acceptance

    @classmethod
    def of(cls, record: SeedRecord) -> OtpState:
        """A fresh state; an HOTP record's ``counter`` is the next counter the token will use."""
        if record.kind is OtpKind.HOTP and record.counter > 0:
            return cls(last_step=record.counter - 1)
        return cls()

    @property
    def next_counter(self) -> int:
        return 0 if self.last_step is None else self.last_step + 1

    def to_dict(self) -> dict[str, Any]:
        return {"last_step": self.last_step, "drift": self.drift}


_FRESH = OtpState()
_HOTP = OtpKind.HOTP  # enum attribute reads cost about 0.2 µs each in Python 3.11


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    NO_MATCH = "no_match"
    REPLAYED = "replayed"  # the code is right but for a step or counter already used
    MALFORMED = "malformed"  # not exactly `digits` ASCII digits


_ACCEPTED, _NO_MATCH = Outcome.ACCEPTED, Outcome.NO_MATCH
_REPLAYED, _MALFORMED = Outcome.REPLAYED, Outcome.MALFORMED


@dataclass(slots=True)
class Verification:
    """The answer to one check. ``state`` is what to store next: the prior state unless the
    code was accepted. ``bool(result)`` is ``result.accepted``. A value: do not modify it (it is
    not frozen only because frozen dataclasses cost more to make than the HMAC they report on).
    """

    outcome: Outcome
    prior: OtpState
    step: int | None = None  # matched time step (TOTP) or counter (HOTP)
    offset: int | None = None  # TOTP: matched step minus ours (the new drift); HOTP: skipped
    totp: bool = True

    @property
    def accepted(self) -> bool:
        return self.outcome is _ACCEPTED

    def __bool__(self) -> bool:
        return self.outcome is _ACCEPTED

    @property
    def state(self) -> OtpState:
        if self.step is None or self.offset is None:
            return self.prior
        return OtpState(self.step, self.offset if self.totp else self.prior.drift)

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "step": self.step,
            "offset": self.offset,
            "state": self.state.to_dict(),
        }


@lru_cache(maxsize=64)
def _nearest_first(behind: int, ahead: int) -> tuple[int, ...]:
    """Offsets 0, -1, +1, -2, +2 … limited to ``behind`` before and ``ahead`` after."""
    order = [0]
    for k in range(1, max(behind, ahead) + 1):
        if k <= behind:
            order.append(-k)
        if k <= ahead:
            order.append(k)
    return tuple(order)


_DEFAULT_OFFSETS = _nearest_first(DEFAULT_TOTP_WINDOW, DEFAULT_TOTP_WINDOW)


def _server_step(key: OtpKey, at: float | None) -> int:
    if at is None:
        raise OtpError("Checking a TOTP code needs the time (at=...)", code="otp.time_required")
    return key.spec.step(at)


def _answer(
    found: int | None, replayed: bool, state: OtpState, base: int, totp: bool
) -> Verification:
    if found is None:
        return Verification(Outcome.REPLAYED if replayed else Outcome.NO_MATCH, state, totp=totp)
    return Verification(Outcome.ACCEPTED, state, found, found - base, totp)


def verify(
    key: OtpKey,
    code: str,
    *,
    at: float | None = None,
    state: OtpState | None = None,
    window: int | None = None,
    ahead: int | None = None,
) -> Verification:
    """Check one code. TOTP: ``window`` steps before and ``ahead`` (default: the same) after the
    step the token should show, centred on our step plus the known drift, nearest first. HOTP:
    the next counter and ``window`` more (``ahead`` ignored). Steps or counters at or before the
    last accepted one are refused as replays. The accepted offset becomes the new drift."""
    spec = key.spec
    if state is None:
        state = _FRESH
    if spec.kind is _HOTP:
        return _verify_hotp(key, code, state, window)
    if window is None and ahead is None:
        offsets = _DEFAULT_OFFSETS
    else:
        behind = DEFAULT_TOTP_WINDOW if window is None else check_window(window)
        offsets = _nearest_first(behind, behind if ahead is None else check_window(ahead))
    if at is None:
        raise OtpError("Checking a TOTP code needs the time (at=...)", code="otp.time_required")
    try:  # spec.step, inlined: the period was checked when the spec was made
        ours = int((at - spec.t0) // spec.period)
    except (TypeError, ValueError, OverflowError):
        ours = -1
    if ours < 0 or at is True or at is False:
        ours = spec.step(at)  # raises the precise error
    if (
        type(code) is not str
        or len(code) != spec.digits
        or not code.isdigit()
        or not code.isascii()
    ):
        return Verification(_MALFORMED, state)
    center, last = ours + state.drift, state.last_step
    if last is None or center > last:  # the expected step first, then the rest of the window
        if key.shows(code, center):
            return Verification(_ACCEPTED, state, center, center - ours)
        offsets = offsets[1:]
    found, replayed = key.find(code, center, offsets, last)
    if found is None:
        return Verification(_REPLAYED if replayed else _NO_MATCH, state)
    return Verification(_ACCEPTED, state, found, found - ours)


def _verify_hotp(key: OtpKey, code: str, state: OtpState, window: int | None) -> Verification:
    """The next counter and ``window`` more; the last accepted counter is reported as a replay."""
    if not well_formed(code, key.spec.digits):
        return Verification(_MALFORMED, state, totp=False)
    lookahead = DEFAULT_HOTP_LOOKAHEAD if window is None else check_window(window)
    start = state.next_counter
    found, _ = key.find(code, start, range(lookahead + 1), None)
    last = state.last_step
    replayed = found is None and last is not None and key.matches(code, last)
    return _answer(found, replayed, state, start, False)


def _find_pair(
    key: OtpKey, first: str, second: str, center: int, offsets: Any, after: int | None
) -> tuple[int | None, bool]:
    """The step of ``second`` where ``first`` shows one step before it (nearest first)."""
    replayed = False
    for offset in offsets:
        step = center + offset
        if not 0 <= step < MAX_COUNTER or key.find(first, step, (0,), None)[0] is None:
            continue
        if key.find(second, step + 1, (0,), None)[0] is not None:
            if after is not None and step <= after:
                replayed = True
                continue
            return step + 1, replayed
    return None, replayed


def resync(
    key: OtpKey,
    first: str,
    second: str,
    *,
    at: float | None = None,
    state: OtpState | None = None,
    window: int | None = None,
) -> Verification:
    """Find a token's clock (or counter) from two consecutive codes in a wide window.

    TOTP: ``window`` defaults to Entra's activation window (±1 day for 30 s tokens, ±2 days for
    60 s tokens) and both codes must fall inside it; the result's ``step`` is the second code's
    step and ``offset`` the new drift. HOTP: counters from the next one up to ``window``
    (default 1000) further."""
    state = state or _FRESH
    digits = key.spec.digits
    if not (well_formed(first, digits) and well_formed(second, digits)):
        return Verification(Outcome.MALFORMED, state, totp=key.spec.kind is OtpKind.TOTP)
    if key.spec.kind is OtpKind.HOTP:
        span = check_window(HOTP_RESYNC_WINDOW if window is None else window)
        start = state.next_counter
        found, _ = _find_pair(key, first, second, start, range(span + 1), None)
        return _answer(found, False, state, start, False)
    span = check_window(activation_window(key.spec.period) if window is None else window)
    ours = _server_step(key, at)
    offsets = _nearest_first(span, max(span - 1, 0))  # the second code is inside the window too
    found, replayed = _find_pair(key, first, second, ours + state.drift, offsets, state.last_step)
    return _answer(found, replayed, state, ours, True)


def match_totp(
    secret: Secret | bytes,
    code: str,
    at: float,
    *,
    period: int = 30,
    t0: int = 0,
    digits: int = 6,
    algorithm: HashAlgorithm = HashAlgorithm.SHA1,
    window: int = 1,
    after_step: int | None = None,
) -> int | None:
    """The time step within ±``window`` of ``at`` (nearest first) whose code is ``code``,
    refusing steps at or before ``after_step``; None when nothing matches."""
    key = OtpKey(secret, OtpSpec(OtpKind.TOTP, digits, algorithm, period, t0))
    check_window(window)
    if not well_formed(code, digits):
        return None
    ours = time_step(at, period=period, t0=t0)
    return key.find(code, ours, _nearest_first(window, window), after_step)[0]
