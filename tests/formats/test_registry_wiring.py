"""The registry reaches both XML formats: detection, read_seeds, write_seeds and its checks."""

from __future__ import annotations

import pytest

from oathdesk.domain import HashAlgorithm, OtpKind, Secret, SeedFileInvalid, SeedRecord
from oathdesk.formats import ReadOptions, WriteOptions, detect, get_format, read_seeds, write_seeds
from oathdesk.formats.dualshield import DualShieldXml
from oathdesk.formats.pskc import Pskc
from tests.formats.xml_support import code_at, sample

EXAMPLE = Secret.from_hex("3a7f0c9e5b2d4186f0e1d2c3b4a5968778695a4b")


def test_registry_builds_our_classes() -> None:
    assert isinstance(get_format("pskc"), Pskc)
    assert isinstance(get_format("dualshield-xml"), DualShieldXml)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("design-6a-plain.pskcxml", "pskc"),
        ("rfc6030-figure2.pskcxml", "pskc"),
        ("rfc6030-figure7-pbkdf2.pskcxml", "pskc"),
        ("design-3-dualshield.xml", "dualshield-xml"),
        ("dualshield-minimal-header.xml", "dualshield-xml"),
    ],
)
def test_detect_picks_the_xml_format(name: str, fmt: str) -> None:
    assert detect(sample(name), name).id == fmt


def test_read_seeds_reads_and_validates_pskc() -> None:
    options = ReadOptions(pskc_key=Secret.from_hex("000102030405060708090a0b0c0d0e0f"))
    result = read_seeds(sample("design-6b-preshared.pskcxml"), "6b.pskcxml", None, options)
    assert result.format == "pskc"
    assert code_at(result.records[0], 1111111109) == "420143"
    twice = sample("broken-one-of-two-tampered.pskcxml").replace(b"20250002", b"20250001")
    dup = read_seeds(twice.replace(b"uL4Z3", b"uL4Z2"), "dup.pskcxml", "pskc", options)
    assert [p.code for p in dup.errors] == ["seed.duplicate_serial"]  # the registry's check


def test_read_seeds_reads_dualshield() -> None:
    result = read_seeds(sample("design-3-dualshield.xml"), "ds.xml")
    assert result.format == "dualshield-xml"
    assert [code_at(r, 1700000000) for r in result.records] == ["651706", "431554"]


def test_write_seeds_converts_dualshield_to_encrypted_pskc_and_back() -> None:
    records = read_seeds(sample("design-3-dualshield.xml"), "ds.xml").records
    passphrase = Secret(b"correct horse")
    data = write_seeds(records, "pskc", WriteOptions(passphrase=passphrase, pbkdf2_iterations=5))
    back = read_seeds(data, "out.pskcxml", None, ReadOptions(passphrase=passphrase))
    assert back.problems == []
    assert back.records == records
    assert write_seeds(back.records, "dualshield-xml") == write_seeds(records, "dualshield-xml")


@pytest.mark.parametrize(
    "odd",
    [
        {"kind": OtpKind.HOTP},
        {"digits": 7},
        {"period": 45},
        {"algorithm": HashAlgorithm.SHA512, "t0": 5},
    ],
)
def test_write_seeds_refuses_what_dualshield_cannot_hold(odd: dict[str, object]) -> None:
    records = [SeedRecord("1", EXAMPLE), SeedRecord("2", EXAMPLE).with_(**odd)]
    with pytest.raises(SeedFileInvalid) as caught:
        write_seeds(records, "dualshield-xml")
    assert caught.value.code == "seed.invalid"
    assert {p.code for p in caught.value.problems} == {"seed.not_expressible"}
