"""Key URI lines (``otpauth://totp/Vendor:SERIAL?secret=...``), one token per line.

The label's account part is the serial (or a ``serial`` parameter when present), the issuer is
the manufacturer; ``model`` and ``user`` travel as extra parameters authenticator apps ignore.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from oathdesk.domain import HashAlgorithm, OtpKind, Problem, SeedRecord, parse_hash
from oathdesk.formats.base import Capabilities, ReadOptions, ReadResult, WriteOptions
from oathdesk.formats.secret_text import decode_secret
from oathdesk.formats.text import decode_text, looks_binary
from oathdesk.formats.validation import serial_problem


def _split_label(raw: str) -> tuple[str, str]:
    """``Issuer:account`` split at the first literal colon (an escaped one belongs to a name)."""
    if ":" in raw:
        issuer, _, account = raw.partition(":")
    elif "%3a" in raw.lower():
        index = raw.lower().index("%3a")
        issuer, account = raw[:index], raw[index + 3 :]
    else:
        issuer, account = "", raw
    return unquote(issuer).strip(), unquote(account)


class OtpauthUris:
    id: ClassVar[str] = "otpauth"
    title: ClassVar[str] = "Key URI lines (otpauth://), one token per line"
    extensions: ClassVar[tuple[str, ...]] = (".txt", ".uri")
    capabilities: ClassVar[Capabilities] = Capabilities()

    def sniff(self, data: bytes) -> int:
        if looks_binary(data):
            return 0
        text, _ = decode_text(data[:4096], "sniff")
        for line in text.splitlines():
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                return 2 if stripped.lower().startswith("otpauth://") else 0
        return 0

    def read(self, data: bytes, source: str, options: ReadOptions) -> ReadResult:
        result = ReadResult(format=self.id, source=source)
        text, problems = decode_text(data, source)
        result.problems.extend(problems)
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            locator = f"{source}:{number}"
            record = self._parse(stripped, locator, options, result.problems)
            if record is not None:
                result.add(record, locator)
        if not result.records and not result.errors:
            result.problems.append(Problem(source, "seed.empty", "the file holds no tokens"))
        return result

    def _parse(
        self, uri: str, locator: str, options: ReadOptions, problems: list[Problem]
    ) -> SeedRecord | None:
        parts = urlsplit(uri)
        if parts.scheme.lower() != "otpauth" or parts.netloc.lower() not in ("totp", "hotp"):
            problems.append(
                Problem(
                    locator, "seed.otpauth_invalid", "not an otpauth://totp/ or otpauth://hotp/ URI"
                )
            )
            return None
        kind = OtpKind(parts.netloc.lower())
        params = {
            k.lower(): v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()
        }
        issuer_label, account = _split_label(parts.path.lstrip("/"))
        serial = params.get("serial") or account.strip()
        start = len(problems)
        bad_serial = serial_problem(serial, locator)
        if bad_serial is not None:
            problems.append(bad_serial)

        def number(name: str, default: int) -> int:
            raw = params.get(name)
            if raw is None or raw == "":
                return default
            try:
                return int(raw)
            except ValueError:
                problems.append(
                    Problem(
                        locator,
                        "seed.invalid_number",
                        f"{name}={raw!r} is not a whole number",
                        serial=serial,
                    )
                )
                return default

        algorithm = options.algorithm or HashAlgorithm.SHA1
        if params.get("algorithm"):
            parsed = parse_hash(params["algorithm"])
            if parsed is None:
                problems.append(
                    Problem(
                        locator,
                        "seed.unsupported_hash",
                        f"algorithm={params['algorithm']!r} is not supported",
                        serial=serial,
                    )
                )
            else:
                algorithm = parsed
        if kind is OtpKind.HOTP and "counter" not in params:
            problems.append(
                Problem(
                    locator,
                    "seed.missing_field",
                    "an hotp URI needs a counter parameter",
                    serial=serial,
                )
            )
        secret = None
        if not params.get("secret"):
            problems.append(
                Problem(
                    locator, "seed.missing_field", "the secret parameter is missing", serial=serial
                )
            )
        else:
            secret = decode_secret(
                params["secret"], options.secret_encoding or "base32", locator, serial, problems
            )
        record = None
        if secret is not None and not any(p.is_error for p in problems[start:]):
            record = SeedRecord(
                serial=serial,
                secret=secret,
                kind=kind,
                period=number("period", options.period or 30),
                digits=number("digits", options.digits or 6),
                algorithm=algorithm,
                counter=number("counter", 0),
                manufacturer=params.get("issuer") or issuer_label or options.manufacturer or "",
                model=params.get("model") or options.model or "",
                user=params.get("user", ""),
            )
        return None if any(p.is_error for p in problems[start:]) else record

    def write(self, records: Sequence[SeedRecord], options: WriteOptions) -> bytes:
        lines = []
        for record in records:
            issuer = record.manufacturer
            label = (
                f"{quote(issuer, safe='')}:{quote(record.serial, safe='')}"
                if issuer
                else quote(record.serial, safe="")
            )
            params: dict[str, str] = {"secret": record.secret.to_base32()}
            if issuer:
                params["issuer"] = issuer
            params["algorithm"] = record.algorithm.value.upper()
            params["digits"] = str(record.digits)
            if record.kind is OtpKind.TOTP:
                params["period"] = str(record.period)
            else:
                params["counter"] = str(record.counter)
            if record.model:
                params["model"] = record.model
            if record.user:
                params["user"] = record.user
            query = urlencode(params, quote_via=quote)
            lines.append(f"otpauth://{record.kind.value}/{label}?{query}")
        return ("\n".join(lines) + "\n").encode("utf-8")
