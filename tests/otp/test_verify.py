"""Verification: windows, replay refusal, drift that follows a clock, and two-code resync."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from oathdesk.domain import HashAlgorithm, OtpError, OtpKind, Secret, SeedRecord
from oathdesk.otp import (
    OtpKey,
    OtpSpec,
    OtpState,
    Outcome,
    activation_window,
    match_totp,
    resync,
    sign_in_window,
    time_step,
    totp,
    verify,
)

keys = st.binary(min_size=10, max_size=64)
times = st.integers(min_value=10**9, max_value=4 * 10**9)
periods = st.sampled_from([30, 60])
digit_counts = st.sampled_from([6, 8])
algorithms = st.sampled_from(list(HashAlgorithm))


@given(
    keys,
    times,
    periods,
    digit_counts,
    algorithms,
    st.integers(min_value=0, max_value=4),
    st.integers(min_value=-8, max_value=8),
)
def test_code_verifies_inside_the_window_and_not_outside(
    secret: bytes,
    at: int,
    period: int,
    digits: int,
    algorithm: HashAlgorithm,
    window: int,
    shift: int,
) -> None:
    key = OtpKey(secret, OtpSpec(digits=digits, algorithm=algorithm, period=period))
    made_at = at + shift * period  # the token's clock is `shift` steps away from ours
    code = totp(secret, made_at, period=period, digits=digits, algorithm=algorithm)
    ours = time_step(at, period=period)
    result = verify(key, code, at=at, window=window)
    in_window = {ours + k for k in range(-window, window + 1)}
    if abs(shift) <= window:
        assert result.accepted
        assert key.code(result.step or 0) == code
        assert result.offset == (result.step or 0) - ours
        assert result.state == OtpState(result.step, result.offset or 0)
    else:  # accepted only when some step inside the window really shows the same code
        colliding = {s for s in in_window if key.code(s) == code}
        assert result.accepted == bool(colliding)
        if not colliding:
            assert result.outcome is Outcome.NO_MATCH and result.step is None
    contract = match_totp(
        secret, code, at, period=period, digits=digits, algorithm=algorithm, window=window
    )
    assert contract == result.step


@given(keys, times, st.integers(min_value=0, max_value=3))
def test_a_replayed_code_is_refused(secret: bytes, at: int, back: int) -> None:
    key = OtpKey(secret)
    ours = time_step(at)
    # Six digits repeat by chance: when a step after the accepted one shows the same code as
    # one at or before it, a later step may rightly accept it. Keep to keys where none does.
    assume(len({key.code(s) for s in range(ours - 3, ours + 5)}) == 8)
    first = verify(key, totp(secret, at), at=at)
    assert first.accepted and first.step == time_step(at)
    again = verify(key, totp(secret, at), at=at + 5, state=first.state)
    assert not again.accepted
    assert again.outcome is Outcome.REPLAYED
    assert bool(first) and not bool(again)  # `if verify(...)` means accepted, nothing else
    assert again.state == first.state  # a refusal never changes what is stored
    older = totp(secret, at - back * 30)  # codes from before the accepted one are refused too
    assert not verify(key, older, at=at, window=3, state=first.state).accepted
    assert match_totp(secret, totp(secret, at), at, after_step=ours) is None


def test_the_next_code_after_an_accepted_one_is_accepted() -> None:
    secret = b"12345678901234567890"
    key = OtpKey(secret)
    state = verify(key, totp(secret, 1_700_000_000), at=1_700_000_000).state
    later = verify(key, totp(secret, 1_700_000_030), at=1_700_000_030, state=state)
    assert later.accepted and later.step == time_step(1_700_000_030)


def test_drift_is_recorded_and_the_window_follows_it() -> None:
    secret = b"12345678901234567890"
    key = OtpKey(secret)
    at, state = 1_700_000_000, OtpState()
    # the token's clock runs fast: +1 step now, then +2 and +3 steps over the following weeks
    for week, ahead in enumerate((1, 2, 3)):
        now = at + week * 7 * 86400
        result = verify(key, totp(secret, now + ahead * 30), at=now, state=state, window=1)
        assert result.accepted and result.offset == ahead
        state = result.state
        assert state.drift == ahead
    # without the recorded drift the +3 token is outside a ±1 window
    now = at + 21 * 86400
    assert not verify(key, totp(secret, now + 90), at=now, window=1).accepted
    assert verify(key, totp(secret, now + 90), at=now, window=1, state=state).accepted


def test_asymmetric_window() -> None:
    secret = b"12345678901234567890"
    key = OtpKey(secret)
    at = 1_700_000_000
    assert verify(key, totp(secret, at - 60), at=at, window=2, ahead=0).accepted
    assert not verify(key, totp(secret, at + 30), at=at, window=2, ahead=0).accepted


def test_nearest_step_is_preferred() -> None:
    # a code that two steps in the window show: the nearer step wins (found by search)
    secret = b"12345678901234567890"
    key = OtpKey(secret, OtpSpec(digits=6))
    seen: dict[str, int] = {}
    pair = None
    for step in range(2_000_000):
        code = key.code(step)
        if code in seen and step - seen[code] <= 1500:
            pair = (seen[code], step)
            break
        seen[code] = step
    assert pair is not None
    low, high = pair
    ours_near_high = high * 30
    assert match_totp(secret, key.code(high), ours_near_high, window=high - low) == high


@given(
    keys,
    times,
    periods,
    st.integers(min_value=-2879, max_value=2880),  # both codes inside ±2880 steps
)
def test_resync_finds_a_known_offset(secret: bytes, at: int, period: int, offset: int) -> None:
    key = OtpKey(secret, OtpSpec(period=period))
    ours = time_step(at, period=period)
    first, second = key.code(ours + offset - 1), key.code(ours + offset)
    result = resync(key, first, second, at=at)
    assert result.accepted
    assert result.offset == offset and result.step == ours + offset
    assert result.state.drift == offset
    follow = verify(key, key.code(ours + offset + 1), at=at + period, state=result.state, window=1)
    assert follow.accepted and follow.offset == offset


def test_resync_refuses_codes_out_of_order_or_outside_the_window() -> None:
    secret = b"12345678901234567890"
    key = OtpKey(secret)
    ours = time_step(1_700_000_000)
    swapped = resync(key, key.code(ours), key.code(ours - 1), at=1_700_000_000, window=10)
    assert swapped.outcome is Outcome.NO_MATCH
    far = resync(key, key.code(ours + 20), key.code(ours + 21), at=1_700_000_000, window=10)
    assert far.outcome is Outcome.NO_MATCH
    used = resync(
        key, key.code(ours), key.code(ours + 1), at=1_700_000_000, state=OtpState(ours + 1)
    )
    assert used.outcome is Outcome.REPLAYED


def test_entra_windows() -> None:
    assert activation_window(30) * 30 == 86_400  # ±1 day
    assert activation_window(60) * 60 == 2 * 86_400  # ±2 days
    assert sign_in_window(30) * 30 == 60  # ±1 minute
    assert sign_in_window(60) * 60 == 120  # ±2 minutes


def test_hotp_lookahead_replay_and_resync() -> None:
    secret = Secret(b"12345678901234567890")
    record = SeedRecord("H1", secret, kind=OtpKind.HOTP, counter=3)
    key, state = OtpKey.of(record), OtpState.of(record)
    assert state.next_counter == 3
    rfc = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583"]
    assert verify(key, rfc[2], state=state).outcome is Outcome.REPLAYED  # the last one used
    assert verify(key, rfc[1], state=state).outcome is Outcome.NO_MATCH  # older: no match
    first = verify(key, rfc[5], state=state, window=2)  # two presses wasted
    assert first.accepted and first.step == 5 and first.offset == 2
    assert verify(key, rfc[5], state=first.state).outcome is Outcome.REPLAYED
    assert verify(key, rfc[6], state=first.state).accepted
    assert not verify(key, rfc[7], state=first.state, window=0).accepted
    synced = resync(key, rfc[6], rfc[7], state=first.state)
    assert synced.accepted and synced.step == 7 and synced.state.next_counter == 8


@pytest.mark.parametrize("code", ["12345", "1234567", "12345a", " 12345", "１２３４５６", ""])
def test_malformed_codes_are_reported_not_raised(code: str) -> None:
    key = OtpKey(b"12345678901234567890")
    assert verify(key, code, at=1_700_000_000).outcome is Outcome.MALFORMED
    assert resync(key, code, "123456", at=1_700_000_000).outcome is Outcome.MALFORMED
    assert match_totp(b"12345678901234567890", code, 1_700_000_000) is None


def test_bad_windows_and_missing_time() -> None:
    key = OtpKey(b"12345678901234567890")
    with pytest.raises(OtpError) as caught:
        verify(key, "123456", at=1_700_000_000, window=-1)
    assert caught.value.code == "otp.bad_window"
    with pytest.raises(OtpError) as missing:
        verify(key, "123456")
    assert missing.value.code == "otp.time_required"


def test_verification_to_dict() -> None:
    key = OtpKey(b"12345678901234567890")
    result = verify(key, key.code_at(59), at=59)
    assert result.to_dict() == {
        "outcome": "accepted",
        "step": 1,
        "offset": 0,
        "state": {"last_step": 1, "drift": 0},
    }


def test_a_used_code_is_a_replay_even_if_a_farther_step_shows_it_again() -> None:
    """Entra's ±1 day activation window spans 5,761 steps, so six-digit codes recur inside it;
    the nearest match decides: the code the person already used is refused, not re-accepted."""
    key = OtpKey(b"recurring-code-test-key-20b")
    first_seen: dict[str, int] = {}
    pair = None
    for step in range(1_000_000, 1_005_761):
        code = key.code(step)
        if code in first_seen:
            pair = (first_seen[code], step)
            break
        first_seen[code] = step
    assert pair is not None, "six-digit codes must recur within 5,761 steps"
    used, later = pair
    at = used * 30 + 1
    # without state the code is accepted at the nearest step that shows it
    assert verify(key, key.code(used), at=at, window=later - used).step == used
    # once that step is used, the same code is a replay, although `later` shows it too
    again = verify(key, key.code(used), at=at, state=OtpState(last_step=used), window=later - used)
    assert again.outcome is Outcome.REPLAYED and not again
