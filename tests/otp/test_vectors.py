"""The published RFC 4226 and RFC 6238 tables, read from data files, across every hash."""

from __future__ import annotations

import hmac
import struct

import pytest

from oathdesk.domain import HashAlgorithm, OtpKind, Secret
from oathdesk.otp import OtpKey, OtpSpec, hotp, match_totp, time_step, totp
from tests.otp.tables import RFC6238_SEEDS, RFC_SEED_SHA1, rows

RFC4226 = rows("rfc4226.csv")
RFC6238 = rows("rfc6238.csv")
DESIGN = rows("design-examples.csv")


def test_the_tables_are_complete() -> None:
    assert len(RFC4226) == 10
    assert len(RFC6238) == 18
    assert {r["algorithm"] for r in RFC6238} == {a.value for a in HashAlgorithm}


@pytest.mark.parametrize("row", RFC4226, ids=lambda r: f"counter-{r['counter']}")
def test_rfc4226_intermediate_values_and_code(row: dict[str, str]) -> None:
    counter = int(row["counter"])
    digest = hmac.digest(RFC_SEED_SHA1, struct.pack(">Q", counter), "sha1")
    assert digest.hex() == row["hmac_sha1"]
    offset = digest[-1] & 0x0F
    truncated = int.from_bytes(digest[offset : offset + 4]) & 0x7FFFFFFF
    assert truncated == int(row["truncated_hex"], 16) == int(row["truncated_decimal"])
    assert hotp(RFC_SEED_SHA1, counter) == row["hotp"]
    assert hotp(Secret(RFC_SEED_SHA1), counter) == row["hotp"]
    assert OtpKey(RFC_SEED_SHA1, OtpSpec(OtpKind.HOTP)).code(counter) == row["hotp"]


@pytest.mark.parametrize("row", RFC6238, ids=lambda r: f"{r['algorithm']}-{r['unix_time']}")
def test_rfc6238_table(row: dict[str, str]) -> None:
    algorithm = HashAlgorithm(row["algorithm"])
    seed, at = RFC6238_SEEDS[algorithm], int(row["unix_time"])
    assert time_step(at) == int(row["step_hex"], 16)
    assert totp(seed, at, digits=8, algorithm=algorithm) == row["totp"]
    key = OtpKey(Secret(seed), OtpSpec(digits=8, algorithm=algorithm))
    assert key.code_at(at) == row["totp"]
    assert key.code(int(row["step_hex"], 16)) == row["totp"]
    assert match_totp(seed, row["totp"], at, digits=8, algorithm=algorithm, window=0) == int(
        row["step_hex"], 16
    )


def test_rfc6238_leading_zero_survives() -> None:
    assert totp(RFC_SEED_SHA1, 1111111109, digits=8) == "07081804"
    assert match_totp(RFC_SEED_SHA1, "7081804", 1111111109, digits=8) is None


@pytest.mark.parametrize("row", DESIGN, ids=lambda r: f"{r['kind']}-{r['code']}")
def test_design_examples(row: dict[str, str]) -> None:
    secret = Secret.from_hex(row["secret_hex"])
    algorithm = HashAlgorithm(row["algorithm"])
    if row["kind"] == "totp":
        code = totp(secret, int(row["moving"]), period=int(row["period"]), algorithm=algorithm)
    else:
        code = hotp(secret, int(row["moving"]), algorithm=algorithm)
    assert code == row["code"]
