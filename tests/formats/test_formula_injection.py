"""CSV formula injection: reported when read, neutralised in every CSV written, kept on request.

Why: a seed or export CSV is opened in a spreadsheet by someone; a field starting with ``=``,
``+``, ``-``, ``@``, a tab or a CR runs as a formula there (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from oathdesk.delivery.building import render
from oathdesk.domain import OtpKind, Secret, SeedRecord
from oathdesk.formats import FORMAT_IDS, WriteOptions, read_seeds, write_seeds
from oathdesk.formats.csv_engine import load_profile

VALID = Path(__file__).parent / "samples" / "valid"
FORMULA = '=HYPERLINK("http://evil.example/x")'
PAYLOAD_SERIAL = "-2+3+cmd|' /C calc'!A0"
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CSV_FORMATS = [f for f in FORMAT_IDS if f.endswith("-csv")]

SEED_FILE = (
    "upn,serial number,secret key,time interval,manufacturer,model\r\n"
    "alice@example.com,20250001,HJ7QZHS3FVAYN4HB2LB3JJMWQ54GSWSL,30,ExampleVendor,DemoTOTP\r\n"
    "bob@example.com,20250002,YD764AJDIVTYTK6N54ASGRLHRHPK3PXP,30,@Vendor,"
    f'"{FORMULA.replace(chr(34), chr(34) * 2)}"\r\n'
)


def _record(serial: str, text: str) -> SeedRecord:
    return SeedRecord(
        serial=serial,
        secret=Secret(bytes(range(20))),
        kind=OtpKind.TOTP,
        manufacturer=text,
        model=text,
        user="",
        display_name=text,
    )


def _options(fmt: str, keep: bool = False) -> WriteOptions:
    profile = None
    if fmt == "custom-csv":
        profile = load_profile((VALID / "acme-profile.toml").read_bytes(), "acme-profile.toml")
    return WriteOptions(profile=profile, keep_formulas=keep)


def _cells(data: bytes) -> list[str]:
    text = data.decode("utf-8-sig")
    rows = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith("#")]
    return [c for row in rows for c in row]


def test_reading_warns_with_file_line_and_column() -> None:
    result = read_seeds(SEED_FILE.encode(), "vendor.csv")
    assert len(result.records) == 2 and not result.errors
    found = [p for p in result.problems if p.code == "seed.formula_prefix"]
    assert [(p.locator, p.serial) for p in found] == [
        ("vendor.csv:3", "20250002"),
        ("vendor.csv:3", "20250002"),
    ]
    assert not any(p.is_error for p in found)
    assert "column 'manufacturer'" in found[0].message
    assert "column 'model'" in found[1].message and "'='" in found[1].message


def test_a_clean_file_and_a_signed_number_serial_give_no_warning() -> None:
    clean = (VALID / "entra-upn.csv").read_bytes()
    assert not [p for p in read_seeds(clean, "e.csv").problems if p.code == "seed.formula_prefix"]
    signed = clean.replace(b"20250001", b"-20250001")
    assert not [p for p in read_seeds(signed, "e.csv").problems if p.code == "seed.formula_prefix"]


@pytest.mark.parametrize("fmt", CSV_FORMATS)
def test_every_csv_format_writes_formulas_neutralised(fmt: str) -> None:
    text = FORMULA if fmt != "oath-csv" else "=1+2"
    records = [_record(PAYLOAD_SERIAL, text), _record("-0042", "plain")]
    data = write_seeds(records, fmt, _options(fmt))
    cells = _cells(data)
    assert not [c for c in cells if c.startswith(TRIGGERS) and c != "-0042"], cells
    assert "'" + PAYLOAD_SERIAL in cells
    assert "-0042" in cells  # a serial that is a signed number stays as it is


@pytest.mark.parametrize("fmt", CSV_FORMATS)
def test_keep_formulas_writes_the_raw_value(fmt: str) -> None:
    records = [_record(PAYLOAD_SERIAL, "plain")]
    cells = _cells(write_seeds(records, fmt, _options(fmt, keep=True)))
    assert PAYLOAD_SERIAL in cells and "'" + PAYLOAD_SERIAL not in cells


def test_text_fields_are_neutralised_in_entra_csv() -> None:
    data = write_seeds([_record("20250001", FORMULA)], "entra-csv", WriteOptions())
    cells = _cells(data)
    assert "'" + FORMULA in cells and FORMULA not in cells


def test_delivery_files_neutralise() -> None:
    data = render([_record(PAYLOAD_SERIAL, FORMULA)], "entra-csv", None)
    cells = _cells(data)
    assert "'" + PAYLOAD_SERIAL in cells and "'" + FORMULA in cells
