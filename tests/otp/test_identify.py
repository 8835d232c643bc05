"""The identify index: agrees with brute force, narrows with a second code, refreshes by step."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oathdesk.domain import HashAlgorithm, OtpError, OtpKind, Secret, SeedRecord
from oathdesk.otp import Candidate, CodeIndex, OtpKey, OtpState, hotp, time_step

AT = 1_700_000_000
rng = random.Random(4226)


def make_records(count: int) -> list[SeedRecord]:
    """A mixed fleet: mostly 30 s SHA-1 6-digit, some 60 s, 8-digit, SHA-256 and HOTP tokens."""
    records = []
    for n in range(count):
        records.append(
            SeedRecord(
                serial=f"{n:08d}",
                secret=Secret(rng.randbytes(20 if n % 5 else 32)),
                kind=OtpKind.HOTP if n % 50 == 7 else OtpKind.TOTP,
                period=60 if n % 7 == 3 else 30,
                digits=8 if n % 11 == 5 else 6,
                algorithm=HashAlgorithm.SHA256 if n % 5 == 0 else HashAlgorithm.SHA1,
                counter=n % 3,
            )
        )
    return records


RECORDS = make_records(3000)
INDEX = CodeIndex.of_records(RECORDS, at=AT)


def brute_force(code: str, at: float, window: int = 1, lookahead: int = 10) -> set[str]:
    hits = set()
    for r in RECORDS:
        if r.digits != len(code):
            continue
        if r.kind is OtpKind.HOTP:
            counters = range(r.counter, r.counter + lookahead + 1)
        else:
            now = time_step(at, period=r.period)
            counters = range(now - window, now + window + 1)
        key = r.secret.reveal()
        if any(hotp(key, c, digits=r.digits, algorithm=r.algorithm) == code for c in counters):
            hits.add(r.serial)
    return hits


@settings(max_examples=15)
@given(st.integers(min_value=0, max_value=len(RECORDS) - 1), st.integers(0, 600))
def test_one_code_lookup_matches_brute_force(which: int, later: int) -> None:
    at = AT + later
    record = RECORDS[which]
    key = OtpKey.of(record)
    code = key.code(record.counter) if record.kind is OtpKind.HOTP else key.code_at(at)
    found = INDEX.lookup(code, at)
    assert {c.serial for c in found} == brute_force(code, at)
    mine = next(c for c in found if c.serial == record.serial)
    assert mine.offset == 0


def test_two_codes_narrow_a_shared_code_to_one_token() -> None:
    # find two 30 s 6-digit SHA-1 tokens that show the same code at our current step
    now = time_step(AT)
    by_code: dict[str, list[SeedRecord]] = {}
    for r in RECORDS:
        if r.kind is OtpKind.TOTP and r.period == 30 and r.digits == 6:
            by_code.setdefault(OtpKey.of(r).code(now), []).append(r)
    shared = next(group for group in by_code.values() if len(group) >= 2)
    code = OtpKey.of(shared[0]).code(now)
    one = {c.serial for c in INDEX.identify([code], AT)}
    assert {r.serial for r in shared} <= one
    for record in shared:
        following = OtpKey.of(record).code(now + 1)
        two = INDEX.identify([code, following], AT)
        assert two == [Candidate(record.serial, now + 1, 1)]


def test_previous_and_current_code() -> None:
    record = next(r for r in RECORDS if r.kind is OtpKind.TOTP and r.period == 30)
    key, now = OtpKey.of(record), time_step(AT)
    assert INDEX.identify([key.code(now - 1), key.code(now)], AT) == [
        Candidate(record.serial, now, 0)
    ]


def test_advancing_one_step_computes_one_table_per_group_and_forgets_old_codes() -> None:
    records = make_records(400)
    index = CodeIndex.of_records(records, at=AT)
    totp = [r for r in records if r.kind is OtpKind.TOTP]
    totp_30 = [r for r in totp if r.period == 30]
    old = OtpKey.of(totp_30[0]).code(time_step(AT) - 1)
    before = index.hmacs
    later = time_step(AT) * 30 + 30  # the next 30 s step; 60 s tokens move every other time
    moved_60 = time_step(later, period=60) != time_step(AT, period=60)
    made = index.advance(later)
    assert made == 2 + 2 * moved_60  # one table per (period, digits) group that moved
    assert index.hmacs - before == len(totp_30) + moved_60 * (len(totp) - len(totp_30))
    assert index.advance(later + 1) == 0  # same step: nothing to compute
    assert totp_30[0].serial not in {c.serial for c in index.lookup(old, later + 1)}
    before = index.hmacs
    assert index.advance(later + 30 * 100) == 4 * 3  # a long jump rebuilds every table
    assert index.hmacs - before == 3 * len(totp)


def test_a_token_with_recorded_drift_is_found_at_its_own_step() -> None:
    secret = Secret(b"12345678901234567890")
    key = OtpKey(secret)
    now = time_step(AT)
    index = CodeIndex([("DRIFTER", key, OtpState(last_step=None, drift=5))], at=AT)
    assert index.lookup(key.code(now + 5), AT) == [Candidate("DRIFTER", now + 5, 5)]
    shown_now = key.code(now)  # the token is 5 steps ahead: our own step is outside its window
    coincides = shown_now in {key.code(now + k) for k in (4, 5, 6)}
    assert (index.lookup(shown_now, AT) == []) is not coincides


def test_hotp_tokens_are_found_in_their_lookahead() -> None:
    record = SeedRecord("H", Secret(b"12345678901234567890"), kind=OtpKind.HOTP, counter=2)
    index = CodeIndex.of_records([record], at=AT, hotp_lookahead=3)
    assert index.lookup("359152", AT) == [Candidate("H", 2, 0)]  # RFC 4226 counter 2
    assert index.lookup("338314", AT) == [Candidate("H", 4, 2)]  # counter 4: two presses later
    assert index.lookup("254676", AT) == [Candidate("H", 5, 3)]
    assert index.lookup("287922", AT) == []  # counter 6 is past the lookahead
    assert index.identify(["338314", "254676"], AT) == [Candidate("H", 5, 3)]


@pytest.mark.parametrize("code", ["12345", "123456789", "12a456", "", "١٢٣٤٥٦"])
def test_malformed_codes_are_refused(code: str) -> None:
    with pytest.raises(OtpError) as caught:
        INDEX.lookup(code, AT)
    assert caught.value.code == "otp.malformed_code"


def test_identify_takes_one_or_two_codes() -> None:
    with pytest.raises(OtpError) as caught:
        INDEX.identify([], AT)
    assert caught.value.code == "otp.bad_codes"
    assert "tokens" in repr(INDEX) and len(INDEX) == len(RECORDS)
