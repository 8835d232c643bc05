"""Checks that apply to every format's records, and the target checks (``--target entra``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence

from oathdesk.domain import HashAlgorithm, OtpKind, Problem, SeedRecord, Severity
from oathdesk.formats.base import Capabilities

SUPPORTED_DIGITS = frozenset({6, 7, 8})
MAX_PERIOD = 600
_EXPONENT = re.compile(r"^\s*\d+(?:[.,]\d+)?[eE][+-]\d+\s*$")  # Excel always signs it

ENTRA_PERIODS = frozenset({30, 60})
ENTRA_ALGORITHMS = frozenset({HashAlgorithm.SHA1, HashAlgorithm.SHA256})
ENTRA_MAX_BASE32 = 128
TARGETS = ("entra",)


def serial_problem(serial: str, locator: str) -> Problem | None:
    """Excel damage and emptiness in a serial, or ``None`` when it looks sound."""
    if not serial.strip():
        return Problem(locator, "seed.missing_serial", "the serial number is empty")
    if _EXPONENT.match(serial):
        return Problem(
            locator,
            "seed.serial_exponent",
            f"serial {serial!r} is in Excel exponent form: its digits are lost. Take the serial "
            "from the vendor's original file (do not open it in Excel)",
            serial=serial,
        )
    return None


def _distinct(
    records: Sequence[SeedRecord], key: Callable[[SeedRecord], Hashable]
) -> list[SeedRecord]:
    """One record per distinct ``key`` (the fields a check reads), the first record first.

    A check that finds nothing in these finds nothing in all: 100,000 tokens of one model are
    checked as one, and only a file with a problem is walked token by token for the report.
    """
    if not records:
        return []
    chosen = {key(record): record for record in reversed(records)}
    first = records[0]
    return [first, *(r for r in chosen.values() if r is not first)]


def check_records(records: Sequence[SeedRecord], locators: Sequence[str]) -> list[Problem]:
    """Parameter ranges and duplicate serials, in file order."""
    serials = {record.serial for record in records}
    if len(serials) == len(records):
        sample = _distinct(
            records, lambda r: (r.kind, r.digits, r.period, r.counter < 0, len(r.secret) == 0)
        )
        if not _check_records(sample, ["" for _ in sample]):
            return []
    return _check_records(records, locators)


def _check_records(records: Sequence[SeedRecord], locators: Sequence[str]) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for record, locator in zip(records, locators, strict=True):
        serial = record.serial
        if record.digits not in SUPPORTED_DIGITS:
            problems.append(
                Problem(
                    locator,
                    "seed.unsupported_digits",
                    f"{record.digits} digits is not supported; hardware tokens show 6 or 8",
                    serial=serial,
                )
            )
        if record.kind is OtpKind.TOTP and not 0 < record.period <= MAX_PERIOD:
            problems.append(
                Problem(
                    locator,
                    "seed.unsupported_period",
                    f"time step {record.period} s is not supported; use 30 or 60",
                    serial=serial,
                )
            )
        if record.counter < 0:
            problems.append(
                Problem(
                    locator, "seed.invalid_counter", "the HOTP counter is negative", serial=serial
                )
            )
        if not record.secret:
            problems.append(
                Problem(locator, "seed.secret_empty", "the secret is empty", serial=serial)
            )
        if serial in seen:
            problems.append(
                Problem(
                    locator,
                    "seed.duplicate_serial",
                    f"serial {serial} appears twice in the file (first at {seen[serial]})",
                    serial=serial,
                )
            )
        else:
            seen[serial] = locator
    return problems


def check_target(
    records: Sequence[SeedRecord], locators: Sequence[str], target: str
) -> list[Problem]:
    """Rules a destination enforces. Only ``entra`` is defined: Graph's hardware OATH rules."""
    if target != "entra":
        raise ValueError(f"unknown target {target!r}")
    sample = _distinct(
        records,
        lambda r: (
            r.kind,
            r.digits,
            r.period,
            r.algorithm,
            r.t0,
            len(r.secret),
            r.manufacturer,
            r.model,
        ),
    )
    if not _check_entra(sample, ["" for _ in sample]):
        return []
    return _check_entra(records, locators)


def _base32_length(size: int) -> int:
    """Characters of unpadded base32 for ``size`` bytes, without encoding anything."""
    return -(-size * 8 // 5)


def _check_entra(records: Sequence[SeedRecord], locators: Sequence[str]) -> list[Problem]:
    problems: list[Problem] = []
    for record, locator in zip(records, locators, strict=True):

        def bad(
            code: str, message: str, locator: str = locator, serial: str = record.serial
        ) -> None:
            problems.append(Problem(locator, f"entra.{code}", message, Severity.ERROR, serial))

        if record.kind is not OtpKind.TOTP:
            bad("not_totp", "Entra accepts TOTP tokens only; this is an HOTP token")
        if record.digits != 6:
            bad(
                "digits",
                f"Entra accepts 6-digit codes only; this token shows {record.digits}, so Entra "
                "could never verify it. Keep it out of Entra, or ask the vendor for 6-digit "
                "tokens (a programmable token can be set to 6 digits)",
            )
        if record.kind is OtpKind.TOTP and record.period not in ENTRA_PERIODS:
            bad("period", f"Entra accepts a 30 or 60 s time step, not {record.period} s")
        if record.algorithm not in ENTRA_ALGORITHMS:
            bad(
                "hash",
                f"Entra accepts SHA-1 or SHA-256, not {record.algorithm.value.upper()}; keep "
                "this token out of Entra, or ask the vendor for SHA-1 or SHA-256 tokens",
            )
        if record.t0:
            bad("t0", "Entra assumes T0 = 0; this token starts at another time")
        if _base32_length(len(record.secret)) > ENTRA_MAX_BASE32:
            bad(
                "secret_too_long",
                f"the secret is {len(record.secret)} bytes; Entra takes at most "
                f"{ENTRA_MAX_BASE32} base32 characters (80 bytes)",
            )
        if not record.manufacturer.strip():
            bad("missing_manufacturer", "Entra requires a manufacturer; pass --manufacturer")
        if not record.model.strip():
            bad("missing_model", "Entra requires a model; pass --model")
    return problems


def check_capabilities(
    records: Sequence[SeedRecord], caps: Capabilities, fmt: str
) -> list[Problem]:
    """What a writer cannot express, per token; a conversion never drops a property silently."""
    sample = _distinct(
        records, lambda r: (r.kind, r.digits, r.period, r.algorithm, r.t0 != 0, len(r.secret))
    )
    if not _check_capabilities(sample, caps, fmt):
        return []
    return _check_capabilities(records, caps, fmt)


def _check_capabilities(
    records: Sequence[SeedRecord], caps: Capabilities, fmt: str
) -> list[Problem]:
    problems: list[Problem] = []
    first = records[0] if records else None
    for index, record in enumerate(records, start=1):
        locator = f"token {index}"

        def bad(message: str, locator: str = locator, serial: str = record.serial) -> None:
            problems.append(Problem(locator, "seed.not_expressible", message, serial=serial))

        if record.kind not in caps.kinds:
            bad(f"{fmt} cannot hold {record.kind.value.upper()} tokens")
        if record.digits not in caps.digits:
            bad(f"{fmt} cannot hold {record.digits}-digit tokens")
        if (
            record.kind is OtpKind.TOTP
            and caps.periods is not None
            and record.period not in caps.periods
        ):
            allowed = ", ".join(str(p) for p in sorted(caps.periods))
            bad(f"{fmt} cannot hold a {record.period} s time step (only {allowed})")
        if fmt == "entra-csv" and record.algorithm is HashAlgorithm.SHA256:
            problems.append(
                Problem(
                    locator,
                    "entra.csv_sha256",
                    "the Entra CSV upload has no hash column and Entra takes its tokens as "
                    "SHA-1, so this SHA-256 token would never verify. Write entra-json instead "
                    "(--to entra-json sends hashFunction hmacsha256), or import the file and push "
                    "it to Entra through Graph",
                    serial=record.serial,
                )
            )
        elif record.algorithm not in caps.algorithms:
            bad(f"{fmt} cannot hold {record.algorithm.value.upper()} tokens")
        if record.t0 and not caps.t0:
            bad(f"{fmt} cannot hold a non-zero T0")
        if caps.max_secret_bytes is not None and len(record.secret) > caps.max_secret_bytes:
            bad(
                f"{fmt} holds secrets of at most {caps.max_secret_bytes} bytes, "
                f"not {len(record.secret)}"
            )
        if caps.exact_secret_bytes is not None and len(record.secret) != caps.exact_secret_bytes:
            bad(
                f"{fmt} holds {caps.exact_secret_bytes}-byte secrets only, not {len(record.secret)}"
            )
        if (
            caps.uniform
            and first is not None
            and (
                (record.kind, record.digits, record.algorithm)
                != (first.kind, first.digits, first.algorithm)
            )
        ):
            bad(
                f"{fmt} holds one token type per file; split the file by type "
                f"(first token is {first.kind.value.upper()} {first.digits} digits)"
            )
    return problems
