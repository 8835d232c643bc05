"""privacyIDEA's "OATH CSV": ``serial, hexkey, type, digits, step|counter`` without a header.

Lines starting ``#`` are comments; a first line ``# version: 2`` adds leading ``user, resolver,
realm`` columns. Fields are split on commas without quoting and trimmed, as privacyIDEA does.
The hash is not written: privacyIDEA infers it from the key length (32 bytes → SHA-256,
64 → SHA-512, else SHA-1), so a token whose hash disagrees with its length cannot be written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar

from oathdesk.domain import HashAlgorithm, OtpKind, Problem, SeedRecord, Severity
from oathdesk.formats.base import Capabilities, ReadOptions, ReadResult, WriteOptions, unsupported
from oathdesk.formats.csv_safety import neutralise
from oathdesk.formats.secret_text import decode_secret
from oathdesk.formats.text import decode_text, looks_binary
from oathdesk.formats.validation import serial_problem

_VERSION = re.compile(r"^#\s*version\s*:\s*(\d+)\s*$", re.IGNORECASE)
_HEX = re.compile(r"^[0-9a-fA-F\s]+$")
_TYPES = {"totp": OtpKind.TOTP, "hotp": OtpKind.HOTP}


def inferred_hash(key_bytes: int) -> HashAlgorithm:
    return {32: HashAlgorithm.SHA256, 64: HashAlgorithm.SHA512}.get(key_bytes, HashAlgorithm.SHA1)


class OathCsv:
    id: ClassVar[str] = "oath-csv"
    title: ClassVar[str] = "privacyIDEA OATH CSV (serial,hexkey,type,digits,step|counter)"
    extensions: ClassVar[tuple[str, ...]] = (".csv", ".txt")
    capabilities: ClassVar[Capabilities] = Capabilities(digits=frozenset({6, 8}))

    def sniff(self, data: bytes) -> int:
        if looks_binary(data):
            return 0
        text, _ = decode_text(data[:8192], "sniff")
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        if lines and _VERSION.match(lines[0]):
            return 2
        rows = [ln for ln in lines if not ln.startswith("#")][:5]
        if not rows:
            return 0
        verdict = 2
        for row in rows:
            cells = [c.strip() for c in row.split(",")]
            if len(cells) < 2 or not _HEX.match(cells[1]) or len(cells[1]) < 20:
                return 0
            if len(cells) >= 3:
                if cells[2].lower() not in _TYPES:
                    return 0
            else:
                verdict = 1  # serial,hexkey alone is also a Duo line
        return verdict

    def read(self, data: bytes, source: str, options: ReadOptions) -> ReadResult:
        result = ReadResult(format=self.id, source=source)
        text, problems = decode_text(data, source)
        result.problems.extend(problems)
        version = 1
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if not stripped:
                continue
            match = _VERSION.match(stripped)
            if match:
                version = int(match.group(1))
                continue
            if stripped.startswith("#"):
                continue
            locator = f"{source}:{number}"
            cells = [c.strip() for c in stripped.split(",")]
            user = ""
            if version >= 2:
                user, cells = (cells[0] if cells else ""), cells[3:]
            record = self._row(cells, user, locator, options, result.problems)
            if record is not None:
                result.add(record, locator)
        if not result.records and not result.errors:
            result.problems.append(Problem(source, "seed.empty", "the file holds no tokens"))
        return result

    def _row(
        self,
        cells: list[str],
        user: str,
        locator: str,
        options: ReadOptions,
        problems: list[Problem],
    ) -> SeedRecord | None:
        start = len(problems)
        if len(cells) < 2 or not cells[0] or not cells[1]:
            problems.append(
                Problem(locator, "seed.missing_field", "a line needs at least serial and hex key")
            )
            return None
        serial = cells[0]
        bad_serial = serial_problem(serial, locator)
        if bad_serial is not None:
            problems.append(bad_serial)
        kind = options.kind or OtpKind.HOTP
        if len(cells) > 2 and cells[2]:
            if cells[2].lower() not in _TYPES:
                problems.append(
                    Problem(
                        locator,
                        "seed.unsupported_kind",
                        f"token type {cells[2]!r} is not totp or hotp "
                        "(OCRA and TAN lines are not seed tokens)",
                        serial=serial,
                    )
                )
                return None
            kind = _TYPES[cells[2].lower()]

        def number(index: int, what: str, default: int) -> int:
            if len(cells) <= index or not cells[index]:
                return default
            try:
                return int(cells[index])
            except ValueError:
                problems.append(
                    Problem(
                        locator,
                        "seed.invalid_number",
                        f"{what} {cells[index]!r} is not a whole number",
                        serial=serial,
                    )
                )
                return default

        digits = number(3, "digits", options.digits or 6)
        fifth = number(4, "step/counter", options.period or 30 if kind is OtpKind.TOTP else 0)
        if len(cells) > 5:
            problems.append(
                Problem(
                    locator,
                    "seed.extra_fields",
                    f"{len(cells) - 5} extra field(s) ignored",
                    Severity.WARNING,
                    serial,
                )
            )
        secret = decode_secret(
            cells[1], options.secret_encoding or "hex", locator, serial, problems
        )
        if secret is None or any(p.is_error for p in problems[start:]):
            return None
        return SeedRecord(
            serial=serial,
            secret=secret,
            kind=kind,
            period=fifth if kind is OtpKind.TOTP else 30,
            counter=fifth if kind is OtpKind.HOTP else 0,
            digits=digits,
            algorithm=options.algorithm or inferred_hash(len(secret)),
            manufacturer=options.manufacturer or "",
            model=options.model or "",
            user=user,
        )

    def write(self, records: Sequence[SeedRecord], options: WriteOptions) -> bytes:
        problems = [
            Problem(
                f"token {i}",
                "seed.not_expressible",
                f"oath-csv infers the hash from the key length: a {len(r.secret)}-byte key "
                f"reads as {inferred_hash(len(r.secret)).value.upper()}, not "
                f"{r.algorithm.value.upper()}",
                serial=r.serial,
            )
            for i, r in enumerate(records, start=1)
            if inferred_hash(len(r.secret)) is not r.algorithm
        ]
        problems += [
            Problem(
                f"token {i}",
                "seed.not_expressible",
                "oath-csv fields cannot contain commas",
                serial=r.serial,
            )
            for i, r in enumerate(records, start=1)
            if "," in r.serial or "," in r.user
        ]
        if problems:
            raise unsupported(problems, self.id)
        with_users = any(r.user for r in records)
        lines = ["# version: 2"] if with_users else []
        keep = options.keep_formulas
        for r in records:
            fifth = r.period if r.kind is OtpKind.TOTP else r.counter
            serial = r.serial if keep else neutralise(r.serial, "serial")
            row = [serial, r.secret.to_hex(), r.kind.value, str(r.digits), str(fifth)]
            if with_users:
                row = [r.user if keep else neutralise(r.user, "user"), "", "", *row]
            lines.append(",".join(row))
        return ("\n".join(lines) + "\n").encode("utf-8")
