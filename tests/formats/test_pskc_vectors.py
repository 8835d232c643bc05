"""PSKC reader against published vectors: RFC 6030 figures and the design page's composed files.

Each test proves the decoded bytes by computing codes with a local RFC 4226 helper and comparing
them with published values (RFC 4226 Appendix D, RFC 6238, the design page's check values).
"""

from __future__ import annotations

import io

import pytest
from pskc import PSKC

from oathdesk.domain import HashAlgorithm, OtpKind, Secret, Severity
from oathdesk.formats.base import ReadOptions, ReadResult
from oathdesk.formats.pskc import Pskc
from tests.formats.xml_support import code_at, code_for_counter, line_of, sample

# RFC 4226 Appendix D, secret ASCII "12345678901234567890": the 6- and 8-digit HOTP values
RFC4226_6 = ["755224", "287082", "359152", "969429", "338314"]
RFC4226_6 += ["254676", "287922", "162583", "399871", "520489"]
RFC4226_8 = ["84755224", "94287082", "37359152", "26969429", "40338314"]
RFC4226_8 += ["68254676", "18287922", "82162583", "73399871", "45520489"]
RFC_PSK = Secret.from_hex("12345678901234567890123456789012")
DESIGN_PSK = Secret.from_hex("000102030405060708090a0b0c0d0e0f")


def read(name: str, options: ReadOptions | None = None) -> ReadResult:
    return Pskc().read(sample(name), name, options or ReadOptions())


def test_figure2_plain_secret_is_ascii_1234_and_serial_falls_back_to_key_id() -> None:
    result = read("rfc6030-figure2.pskcxml")
    [record] = result.records
    assert record.secret.reveal() == b"1234"  # base64 "MTIzNA==" spread over two lines
    assert record.serial == "12345678"
    assert record.kind is OtpKind.HOTP
    assert (record.digits, record.algorithm, record.counter) == (6, HashAlgorithm.SHA1, 0)
    assert result.locators == [
        f"rfc6030-figure2.pskcxml:{line_of('rfc6030-figure2.pskcxml', '<Key ')} "
        "(/KeyContainer/KeyPackage[1]/Key)"
    ]
    codes = {p.code: p for p in result.problems}
    assert set(codes) == {"seed.pskc_serial_from_key_id", "seed.secret_unusual_length"}
    assert all(p.severity is Severity.WARNING for p in result.problems)


def test_figure6_preshared_key_decrypts_to_rfc4226_secret() -> None:
    result = read("rfc6030-figure6-preshared.pskcxml", ReadOptions(pskc_key=RFC_PSK))
    assert result.problems == []
    [record] = result.records
    assert (record.serial, record.manufacturer) == ("987654321", "Manufacturer")
    assert (record.kind, record.digits, record.counter) == (OtpKind.HOTP, 8, 0)
    assert [code_for_counter(record, c) for c in range(10)] == RFC4226_8
    six = record.with_(digits=6)
    assert [code_for_counter(six, c) for c in range(10)] == RFC4226_6


def test_figure7_pbkdf2_passphrase_qwerty_decrypts_to_rfc4226_secret() -> None:
    result = read("rfc6030-figure7-pbkdf2.pskcxml", ReadOptions(passphrase=Secret(b"qwerty")))
    assert result.problems == []
    [record] = result.records
    assert (record.serial, record.manufacturer) == ("987654321", "TokenVendorAcme")
    assert [code_for_counter(record, c) for c in range(10)] == RFC4226_8


def test_figure7_derived_key_matches_rfc_check_value() -> None:
    """The RFC's derived key 651e63cd...: python-pskc's PBKDF2 is what our reader calls."""
    pskc = PSKC(io.BytesIO(sample("rfc6030-figure7-pbkdf2.pskcxml")))
    pskc.encryption.derive_key("qwerty")
    assert pskc.encryption.key == bytes.fromhex("651e63cd57008476af1ff6422cd02e41")


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("design-6a-plain.pskcxml", ReadOptions()),
        ("design-6b-preshared.pskcxml", ReadOptions(pskc_key=DESIGN_PSK)),
        ("design-6c-passphrase.pskcxml", ReadOptions(passphrase=Secret(b"Tr0ub4dor&3"))),
    ],
)
def test_design_examples_give_the_listed_totp_codes(name: str, options: ReadOptions) -> None:
    result = read(name, options)
    assert result.problems == []
    [record] = result.records
    assert (record.serial, record.manufacturer) == ("20250001", "ExampleVendor")
    assert (record.kind, record.period, record.digits) == (OtpKind.TOTP, 30, 6)
    assert record.algorithm is HashAlgorithm.SHA1  # 6c has no Suite: the RFC default
    assert code_at(record, 1111111109) == "420143"
    assert code_at(record, 1700000000) == "651706"
    assert code_at(record.with_(algorithm=HashAlgorithm.SHA256), 1700000000) == "754459"
    assert result.locators[0].startswith(f"{name}:{line_of(name, '<pskc:Key ')} (")


def test_plain_design_example_carries_model() -> None:
    [record] = read("design-6a-plain.pskcxml").records
    assert record.model == "DemoTOTP"


def test_options_fill_only_what_the_file_lacks() -> None:
    """Figure 2 has no Suite, ResponseFormat, Manufacturer: options supply them."""
    options = ReadOptions(
        digits=8, algorithm=HashAlgorithm.SHA256, manufacturer="Acme", model="K1", period=60
    )
    [record] = read("rfc6030-figure2.pskcxml", options).records
    assert (record.digits, record.algorithm) == (8, HashAlgorithm.SHA256)
    assert (record.manufacturer, record.model) == ("Acme", "K1")
    # the design file states its digits, hash and manufacturer: they win over options
    [designed] = read("design-6a-plain.pskcxml", options).records
    assert (designed.digits, designed.algorithm, designed.period) == (6, HashAlgorithm.SHA1, 30)
    assert designed.manufacturer == "ExampleVendor"


def test_missing_base64_padding_and_whitespace_are_tolerated() -> None:
    text = sample("design-6a-plain.pskcxml").replace(
        b"On8MnlstQYbw4dLDtKWWh3hpWks=", b"On8Mnlst QYbw4dLD\n tKWWh3hpWks"
    )
    result = Pskc().read(text, "spaced.pskcxml", ReadOptions())
    assert result.errors == []
    assert code_at(result.records[0], 1111111109) == "420143"


def test_records_never_show_the_secret() -> None:
    [record] = read("design-6a-plain.pskcxml").records
    shown = repr(record) + str(record.describe())
    assert "On8Mnl" not in shown and "3a7f0c9e" not in shown.lower()
