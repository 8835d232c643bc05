"""The fast lanes give what the careful readers give: same records, locators and problems.

Each fast lane (CSV blocks and rows in ``csv_fast``, PSKC in ``pskc_fast``, the base32 and
record helpers in ``_fast``, the entra-json writer) is compared with the careful path it
stands in for, on every sample file and on generated files with problems sown in.
"""

from __future__ import annotations

import base64
import json
import os
import random
from pathlib import Path

import pytest

from oathdesk.domain import HashAlgorithm, OtpKind, Secret, SeedFileError, SeedRecord
from oathdesk.formats import (
    ReadOptions,
    ReadResult,
    WriteOptions,
    csv_fast,
    csv_io,
    read_seeds,
    write_seeds,
)
from oathdesk.formats._fast import (
    b32decode_plain,
    b32encode_many,
    b32encode_plain,
    make_record,
    secret_from_bytes,
)
from oathdesk.formats.csv_engine import FIELD_LIMIT, Column
from oathdesk.formats.csv_fast import Plan, read_block
from oathdesk.formats.entra_json import GUID
from oathdesk.formats.pskc import _Reader
from oathdesk.formats.pskc_fast import read_fast

SAMPLES = Path(__file__).parent / "samples"
CSV_SAMPLES = sorted(
    p for p in [*SAMPLES.glob("valid/*.csv"), *SAMPLES.glob("invalid/*.csv")] if p.is_file()
)


def _careful(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send every row through ``_Row``, as before the fast lanes."""
    monkeypatch.setattr(csv_io, "read_block", lambda *args, **kwargs: None)
    monkeypatch.setattr(csv_fast.FastRow, "__call__", lambda self, cells: None)


def _same(fast: ReadResult, careful: ReadResult) -> None:
    assert fast.records == careful.records
    assert fast.locators == careful.locators
    assert fast.problems == careful.problems


def _fmt(path: Path) -> str | None:
    return "duo-csv" if path.name.startswith("duo") else None


@pytest.mark.parametrize("path", CSV_SAMPLES, ids=lambda p: p.name)
def test_csv_samples_read_the_same_through_the_fast_lanes(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = path.read_bytes()
    try:
        fast = read_seeds(data, path.name, _fmt(path))
    except Exception as exc:  # a format error must stay the same error
        _careful(monkeypatch)
        with pytest.raises(type(exc)):
            read_seeds(data, path.name, _fmt(path))
        return
    _careful(monkeypatch)
    _same(fast, read_seeds(data, path.name, _fmt(path)))


def _big_csv(rows: int, sow: dict[int, str]) -> bytes:
    rng = random.Random(7)
    lines = ["serial number,secret key,time interval,manufacturer,model"]
    for i in range(rows):
        secret = b32encode_plain(rng.randbytes(rng.choice([10, 20, 20, 20, 32])))
        lines.append(sow.get(i, f"{1000 + i},{secret},{rng.choice([30, 60])},Vendor,Mödel {i % 3}"))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


@pytest.mark.parametrize(
    "sow",
    [
        {},
        {5: "", 9000: "   "},  # blank lines move the line numbers of the rest
        {10: "1E+07,JBSWY3DPEHPK3PXP,30,V,M", 12000: "x,JBSWY3DPEHPK3PX,30,V,M"},
        {3: '"quoted",JBSWY3DPEHPK3PXP,30,"V, Inc",M', 8500: "7,jbsw y3dp ehpk 3pxp,30,V,M"},
        {100: "8,JBSWY3DPEHPK3PXP,thirty,V,M", 101: "9,JBSWY3DPEHPK3PXP,30,,M"},
        {200: "1001,JBSWY3DPEHPK3PXP,30,V,M", 300: "10,00112233445566778899,30,V,M"},
        {400: "11,JBSWY3DPEHPK3PXP,30,V", 401: "12,JBSWY3DPEHPK3PXP,30,V,M,extra"},
    ],
)
def test_a_large_csv_reads_the_same_with_problems_sown_in(
    sow: dict[int, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _big_csv(20_000, sow)
    fast = read_seeds(data, "big.csv", "entra-csv")
    _careful(monkeypatch)
    _same(fast, read_seeds(data, "big.csv", "entra-csv"))


PSKC_CASES = [
    ("design-6a-plain.pskcxml", ReadOptions()),
    ("design-6c-passphrase.pskcxml", ReadOptions(passphrase=Secret(b"Tr0ub4dor&3"))),
    ("rfc6030-figure7-pbkdf2.pskcxml", ReadOptions(passphrase=Secret(b"qwerty"))),
]


def _pskc_both(data: bytes, options: ReadOptions) -> tuple[bool, ReadResult, ReadResult]:
    fast = ReadResult(format="pskc", source="f")
    done, _ = read_fast(data, "f", options, fast)
    careful = ReadResult(format="pskc", source="f")
    _Reader(data, "f", options, careful).run()
    return done, fast, careful


@pytest.mark.parametrize(("name", "options"), PSKC_CASES)
def test_pskc_samples_read_the_same_when_the_lane_takes_them(
    name: str, options: ReadOptions
) -> None:
    done, fast, careful = _pskc_both((SAMPLES / "xml" / name).read_bytes(), options)
    if done:
        _same(fast, careful)
    else:
        assert not fast.records


def _pskc_file(count: int, **write: object) -> bytes:
    rng = random.Random(3)
    records = [
        SeedRecord(
            serial=f"{5000 + i}",
            secret=Secret(rng.randbytes(20)),
            kind=OtpKind.HOTP if i % 5 == 0 else OtpKind.TOTP,
            counter=i if i % 5 == 0 else 0,
            digits=8 if i % 3 == 0 else 6,
            algorithm=HashAlgorithm.SHA256 if i % 2 else HashAlgorithm.SHA1,
            manufacturer="Vendor",
            model="M1",
        )
        for i in range(count)
    ]
    return write_seeds(records, "pskc", WriteOptions(**write))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("write", "options"),
    [
        ({}, ReadOptions()),
        (
            {"passphrase": Secret(b"pw"), "pbkdf2_iterations": 1000},
            ReadOptions(passphrase=Secret(b"pw")),
        ),
        ({"pskc_key": Secret(bytes(range(16)))}, ReadOptions(pskc_key=Secret(bytes(range(16))))),
    ],
)
def test_generated_pskc_takes_the_lane_and_reads_the_same(
    write: dict[str, object], options: ReadOptions
) -> None:
    done, fast, careful = _pskc_both(_pskc_file(300, **write), options)
    assert done
    assert len(fast.records) == 300
    _same(fast, careful)


@pytest.mark.parametrize(
    "place",
    ["after the last package", "between packages", "before the first", "nested in a package"],
)
def test_an_element_beside_the_packages_is_left_to_the_careful_reader(place: str) -> None:
    """The lane hears only the end of KeyPackage, EncryptionKey and MACMethod elements; what
    else sits in the container is found by counting what is left in it, and declined."""
    data = _pskc_file(6)
    extra = b"<pskc:Signature>x</pskc:Signature>"
    packages = [i for i in range(len(data)) if data.startswith(b"<pskc:KeyPackage>", i)]
    if place == "after the last package":
        at = data.index(b"</pskc:KeyContainer>")
    elif place == "between packages":
        at = packages[3]
    elif place == "before the first":
        at = packages[0]
    else:
        at, extra = packages[2] + len(b"<pskc:KeyPackage>"), b"<pskc:MACMethod/>"
    done, fast, careful = _pskc_both(data[:at] + extra + data[at:], ReadOptions())
    assert not done and not fast.records
    assert read_seeds(data[:at] + extra + data[at:], "f", "pskc").records == careful.records
    assert _pskc_both(data, ReadOptions())[0]  # the same file without it takes the lane


def test_a_tampered_value_is_left_to_the_careful_reader() -> None:
    data = _pskc_file(20, passphrase=Secret(b"pw"), pbkdf2_iterations=1000)
    start = data.index(b"<pskc:ValueMAC>") + len(b"<pskc:ValueMAC>")
    tampered = (
        data[:start] + (b"A" if data[start : start + 1] != b"A" else b"B") + data[start + 1 :]
    )
    result = read_seeds(tampered, "t.pskc", "pskc", ReadOptions(passphrase=Secret(b"pw")))
    assert [p.code for p in result.errors] == ["seed.pskc_mac_mismatch"]
    assert len(result.records) == 19


def test_base32_helpers_match_the_standard_library() -> None:
    rng = random.Random(1)
    values = [rng.randbytes(rng.randrange(0, 90)) for _ in range(500)]
    expected = [base64.b32encode(v).decode().rstrip("=") for v in values]
    assert [b32encode_plain(v) for v in values] == expected
    assert b32encode_many(values) == expected
    assert [b32decode_plain(e) for e in expected if e] == [v for v in values if v]
    for refused in ("", "JBSWY3DP=", "jbswy3dp", "JBSW Y3DP", "JBSWY3", "JBSWY3D1", "ÄBSWY3DP"):
        assert b32decode_plain(refused) is None


def test_records_and_secrets_made_fast_are_the_real_thing() -> None:
    secret = secret_from_bytes(b"\x01" * 20)
    assert type(secret) is Secret and secret == Secret(b"\x01" * 20)
    assert "01" not in repr(secret)
    values = ("7", secret, OtpKind.HOTP, 30, 5, 8, HashAlgorithm.SHA256, 9, "m", "n", "u", "d")
    record = make_record(*values)
    assert type(record) is SeedRecord and record == SeedRecord(*values)
    with pytest.raises(AttributeError):
        record.serial = "8"  # type: ignore[misc]


def test_entra_json_is_byte_for_byte_what_json_dumps_writes() -> None:
    rng = random.Random(5)
    alphabet = 'abcÄé"\\\n\t\x01€😀 /<>%s%d'

    def text() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 7)))

    records = [
        SeedRecord(
            serial=text() or "1",
            secret=Secret(os.urandom(rng.choice([10, 16, 20, 32, 64]))),
            period=rng.choice([30, 60]),
            algorithm=rng.choice([HashAlgorithm.SHA1, HashAlgorithm.SHA256]),
            manufacturer=text(),
            model=text(),
            display_name=text(),
            user=rng.choice(["", "a@b", "12345678-1234-1234-1234-123456789abc"]),
        )
        for _ in range(9000)
    ]
    graph = {HashAlgorithm.SHA1: "hmacsha1", HashAlgorithm.SHA256: "hmacsha256"}
    value = []
    for number, r in enumerate(records, start=1):
        item: dict[str, object] = {
            "@contentId": str(number),
            "serialNumber": r.serial,
            "manufacturer": r.manufacturer,
            "model": r.model,
            "secretKey": r.secret.to_base32(),
            "timeIntervalInSeconds": r.period,
            "hashFunction": graph[r.algorithm],
        }
        if r.display_name:
            item["displayName"] = r.display_name
        if r.user and GUID.match(r.user):
            item["assignTo"] = {"id": r.user}
        value.append(item)
    document = {"@context": "#$delta", "value": value}
    expected = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()
    assert write_seeds(records, "entra-json") == expected
    assert (
        write_seeds([], "entra-json")
        == (json.dumps({"@context": "#$delta", "value": []}, indent=2) + "\n").encode()
    )


def test_the_block_lane_refuses_a_field_over_the_csv_limit_itself() -> None:
    """Called on its own, the block lane raises the row lane's coded error, naming the line."""
    columns = [(0, Column("serial", "serial")), (1, Column("secret", "secret"))]
    plan = Plan(columns, {}, "base32")
    lines = ["1,HJ7QZHS3FVAYN4HB2LB3JJMWQ54GSWSL", "2," + "A" * (FIELD_LIMIT + 1)]
    with pytest.raises(SeedFileError) as raised:
        read_block(plan, lines, ",", 2, source="big.csv", first_number=7)
    assert raised.value.code == "seed.field_too_large" and "big.csv:8" in raised.value.message
