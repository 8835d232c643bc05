"""Code computation: agreement with an independent implementation, width, and strict inputs."""

from __future__ import annotations

import pickle

import pytest
from cryptography.hazmat.primitives.hashes import SHA1, SHA256, SHA512
from cryptography.hazmat.primitives.twofactor.hotp import HOTP
from hypothesis import given
from hypothesis import strategies as st

from oathdesk.domain import HashAlgorithm, OtpError, OtpKind, Secret, SeedRecord
from oathdesk.otp import (
    OtpKey,
    OtpSpec,
    hotp,
    normalize_code,
    step_start,
    time_step,
    totp,
    well_formed,
)

ORACLE_HASH: dict[HashAlgorithm, type[SHA1 | SHA256 | SHA512]] = {
    HashAlgorithm.SHA1: SHA1,
    HashAlgorithm.SHA256: SHA256,
    HashAlgorithm.SHA512: SHA512,
}
keys = st.binary(min_size=1, max_size=200)  # over 128 bytes: longer than any HMAC block
counters = st.integers(min_value=0, max_value=2**64 - 1)
digit_counts = st.sampled_from([6, 7, 8])
algorithms = st.sampled_from(list(HashAlgorithm))


def oracle(key: bytes, counter: int, digits: int, algorithm: HashAlgorithm) -> str:
    """pyca/cryptography's HOTP: an implementation independent of ours."""
    made = HOTP(key, digits, ORACLE_HASH[algorithm](), enforce_key_length=False)
    return made.generate(counter).decode("ascii")


@given(keys, counters, digit_counts, algorithms)
def test_codes_agree_with_an_independent_implementation(
    key: bytes, counter: int, digits: int, algorithm: HashAlgorithm
) -> None:
    expected = oracle(key, counter, digits, algorithm)
    assert hotp(key, counter, digits=digits, algorithm=algorithm) == expected
    spec = OtpSpec(OtpKind.HOTP, digits, algorithm)
    assert OtpKey(Secret(key), spec).code(counter) == expected


@given(keys, counters, digit_counts, algorithms)
def test_width_and_leading_zeros_are_preserved(
    key: bytes, counter: int, digits: int, algorithm: HashAlgorithm
) -> None:
    code = hotp(key, counter, digits=digits, algorithm=algorithm)
    assert len(code) == digits
    assert code.isascii() and code.isdigit()
    assert code == f"{int(code):0{digits}d}"
    assert OtpKey(key, OtpSpec(digits=digits, algorithm=algorithm)).matches(code, counter)
    if code.startswith("0"):  # the integer form (django-otp's trap) must not pass
        assert not OtpKey(key, OtpSpec(digits=digits, algorithm=algorithm)).matches(
            str(int(code)), counter
        )


def test_a_leading_zero_code_found_by_search() -> None:
    key = b"12345678901234567890"
    counter = next(c for c in range(1000) if hotp(key, c).startswith("00"))
    code = hotp(key, counter)
    assert len(code) == 6 and code == oracle(key, counter, 6, HashAlgorithm.SHA1)


@given(
    st.integers(min_value=0, max_value=2**40),
    st.integers(min_value=1, max_value=600),
    st.integers(min_value=0, max_value=10**6),
)
def test_time_step_bounds(at: int, period: int, t0: int) -> None:
    at += t0
    step = time_step(at, period=period, t0=t0)
    assert step_start(step, period=period, t0=t0) <= at < step_start(step + 1, period=period, t0=t0)
    assert time_step(at + 0.999, period=period, t0=t0) in (step, step + 1)


def test_t0_shifts_the_steps() -> None:
    key = b"12345678901234567890"
    assert totp(key, 1000 + 59, t0=1000, digits=8) == "94287082"  # RFC step 1, moved by T0
    assert time_step(1000, t0=1000) == 0


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda: hotp(b"k", 0, digits=5), "otp.bad_digits"),
        (lambda: hotp(b"k", 0, digits=9), "otp.bad_digits"),
        (lambda: hotp(b"k", 0, digits=True), "otp.bad_digits"),
        (lambda: hotp(b"k", -1), "otp.bad_counter"),
        (lambda: hotp(b"k", 2**64), "otp.bad_counter"),
        (lambda: hotp(b"", 0), "otp.empty_secret"),
        (lambda: hotp(Secret(b""), 0), "otp.empty_secret"),
        (lambda: hotp("GEZDGNBV", 0), "otp.bad_secret"),  # type: ignore[arg-type]
        (lambda: hotp(b"k", 0, algorithm="md5"), "otp.bad_algorithm"),  # type: ignore[arg-type]
        (lambda: totp(b"k", 100, period=0), "otp.bad_period"),
        (lambda: totp(b"k", 100, period=-30), "otp.bad_period"),
        (lambda: totp(b"k", 100, t0=200), "otp.before_t0"),
        (lambda: totp(b"k", float("nan")), "otp.bad_time"),
        (lambda: totp(b"k", float("inf")), "otp.bad_time"),
        (lambda: OtpSpec(digits=4), "otp.bad_digits"),
        (lambda: OtpKey(b"k").code(-5), "otp.bad_counter"),
    ],
)
def test_impossible_parameters_raise_otp_error(call: object, code: str) -> None:
    with pytest.raises(OtpError) as caught:
        call()  # type: ignore[operator]
    assert caught.value.code == code
    assert caught.value.message


def test_keys_never_show_or_pickle_their_secret() -> None:
    secret = bytes.fromhex("3a7f0c9e5b2d4186f0e1d2c3b4a5968778695a4b")
    key = OtpKey(Secret(secret))
    text = repr(key) + str(key) + f"{key}"
    assert "redacted" in text
    assert secret.hex() not in text and "On8Mnl" not in text
    with pytest.raises(TypeError):
        pickle.dumps(key)
    with pytest.raises(OtpError) as caught:
        hotp(secret, -1)
    assert secret.hex() not in str(caught.value)


def test_key_from_a_seed_record() -> None:
    record = SeedRecord(
        "SN1",
        Secret.from_hex("3a7f0c9e5b2d4186f0e1d2c3b4a5968778695a4b"),
        period=60,
    )
    assert OtpKey.of(record).code_at(1700000000) == "094554"  # design example, 60 s


def test_code_shape_helpers() -> None:
    assert well_formed("012345", 6)
    assert not well_formed("12345", 6)
    assert not well_formed("١٢٣٤٥٦", 6)  # Arabic-Indic digits are digits, but not ASCII
    assert not well_formed("+12345", 6)
    assert normalize_code(" 123 456 ") == "123456"
    assert normalize_code("1234-5678") == "12345678"
