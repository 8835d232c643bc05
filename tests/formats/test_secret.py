"""Secret: tolerant decoding, exact encoding, and no way to print the bytes by accident."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oathdesk.domain import Secret, SecretEncodingError, SeedRecord

HEX = "3a7f0c9e5b2d4186f0e1d2c3b4a5968778695a4b"
B32 = "HJ7QZHS3FVAYN4HB2LB3JJMWQ54GSWSL"
B64 = "On8MnlstQYbw4dLDtKWWh3hpWks="


def test_three_encodings_of_the_design_example_agree() -> None:
    assert Secret.from_hex(HEX) == Secret.from_base32(B32) == Secret.from_base64(B64)
    assert Secret.from_hex(HEX).to_base32() == B32
    assert Secret.from_base32(B32).to_base64() == B64


@pytest.mark.parametrize(
    "text",
    [
        "hj7q zhs3 fvay n4hb 2lb3 jjmw q54g swsl",
        "HJ7Q-ZHS3-FVAY-N4HB-2LB3-JJMW-Q54G-SWSL",
        B32 + "========",
        " HJ7QZHS3FVAYN4HB2LB3JJMWQ54GSWSL\t",
    ],
)
def test_base32_tolerates_field_damage(text: str) -> None:
    assert Secret.from_base32(text).to_hex() == HEX


def test_hex_tolerates_case_and_separators() -> None:
    assert Secret.from_hex("3A:7F:0C:9E 5B2D-4186F0E1D2C3B4A5968778695A4B").to_hex() == HEX


@pytest.mark.parametrize(
    ("encoding", "text", "code"),
    [
        ("hex", "3a7", "seed.secret_odd_length"),
        ("hex", "zz", "seed.secret_not_hex"),
        ("base32", "18AB", "seed.secret_not_base32"),
        ("base32", "A", "seed.secret_not_base32"),
        ("base64", "!!!!", "seed.secret_not_base64"),
        ("hex", "  ", "seed.secret_empty"),
    ],
)
def test_bad_text_is_refused_without_echoing_it(encoding: str, text: str, code: str) -> None:
    with pytest.raises(SecretEncodingError) as info:
        Secret.decode(text, encoding)
    assert info.value.code == code
    if text.strip():
        assert text not in str(info.value)


def test_repr_str_format_and_record_repr_never_show_bytes() -> None:
    secret = Secret.from_hex(HEX)
    record = SeedRecord("1", secret)
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret!r}", repr(record)):
        assert HEX not in shown.lower() and B32 not in shown and B64 not in shown
        assert "redacted" in shown


def test_secret_is_immutable_unhashable_and_not_pickled() -> None:
    secret = Secret(b"x" * 20)
    with pytest.raises(AttributeError):
        secret._value = b"y"
    with pytest.raises(TypeError):
        hash(secret)
    with pytest.raises(TypeError):
        pickle.dumps(secret)


@given(st.binary(min_size=1, max_size=80), st.booleans(), st.booleans())
def test_every_encoding_round_trips(raw: bytes, upper: bool, padding: bool) -> None:
    secret = Secret(raw)
    assert Secret.from_hex(secret.to_hex(upper=upper)) == secret
    assert Secret.from_base32(secret.to_base32(padding=padding, upper=upper)) == secret
    assert Secret.from_base64(secret.to_base64(padding=padding)) == secret
    assert Secret(raw) != Secret(raw + b"\x00")
