"""Every valid sample is detected as its format and decodes to the bytes that give the right codes;
every broken sample fails with its documented code at its documented place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from oathdesk.domain import OtpKind, SeedFileInvalid, SeedRecord
from oathdesk.formats import ReadOptions, detect, read_seeds
from oathdesk.formats.csv_engine import load_profile
from oathdesk.otp import hotp, totp

SAMPLES = Path(__file__).parent / "samples"
VALID = json.loads((SAMPLES / "valid" / "expected.json").read_text())
INVALID = json.loads((SAMPLES / "invalid" / "expected.json").read_text())
AT = 1_700_000_000


def code_of(record: SeedRecord) -> str:
    if record.kind is OtpKind.HOTP:
        return hotp(record.secret, record.counter, digits=record.digits, algorithm=record.algorithm)
    return totp(
        record.secret, AT, period=record.period, digits=record.digits, algorithm=record.algorithm
    )


def _options(spec: dict[str, Any], folder: Path) -> ReadOptions:
    if "profile" not in spec:
        return ReadOptions()
    path = folder / spec["profile"]
    return ReadOptions(profile=load_profile(path.read_bytes(), str(path)))


@pytest.mark.parametrize("name", sorted(k for k in VALID if not k.startswith("_")))
def test_valid_sample_decodes_to_the_right_codes(name: str) -> None:
    spec = VALID[name]
    folder = SAMPLES / "valid"
    data = (folder / name).read_bytes()
    options = _options(spec, folder)
    if spec["format"] != "custom-csv":
        assert detect(data, name).id == spec["format"]
    result = read_seeds(data, name, None, options)
    assert result.format == spec["format"]
    assert result.errors == []
    assert sorted(p.code for p in result.problems) == sorted(spec.get("warnings", []))
    assert len(result.records) == len(spec["tokens"])
    for record, expected in zip(result.records, spec["tokens"], strict=True):
        described = record.describe()
        for key, value in expected.items():
            if key == "code":
                assert code_of(record) == value, record.serial
            else:
                assert described[key] == value, (record.serial, key)


@pytest.mark.parametrize("name", sorted(k for k in INVALID if not k.startswith("_")))
def test_broken_sample_reports_code_and_locator(name: str) -> None:
    spec = INVALID[name]
    folder = SAMPLES / "invalid"
    result = read_seeds((folder / name).read_bytes(), name, spec["from"], _options(spec, folder))
    matching = [p for p in result.errors if p.code == spec["code"]]
    assert matching, [p.to_dict() for p in result.problems]
    problem = matching[0]
    assert problem.locator.startswith(spec["locator"])
    if "serial" in spec:
        assert problem.serial == spec["serial"]
    if "message_contains" in spec:
        assert spec["message_contains"] in problem.message
    # all or nothing: the file as a whole is refused
    with pytest.raises(SeedFileInvalid) as info:
        result.raise_if_invalid()
    assert info.value.code == "seed.invalid"
    assert name in str(info.value)
