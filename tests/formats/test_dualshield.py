"""DualShield XML: the design example proved by codes, broken samples, the writer's rules."""

from __future__ import annotations

import pytest

from oathdesk.domain import (
    HashAlgorithm,
    OtpKind,
    Secret,
    SeedFileInvalid,
    SeedRecord,
    Severity,
    UsageError,
)
from oathdesk.formats.base import ReadOptions, ReadResult, WriteOptions
from oathdesk.formats.dualshield import DualShieldXml
from tests.formats.xml_support import code_at, line_of, sample

EXAMPLE = Secret.from_hex("3a7f0c9e5b2d4186f0e1d2c3b4a5968778695a4b")


def read(name: str, options: ReadOptions | None = None) -> ReadResult:
    return DualShieldXml().read(sample(name), name, options or ReadOptions())


def test_design_example_decodes_both_seeds_proved_by_codes() -> None:
    name = "design-3-dualshield.xml"
    result = read(name)
    assert result.problems == []
    first, second = result.records
    assert (first.serial, second.serial) == ("20250001", "20250002")
    assert (first.manufacturer, first.model) == ("DN", "STE")
    assert (first.kind, first.digits, first.period) == (OtpKind.TOTP, 6, 30)
    assert first.algorithm is HashAlgorithm.SHA1
    assert code_at(first, 1111111109) == "420143"
    assert code_at(first, 1700000000) == "651706"
    assert code_at(second, 1700000000) == "431554"
    assert code_at(second.with_(period=60), 1700000000) == "816153"
    assert result.locators == [
        f"{name}:{line_of(name, '<token>', 1)} (/data/tokens/token[1])",
        f"{name}:{line_of(name, '<token>', 2)} (/data/tokens/token[2])",
    ]


def test_minimal_header_uses_defaults_and_warns_about_the_time_step() -> None:
    name = "dualshield-minimal-header.xml"
    result = read(name)
    [record] = result.records
    assert record.serial == "0020250001"  # leading zeros kept
    assert record.secret == EXAMPLE  # BASE64 per <encode>
    assert (record.digits, record.period, record.algorithm) == (6, 30, HashAlgorithm.SHA1)
    [warning] = result.problems
    assert warning.severity is Severity.WARNING
    assert (warning.code, warning.locator) == (
        "seed.dualshield_period_assumed",
        f"{name}:{line_of(name, '<header>')} (/data/header)",
    )
    options = ReadOptions(period=60, digits=8, algorithm=HashAlgorithm.SHA256, kind=OtpKind.HOTP)
    chosen = read(name, options)
    assert chosen.problems == []
    [hotp] = chosen.records
    assert (hotp.period, hotp.digits, hotp.algorithm, hotp.kind) == (
        60,
        8,
        HashAlgorithm.SHA256,
        OtpKind.HOTP,
    )


def test_bad_hex_seed_carries_the_hint_of_the_real_encoding() -> None:
    name = "broken-dualshield-bad-hex.xml"
    result = read(name)
    assert [r.serial for r in result.records] == ["20250002"]
    [problem] = result.errors
    assert (problem.code, problem.locator, problem.serial) == (
        "seed.secret_not_hex",
        f"{name}:{line_of(name, '<seed>HJ7Q')} (/data/tokens/token[1]/seed)",
        "20250001",
    )
    assert "pass --secret-encoding base32" in problem.message
    assert "HJ7Q" not in problem.message  # the secret text is never repeated
    fixed = read(name, ReadOptions(secret_encoding="base32"))
    assert fixed.records[0].secret == EXAMPLE


def test_aes256_encrypted_file_is_refused_clearly() -> None:
    name = "broken-dualshield-aes256.xml"
    result = read(name)
    assert result.records == []
    [problem] = result.errors
    assert (problem.code, problem.locator) == (
        "seed.dualshield_encrypted_unsupported",
        f"{name}:{line_of(name, '<encrypt>')} (/data/header/encrypt)",
    )
    assert "encrypt NONE" in problem.message


def test_missing_seed_and_empty_serial_are_both_reported() -> None:
    name = "broken-dualshield-missing.xml"
    result = read(name)
    assert result.records == []
    assert [(p.code, p.locator, p.serial) for p in result.errors] == [
        (
            "seed.missing_secret",
            f"{name}:{line_of(name, '<token>', 1)} (/data/tokens/token[1])",
            "20250001",
        ),
        (
            "seed.missing_serial",
            f"{name}:{line_of(name, '<serial></serial>')} (/data/tokens/token[2]/serial)",
            None,
        ),
    ]


def test_unknown_crypto_is_refused_at_the_header() -> None:
    name = "broken-dualshield-bad-crypto.xml"
    [problem] = read(name).errors
    assert (problem.code, problem.locator) == (
        "seed.unsupported_algorithm",
        f"{name}:{line_of(name, '<crypto>')} (/data/header/crypto)",
    )


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("broken-billion-laughs.pskcxml", "seed.xml_dtd_forbidden"),
        ("broken-truncated.pskcxml", "seed.not_xml"),
        ("design-6a-plain.pskcxml", "seed.dualshield_invalid"),
    ],
)
def test_refuses_dtd_broken_xml_and_other_formats(name: str, code: str) -> None:
    [problem] = read(name).errors
    assert problem.code == code


def record(number: str, **changes: object) -> SeedRecord:
    return SeedRecord(number, EXAMPLE, manufacturer="DN", model="STE").with_(**changes)


def test_writer_matches_the_design_example_layout() -> None:
    records = read("design-3-dualshield.xml").records
    assert DualShieldXml().write(records, WriteOptions()) == sample(
        "design-3-dualshield.xml"
    ).replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-8"?>')


def test_writer_encodings_and_case() -> None:
    records = [record("1")]
    lower = DualShieldXml().write(records, WriteOptions(upper=False))
    assert b"<seed>3a7f0c9e5b2d4186f0e1d2c3b4a5968778695a4b</seed>" in lower
    b32 = DualShieldXml().write(records, WriteOptions(secret_encoding="base32"))
    assert b"<encode>BASE32</encode>" in b32 and b"<seed>HJ7QZHS3FVAYN4HB2LB3JJMWQ54GSWSL<" in b32
    with pytest.raises(UsageError):
        DualShieldXml().write(records, WriteOptions(secret_encoding="base58"))


@pytest.mark.parametrize(
    "other",
    [
        {"period": 60},
        {"manufacturer": "GG"},
        {"model": "GT"},
        {"digits": 8},
        {"kind": OtpKind.HOTP},
        {"model": "ST\x01E"},
    ],
)
def test_writer_refuses_what_one_header_cannot_say(other: dict[str, object]) -> None:
    records = [record("1"), record("2", **other)]
    with pytest.raises(SeedFileInvalid) as caught:
        DualShieldXml().write(records, WriteOptions())
    assert {p.code for p in caught.value.problems} == {"seed.not_expressible"}
    assert all(p.locator == "token 2" for p in caught.value.problems)


def test_sniff() -> None:
    fmt = DualShieldXml()
    assert fmt.sniff(sample("design-3-dualshield.xml")) == 2
    assert fmt.sniff(sample("design-6a-plain.pskcxml")) == 0
    assert fmt.sniff(b"<data><rows/></data>") == 0
    assert fmt.sniff(b"serial,seed\n") == 0
