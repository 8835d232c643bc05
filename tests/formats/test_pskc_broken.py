"""One broken PSKC sample per failure mode, each with its stable code and its locator."""

from __future__ import annotations

import pytest

from oathdesk.domain import DecryptionError, Secret
from oathdesk.formats.base import ReadOptions, ReadResult
from oathdesk.formats.pskc import Pskc
from tests.formats.xml_support import line_of, sample

DESIGN_PSK = Secret.from_hex("000102030405060708090a0b0c0d0e0f")
RFC_PSK = Secret.from_hex("12345678901234567890123456789012")
PSK = ReadOptions(pskc_key=DESIGN_PSK)


def read(name: str, options: ReadOptions | None = None) -> ReadResult:
    return Pskc().read(sample(name), name, options or ReadOptions())


def only_error(result: ReadResult) -> tuple[str, str, str | None]:
    [problem] = result.errors
    return problem.code, problem.locator, problem.serial


def at(name: str, marker: str, path: str, occurrence: int = 1) -> str:
    return f"{name}:{line_of(name, marker, occurrence)} ({path})"


def test_tampered_value_mac_with_the_right_key_is_a_problem_at_that_value_mac() -> None:
    name = "broken-tampered-mac.pskcxml"
    result = read(name, PSK)
    assert result.records == []
    assert only_error(result) == (
        "seed.pskc_mac_mismatch",
        at(name, "ValueMAC", "/KeyContainer/KeyPackage[1]/Key/Data/Secret/ValueMAC"),
        "20250001",
    )


def test_one_tampered_key_of_two_leaves_the_other_readable() -> None:
    name = "broken-one-of-two-tampered.pskcxml"
    result = read(name, PSK)
    assert [r.serial for r in result.records] == ["20250001"]
    assert only_error(result) == (
        "seed.pskc_mac_mismatch",
        at(name, "ValueMAC", "/KeyContainer/KeyPackage[2]/Key/Data/Secret/ValueMAC", 2),
        "20250002",
    )


@pytest.mark.parametrize(
    ("name", "options", "flag"),
    [
        ("rfc6030-figure7-pbkdf2.pskcxml", ReadOptions(passphrase=Secret(b"qwertz")), "--password"),
        ("design-6c-passphrase.pskcxml", ReadOptions(passphrase=Secret(b"tr0ub4dor&3")), "--pass"),
        ("rfc6030-figure6-preshared.pskcxml", ReadOptions(pskc_key=DESIGN_PSK), "--key-file"),
        ("design-6b-preshared.pskcxml", ReadOptions(pskc_key=RFC_PSK), "--key-file"),
    ],
)
def test_wrong_passphrase_or_key_is_a_decryption_error(
    name: str, options: ReadOptions, flag: str
) -> None:
    with pytest.raises(DecryptionError) as caught:
        read(name, options)
    assert caught.value.code == "seed.pskc_wrong_key"
    assert caught.value.message.startswith(f"{name}: ")
    assert flag in caught.value.message


def test_wrong_key_length_says_what_the_cipher_needs() -> None:
    with pytest.raises(DecryptionError) as caught:
        read("design-6b-preshared.pskcxml", ReadOptions(pskc_key=Secret(bytes(32))))
    assert caught.value.code == "seed.pskc_wrong_key"
    assert "32 bytes; the cipher needs 16" in caught.value.message


@pytest.mark.parametrize(
    ("name", "needs", "key_name"),
    [
        ("rfc6030-figure6-preshared.pskcxml", "--key-file", "Pre-shared-key"),
        ("rfc6030-figure7-pbkdf2.pskcxml", "--password-file", "My Password 1"),
        ("design-6c-passphrase.pskcxml", "--password-file", "Seed file passphrase"),
    ],
)
def test_missing_key_says_which_kind_of_key_and_its_name(
    name: str, needs: str, key_name: str
) -> None:
    with pytest.raises(DecryptionError) as caught:
        read(name)
    error = caught.value
    assert error.code == "seed.pskc_key_required"
    assert needs in error.message and repr(key_name) in error.message
    assert error.details == {"key_name": key_name, "needs": needs.removeprefix("--")}


def test_passphrase_given_for_a_preshared_key_file_is_named_as_the_mistake() -> None:
    with pytest.raises(DecryptionError) as caught:
        read("rfc6030-figure6-preshared.pskcxml", ReadOptions(passphrase=Secret(b"qwerty")))
    assert caught.value.code == "seed.pskc_key_required"
    assert "a passphrase does not open this file" in caught.value.message


def test_not_xml_names_the_line_where_it_broke() -> None:
    name = "broken-truncated.pskcxml"
    last_line = len(sample(name).decode().splitlines())
    assert only_error(read(name)) == ("seed.not_xml", f"{name}:{last_line}", None)


def test_csv_bytes_are_not_xml() -> None:
    result = Pskc().read(b"serial,secret\n1,ABC\n", "tokens.csv", ReadOptions())
    assert only_error(result)[:2] == ("seed.not_xml", "tokens.csv:1")


@pytest.mark.parametrize("name", ["broken-billion-laughs.pskcxml", "broken-xxe.pskcxml"])
def test_dtd_and_entities_are_refused_before_parsing(name: str) -> None:
    result = read(name)
    assert result.records == []
    code, locator, _ = only_error(result)
    assert (code, locator) == ("seed.xml_dtd_forbidden", f"{name}:{line_of(name, '<!DOCTYPE')}")
    assert "root:" not in result.errors[0].message  # nothing from /etc/passwd leaked in


def test_missing_serial_is_reported_at_device_info() -> None:
    name = "broken-missing-serial.pskcxml"
    assert only_error(read(name)) == (
        "seed.missing_serial",
        at(name, "<pskc:DeviceInfo>", "/KeyContainer/KeyPackage[1]/DeviceInfo"),
        None,
    )


def test_missing_secret_is_reported_at_the_key() -> None:
    name = "broken-missing-secret.pskcxml"
    assert only_error(read(name)) == (
        "seed.missing_secret",
        at(name, "<pskc:Key ", "/KeyContainer/KeyPackage[1]/Key"),
        "20250001",
    )


def test_bad_base64_secret_is_reported_at_its_plain_value() -> None:
    name = "broken-bad-base64.pskcxml"
    result = read(name)
    assert only_error(result) == (
        "seed.secret_not_base64",
        at(name, "PlainValue>On8Mnl", "/KeyContainer/KeyPackage[1]/Key/Data/Secret/PlainValue"),
        "20250001",
    )
    assert "On8Mnl" not in result.errors[0].message


def test_unknown_key_algorithm_is_reported_at_the_key() -> None:
    name = "broken-unknown-algorithm.pskcxml"
    code, locator, _ = only_error(read(name))
    assert (code, locator) == (
        "seed.unsupported_algorithm",
        at(name, "<pskc:Key ", "/KeyContainer/KeyPackage[1]/Key"),
    )


def test_unknown_hash_suite_is_reported_at_the_suite() -> None:
    name = "broken-unknown-suite.pskcxml"
    code, locator, _ = only_error(read(name))
    assert (code, locator) == (
        "seed.unsupported_algorithm",
        at(name, "<pskc:Suite>", "/KeyContainer/KeyPackage[1]/Key/AlgorithmParameters/Suite"),
    )


def test_unknown_cipher_is_reported_before_any_key_is_asked_for() -> None:
    name = "broken-unknown-cipher.pskcxml"
    code, locator, _ = only_error(read(name))  # no key given, yet no key_required error
    assert (code, locator) == (
        "seed.unsupported_algorithm",
        at(name, "aes128-gcm", "/KeyContainer/MACMethod/MACKey/EncryptionMethod"),
    )


def test_every_problem_of_a_file_is_reported_not_only_the_first() -> None:
    name = "broken-three-packages.pskcxml"
    result = read(name)
    assert [r.serial for r in result.records] == ["20250001"]
    assert [(p.code, p.locator, p.serial) for p in result.errors] == [
        (
            "seed.secret_not_base64",
            at(
                name, "PlainValue>On8Mnl*", "/KeyContainer/KeyPackage[2]/Key/Data/Secret/PlainValue"
            ),
            "20250002",
        ),
        (
            "seed.missing_serial",
            at(name, "<pskc:DeviceInfo>", "/KeyContainer/KeyPackage[3]/DeviceInfo", 3),
            None,
        ),
    ]


def test_a_dualshield_file_is_not_pskc() -> None:
    name = "design-3-dualshield.xml"
    code, locator, _ = only_error(read(name))
    assert (code, locator) == ("seed.pskc_invalid", f"{name}:2 (/data)")


def test_malformed_counter_is_reported_not_crashed_on() -> None:
    text = sample("rfc6030-figure6-preshared.pskcxml").replace(
        b"<PlainValue>0</PlainValue>", b"<PlainValue>zero</PlainValue>"
    )
    result = Pskc().read(text, "f.pskcxml", ReadOptions(pskc_key=RFC_PSK))
    [problem] = result.errors
    assert problem.code == "seed.pskc_invalid"
    assert problem.locator.endswith("(/KeyContainer/KeyPackage[1]/Key/Data/Counter)")


def without_macs(name: str) -> bytes:
    """A pre-RFC style file: CBC values with no MACMethod and no ValueMAC."""
    text = sample(name).decode()
    start, end = text.index("  <pskc:MACMethod"), text.index("</pskc:MACMethod>\n")
    text = text[:start] + text[end + len("</pskc:MACMethod>\n") :]
    start = text.index("          <pskc:ValueMAC>")
    return (text[:start] + text[text.index("</pskc:ValueMAC>\n") + 17 :]).encode()


def test_without_any_mac_the_right_key_reads_with_a_warning() -> None:
    result = Pskc().read(without_macs("design-6b-preshared.pskcxml"), "f.pskcxml", PSK)
    assert result.errors == []
    assert [p.code for p in result.problems] == ["seed.pskc_mac_missing"]
    assert result.records[0].secret == Secret.from_hex("3a7f0c9e5b2d4186f0e1d2c3b4a5968778695a4b")


def test_without_any_mac_a_wrong_key_is_judged_by_padding_of_all_values() -> None:
    with pytest.raises(DecryptionError) as caught:
        Pskc().read(
            without_macs("design-6b-preshared.pskcxml"), "f.pskcxml", ReadOptions(pskc_key=RFC_PSK)
        )
    assert caught.value.code == "seed.pskc_wrong_key"
