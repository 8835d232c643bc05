"""Round-2 seed file variants (issue 18): each reads correctly, or fails with a code whose
message names the fix. Samples are in ``samples/variants`` (made by ``variant_samples.py``); codes
are checked with RFC 6238 written out in ``xml_support``, not with ``oathdesk.otp``."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from oathdesk.domain import HashAlgorithm, SeedFileError, SeedFileInvalid
from oathdesk.formats import ReadOptions, ReadResult, csv_fast, csv_io, detect, read_seeds
from oathdesk.formats import write_seeds as write
from oathdesk.formats.estimate import count_tokens
from oathdesk.formats.pskc import _Reader
from oathdesk.formats.pskc_fast import read_fast
from oathdesk.formats.text import utf16_to_utf8
from tests.formats import variant_samples as mk
from tests.formats.xml_support import code_at

VARIANTS = Path(__file__).parent / "samples" / "variants"
AT = 1_700_000_000
S1_CODE, S2_CODE = "651706", "816153"  # the design page's codes at AT (30 s / 60 s)


def sample(name: str) -> bytes:
    return (VARIANTS / name).read_bytes()


def read(name: str, **options: object) -> ReadResult:
    return read_seeds(sample(name), name, None, ReadOptions(**options))  # type: ignore[arg-type]


def careful(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every CSV row through the careful ``_Row``, none through the fast lanes."""
    monkeypatch.setattr(csv_io, "read_block", lambda *args, **kwargs: None)
    monkeypatch.setattr(csv_fast.FastRow, "__call__", lambda self, cells: None)


@pytest.mark.parametrize("name", sorted(mk.SAMPLES))
def test_committed_samples_are_what_the_script_makes(name: str) -> None:
    assert sample(name) == mk.SAMPLES[name](), "run tests/formats/variant_samples.py"


# -- 1. Excel "Unicode text": UTF-16 LE with a BOM, tab-separated ---------------------------
def test_excel_unicode_text_reads_like_its_utf8_twin() -> None:
    data = sample("excel-unicode-text.txt")
    assert data.startswith(b"\xff\xfe") and b"\x00" in data  # really UTF-16, really "binary"
    assert detect(data, "x.txt").id == "entra-csv"
    result = read("excel-unicode-text.txt")
    assert result.problems == []
    assert [(r.serial, r.model, r.user, r.period) for r in result.records] == [
        ("20250001", "c200 Ü", "alice@example.com", 30),
        ("20250002", "c200 Ü", "", 60),
    ]
    assert [code_at(r, AT) for r in result.records] == [S1_CODE, S2_CODE]
    twin = data[2:].decode("utf-16-le").encode("utf-8")
    same = read_seeds(twin, "excel-unicode-text.txt")
    assert (same.records, same.locators) == (result.records, result.locators)
    assert result.locators == ["excel-unicode-text.txt:2", "excel-unicode-text.txt:3"]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_recognised(codec: str) -> None:
    text = sample("excel-unicode-text.txt")[2:].decode("utf-16-le")
    result = read_seeds(text.encode(codec), "nobom.txt")
    assert result.errors == [] and [r.serial for r in result.records] == ["20250001", "20250002"]


def test_cut_utf16_is_a_coded_error_naming_the_fix() -> None:
    data = sample("excel-unicode-text.txt")[:-1]  # an odd number of bytes: cut mid-character
    with pytest.raises(SeedFileError) as caught:
        read_seeds(data, "cut.txt")
    assert caught.value.code == "seed.bad_utf16"
    assert "cut.txt" in caught.value.message and "CSV UTF-8" in caught.value.message


def test_utf16_xml_and_plain_files_are_left_as_they_are() -> None:
    xml = '<?xml version="1.0" encoding="UTF-16"?><KeyContainer/>'.encode("utf-16")
    assert utf16_to_utf8(xml, "k.xml") == xml  # the XML parser reads its declared encoding
    plain = sample("entra-timeinterval.csv")
    assert utf16_to_utf8(plain, "p.csv") is plain
    cp1252 = sample("entra-cp1252-feitian.csv")
    assert utf16_to_utf8(cp1252, "w.csv") is cp1252


# -- 2. header spellings ----------------------------------------------------------------------
def test_deepnet_timeinterval_header() -> None:
    result = read("entra-timeinterval.csv")
    assert result.format == "entra-csv" and result.problems == []
    assert [(r.period, code_at(r, AT)) for r in result.records] == [(30, S1_CODE), (60, S2_CODE)]
    assert result.records[0].model == "SafeID/Classic"


SPELLINGS = {
    "upn": ["upn", "UPN", "User Principal Name", "userPrincipalName"],
    "serial": ["serial number", "Serial Number", "SerialNumber", "serialNumber", "serial_number"],
    "secret": ["secret key", "Secret Key", "secretKey", "SECRET-KEY"],
    "step": ["time interval", "Time Interval", "timeinterval", "TimeInterval",
             "timeIntervalInSeconds", "time_interval"],
}  # fmt: skip


@pytest.mark.parametrize("index", range(6))
def test_every_header_spelling_the_design_lists(index: int) -> None:
    def pick(key: str) -> str:
        spellings = SPELLINGS[key]
        return spellings[index % len(spellings)]

    header = [pick("upn"), pick("serial"), pick("secret"), pick("step"), "Manufacturer", "MODEL"]
    quoted = ",".join(f'"{h}"' if index % 2 else h for h in header)  # PowerShell quotes all
    data = f"{quoted}\r\nada@example.com,20250002,{mk.S2_B32},60,V,M\r\n".encode()
    assert detect(data, "h.csv").id == "entra-csv"
    result = read_seeds(data, "h.csv")
    assert result.problems == [], header
    [record] = result.records
    assert (record.user, record.period, code_at(record, AT)) == ("ada@example.com", 60, S2_CODE)


# -- 3. hex secrets where base32 belongs -----------------------------------------------------
def test_hex_in_an_entra_csv_is_named_with_the_fix() -> None:
    result = read("entra-hex.csv")
    assert result.records == []
    assert [(p.locator, p.code, p.serial) for p in result.errors] == [
        ("entra-hex.csv:2", "seed.hex_secret", "20250001"),
        ("entra-hex.csv:3", "seed.hex_secret", "20250002"),
    ]
    message = result.errors[0].message
    assert "hex (20 bytes)" in message and "--secret-encoding hex" in message
    with pytest.raises(SeedFileInvalid):
        result.raise_if_invalid()


def test_hex_in_an_entra_csv_reads_when_the_user_says_so() -> None:
    result = read("entra-hex.csv", secret_encoding="hex")
    assert result.problems == []
    assert [code_at(r, AT) for r in result.records] == [S1_CODE, S2_CODE]
    # and converting writes what Entra takes: base32
    written = write(result.records, "entra-csv").decode()
    assert mk.S1_B32 in written and mk.S2_B32 in written and mk.S1_HEX not in written.lower()


def _hex_only_base32_letters(rows: int) -> bytes:
    """16-byte hex secrets of A-F and 2-7 only: 32 characters that are also base32 of 20 bytes."""
    lines = ["serial number,secret key,time interval,manufacturer,model"]
    lines += [f"{20260000 + n},{'ab2c' * 8},30,V,M" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("lane", ["fast", "careful"])
def test_hex_that_is_also_base32_is_read_as_declared_with_a_warning(
    lane: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if lane == "careful":
        careful(monkeypatch)
    result = read_seeds(_hex_only_base32_letters(300), "ab.csv")
    assert result.errors == [] and len(result.records) == 300
    assert [len(r.secret) for r in result.records[:2]] == [20, 20]  # base32, as declared
    assert {p.code for p in result.problems} == {"seed.secret_maybe_hex"}
    assert len(result.problems) == 300  # the fast lanes step aside: every row is told
    assert "--secret-encoding hex" in result.problems[0].message


def test_hex_secret_is_reported_on_both_lanes(monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"serial number,secret key,time interval,manufacturer,model\n" + b"".join(
        f"{20260000 + n},{mk.S1_HEX},30,V,M\n".encode() for n in range(300)
    )
    fast = read_seeds(data, "h.csv")
    careful(monkeypatch)
    slow = read_seeds(data, "h.csv")
    assert fast.problems == slow.problems and fast.records == slow.records == []
    assert {p.code for p in fast.problems} == {"seed.hex_secret"} and len(fast.problems) == 300


def test_an_explicit_base32_is_taken_at_its_word() -> None:
    options = ReadOptions(secret_encoding="base32")
    result = read_seeds(_hex_only_base32_letters(3), "ab.csv", None, options)
    assert result.problems == [] and [len(r.secret) for r in result.records] == [20, 20, 20]


def test_hex_secret_key_in_entra_json() -> None:
    data = (
        '{"@context": "#$delta", "value": [{"@contentId": "1", "serialNumber": "20250001", '
        f'"manufacturer": "V", "model": "M", "secretKey": "{mk.S1_HEX}", '
        '"timeIntervalInSeconds": 30}]}'
    ).encode()
    result = read_seeds(data, "t.json")
    found = [(p.code, p.locator) for p in result.errors]
    assert found == [("seed.hex_secret", "t.json:$.value[0]")]
    fixed = read_seeds(data, "t.json", None, ReadOptions(secret_encoding="hex"))
    assert [code_at(r, AT) for r in fixed.records] == [S1_CODE]


# -- 4. Windows-1252 ---------------------------------------------------------------------------
def test_windows_1252_names_are_decoded_with_a_warning() -> None:
    result = read("entra-cp1252-feitian.csv")
    assert [p.code for p in result.problems] == ["seed.not_utf8"]
    assert "save the file as UTF-8" in result.problems[0].message
    assert [(r.manufacturer, r.model, r.user) for r in result.records] == [
        ("Feitian Ü", "c200 Größe M", "jürgen@example.com"),
        ("Feitian Ü", "OTP c100 – €", ""),  # 0x96 and 0x80: Windows-1252, not Latin-1
    ]
    assert [code_at(r, AT) for r in result.records] == [S1_CODE, S2_CODE]


# -- 6. PSKC prefixes and DeviceInfo serials, on both lanes -----------------------------------
def _both_lanes(name: str) -> tuple[ReadResult, ReadResult]:
    data = sample(name)
    fast = ReadResult("pskc", name)
    assert read_fast(data, name, ReadOptions(), fast) == (True, None), "the fast lane declined"
    slow = ReadResult("pskc", name)
    _Reader(data, name, ReadOptions(), slow).run()
    assert (fast.records, fast.locators, fast.problems) == (
        slow.records,
        slow.locators,
        slow.problems,
    )
    return fast, slow


def test_pskc_with_odd_namespace_prefixes() -> None:
    fast, _ = _both_lanes("pskc-odd-prefixes.pskcxml")
    assert b"<pskc:KeyContainer" in sample("pskc-odd-prefixes.pskcxml")
    assert fast.problems == []
    assert [(r.serial, r.manufacturer, r.model) for r in fast.records] == [
        ("20250001", "ExampleVendor", "DemoTOTP"),
        ("20250004", "ExampleVendor", "DemoTOTP"),
    ]
    assert [code_at(r, AT) for r in fast.records] == [S1_CODE, S1_CODE]
    assert read("pskc-odd-prefixes.pskcxml").records == fast.records


def test_pskc_serials_from_deviceinfo_only() -> None:
    fast, _ = _both_lanes("pskc-deviceinfo-serials.pskcxml")
    # no Key Id (and a "serial:slot" Id): the serial is DeviceInfo/SerialNo, leading zeros kept,
    # with no "serial from the key Id" warning
    assert fast.problems == []
    assert [r.serial for r in fast.records] == ["0020250001", "0020250005"]
    assert [code_at(r, AT) for r in fast.records] == [S1_CODE, S1_CODE]


# -- 7. 8 digits and SHA-256 against Entra's rules ---------------------------------------------
def test_eight_digit_sha256_token_reads_and_entra_says_why_not() -> None:
    result = read("pskc-8digit-sha256.pskcxml")
    [record] = result.records
    assert (record.digits, record.algorithm) == (8, HashAlgorithm.SHA256)
    assert code_at(record, 59) == "46119246"  # RFC 6238 Appendix B, SHA-256
    from oathdesk.formats import check_target

    [problem] = check_target(result.records, result.locators, "entra")
    assert problem.code == "entra.digits" and problem.is_error  # SHA-256 itself is fine
    assert "6-digit" in problem.message and "ask the vendor for 6-digit" in problem.message


def test_sha256_goes_to_entra_json_not_the_legacy_csv() -> None:
    result = read("entra-sha256-graph.csv")
    [record] = result.records
    assert record.algorithm is HashAlgorithm.SHA256 and code_at(record, AT) == "252945"
    with pytest.raises(SeedFileInvalid) as caught:
        write(result.records, "entra-csv")
    [problem] = caught.value.problems
    assert problem.code == "entra.csv_sha256" and "--to entra-json" in problem.message
    assert b'"hashFunction": "hmacsha256"' in write(result.records, "entra-json")


# -- the read-ahead count ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "fmt", "count"),
    [
        ("excel-unicode-text.txt", "entra-csv", 2),
        ("entra-timeinterval.csv", "entra-csv", 2),
        ("pskc-odd-prefixes.pskcxml", "pskc", 2),
        ("pskc-deviceinfo-serials.pskcxml", "pskc", 2),
        ("pskc-8digit-sha256.pskcxml", "pskc", 1),
    ],
)
def test_token_count_before_reading(name: str, fmt: str, count: int) -> None:
    data = utf16_to_utf8(sample(name), name)
    assert count_tokens(data, fmt) == count == len(read(name).records)


def test_token_count_of_json_and_headerless_files() -> None:
    body = base64.b64encode(b"x").decode()
    assert count_tokens(b'[{"serialNumber": "1"}, {"serialNumber": "2"}]', "entra-json") == 2
    assert count_tokens(b"1,aa\n2,bb\n\n3,cc", "duo-csv") == 3
    xml = f"<data><tokens><token>{body}</token></tokens></data>".encode()
    assert count_tokens(xml, "dualshield-xml") == 1


# -- progress across the PSKC lanes ------------------------------------------------------------
def _signed_pskc(signature_first: bool) -> bytes:
    packages = "".join(
        mk._package("", f"2025000{n}", f"2025000{n}", bytes.fromhex(mk.S1_HEX)) for n in range(3)
    )
    signature = '  <Signature xmlns="http://www.w3.org/2000/09/xmldsig#"/>\n'
    body = signature + packages if signature_first else packages + signature
    return (f'<KeyContainer xmlns="{mk.PSKC_NS}" Version="1.0">\n{body}</KeyContainer>\n').encode()


@pytest.mark.parametrize("signature_first", [True, False])
def test_pskc_progress_counts_each_package_once(signature_first: bool) -> None:
    # a <Signature> sends the file to the careful reader: before any package, or after the
    # fast lane has already reported three
    told: list[int] = []
    result = read_seeds(
        _signed_pskc(signature_first), "s.pskcxml", None, ReadOptions(progress=told.append)
    )
    assert len(result.records) == 3
    assert [p.code for p in result.problems] == ["seed.pskc_signature_unchecked"]
    assert sum(told) == 3 and all(n > 0 for n in told)


def test_utf16_json_from_windows_powershell_reads() -> None:
    # Windows PowerShell 5.1's Out-File (and ">") writes UTF-16 LE with a BOM
    utf8 = (Path(__file__).parent / "samples" / "valid" / "entra.json").read_bytes()
    utf16 = utf8.decode("utf-8").encode("utf-16")
    assert utf16[:2] in (b"\xff\xfe", b"\xfe\xff")
    result = read_seeds(utf16, "entra.json")
    assert result.format == "entra-json" and result.errors == []
    assert result.records == read_seeds(utf8, "entra.json").records
