"""``--target entra``: each of Entra's rules refuses what it should, with its own code, and
nothing at the edge of what Entra takes is refused."""

from __future__ import annotations

from typing import Any

import pytest

from oathdesk.domain import HashAlgorithm, OtpKind, Secret, SeedRecord
from oathdesk.formats import check_target


def token(**changes: Any) -> SeedRecord:
    base = SeedRecord(
        serial="20250001",
        secret=Secret(bytes(range(20))),
        manufacturer="ExampleVendor",
        model="DemoTOTP",
    )
    return base.with_(**changes)


def codes(record: SeedRecord) -> list[str]:
    return [p.code for p in check_target([record], ["f.csv:2"], "entra")]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"kind": OtpKind.HOTP}, "entra.not_totp"),
        ({"digits": 8}, "entra.digits"),
        ({"period": 45}, "entra.period"),
        ({"algorithm": HashAlgorithm.SHA512}, "entra.hash"),
        ({"t0": 1_700_000_000}, "entra.t0"),
        ({"secret": Secret(bytes(81))}, "entra.secret_too_long"),
        ({"manufacturer": " "}, "entra.missing_manufacturer"),
        ({"model": ""}, "entra.missing_model"),
    ],
)
def test_each_rule_refuses_with_its_own_code(changes: dict[str, Any], code: str) -> None:
    assert codes(token(**changes)) == [code]
    (problem,) = check_target([token(**changes)], ["f.csv:2"], "entra")
    assert (problem.locator, problem.serial, problem.is_error) == ("f.csv:2", "20250001", True)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"period": 60, "algorithm": HashAlgorithm.SHA256},
        {"secret": Secret(bytes(80))},  # 128 base32 characters: the most Entra takes
    ],
)
def test_what_entra_takes_passes(changes: dict[str, Any]) -> None:
    assert codes(token(**changes)) == []


def test_only_entra_is_a_target() -> None:
    with pytest.raises(ValueError, match="unknown target"):
        check_target([token()], ["f.csv:2"], "okta")
