"""Deepnet DualShield token import XML: one header for the whole file, then serial/seed pairs.

Decisions where the vendor documentation is silent or the model does not map one to one:

- ``manufacturer`` ← ``manufacturerCode`` and ``model`` ← ``productCode``, verbatim (``DN``,
  ``STE``): the pair names a DualShield authentication product, and keeping it is what makes a
  read/write round trip faithful. ``--manufacturer``/``--model`` fill in only when the header
  lacks them; turning ``DN`` into a display name for Entra is the importer's business.
- The file says nothing about the OTP kind and has no known counter element: tokens are TOTP
  unless ``--kind hotp`` says otherwise, and the writer holds TOTP only.
- ``encrypt`` ``AES256`` is refused (``seed.dualshield_encrypted_unsupported``): Deepnet has not
  published the key, mode or IV. Written files say ``NONE``; protect them with a ZIP or PGP.
- Missing header fields come from the options, then defaults: ``encode`` HEX, ``digits`` 6,
  ``crypto`` HmacSHA1, ``timeWindow`` 30 s with a warning (DualShield's own TOTP product is 60 s).
- One header means one product per file: the writer refuses records that differ in kind,
  digits, time step, hash, manufacturer or model, and names the first one that differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from oathdesk.domain import (
    HashAlgorithm,
    OtpKind,
    Problem,
    SeedRecord,
    Severity,
    UsageError,
    parse_hash,
    spell_hash,
)
from oathdesk.formats._xml import (
    Element,
    Locator,
    kid,
    kids,
    parse_xml,
    present,
    root_name,
    text,
    unwritable_problems,
)
from oathdesk.formats.base import (
    Capabilities,
    ReadOptions,
    ReadResult,
    WriteOptions,
    unsupported,
)
from oathdesk.formats.secret_text import ENCODINGS, decode_secret
from oathdesk.formats.validation import serial_problem

FORMAT = "dualshield-xml"
_ENCODE = {"HEX": "hex", "BASE32": "base32", "BASE64": "base64"}


@dataclass(frozen=True)
class _Header:
    encoding: str
    digits: int
    period: int
    algorithm: HashAlgorithm
    manufacturer: str
    model: str


def _header(
    header: Element, loc: Locator, options: ReadOptions, problems: list[Problem]
) -> _Header | None:
    """The file-wide settings, or ``None`` after reporting why the tokens cannot be read."""
    count = len(problems)

    def bad(name: str, code: str, message: str) -> None:
        problems.append(Problem(loc.at(present(kid(header, name), header)), code, message))

    encrypt = (text(kid(header, "encrypt")) or "NONE").upper()
    if encrypt != "NONE":
        bad(
            "encrypt",
            "seed.dualshield_encrypted_unsupported",
            f"the seeds are encrypted (encrypt {encrypt}); DualShield's encryption key, mode and "
            "IV are not published, so oathdesk cannot open them. Ask the vendor for the file "
            "with encrypt NONE, delivered in a password ZIP or PGP envelope instead",
        )
        return None
    encode = text(kid(header, "encode"))
    encoding = options.secret_encoding or _ENCODE.get((encode or "HEX").upper())
    if encoding is None:
        bad(
            "encode",
            "seed.dualshield_invalid",
            f"encode {encode!r} is unknown; DualShield files say HEX, BASE32 or BASE64 "
            "(or pass --secret-encoding)",
        )

    def number(name: str, default: int) -> int:
        value = text(kid(header, name))
        if value is None:
            return default
        if not value.isdigit():
            bad(name, "seed.dualshield_invalid", f"<{name}> must be a whole number, not {value!r}")
            return default
        return int(value)

    digits = number("digits", options.digits or 6)
    period = number("timeWindow", options.period or 30)
    if text(kid(header, "timeWindow")) is None and options.period is None:
        problems.append(
            Problem(
                loc.at(header),
                "seed.dualshield_period_assumed",
                "the header has no <timeWindow>: a 30 s time step is assumed. DualShield's own "
                "TOTP product uses 60 s; pass --period 60 if the tokens are 60 s tokens",
                Severity.WARNING,
            )
        )
    crypto = text(kid(header, "crypto"))
    algorithm = parse_hash(crypto) if crypto else (options.algorithm or HashAlgorithm.SHA1)
    if algorithm is None:
        bad(
            "crypto",
            "seed.unsupported_algorithm",
            f"crypto {crypto!r} is not supported; use HmacSHA1, HmacSHA256 or HmacSHA512",
        )
    if any(p.is_error for p in problems[count:]) or encoding is None or algorithm is None:
        return None
    return _Header(
        encoding=encoding,
        digits=digits,
        period=period,
        algorithm=algorithm,
        manufacturer=text(kid(header, "manufacturerCode")) or options.manufacturer or "",
        model=text(kid(header, "productCode")) or options.model or "",
    )


class DualShieldXml:
    """Deepnet DualShield token import file (``<data><header/><tokens/></data>``)."""

    id: ClassVar[str] = FORMAT
    title: ClassVar[str] = "DualShield token XML (Deepnet)"
    extensions: ClassVar[tuple[str, ...]] = (".xml",)
    capabilities: ClassVar[Capabilities] = Capabilities(
        kinds=frozenset({OtpKind.TOTP}),
        digits=frozenset({6, 8}),
        periods=frozenset({30, 60}),
        uniform=True,
    )

    def sniff(self, data: bytes) -> int:
        if root_name(data) != "data":
            return 0
        head = data[:4096]
        return 2 if b"<header" in head and b"<tokens" in head else 1 if b"<header" in head else 0

    def read(self, data: bytes, source: str, options: ReadOptions) -> ReadResult:
        result = ReadResult(format=self.id, source=source)
        root, problems = parse_xml(data, source)
        result.problems.extend(problems)
        if root is None:
            return result
        loc = Locator(source, data, frozenset({"token"}))
        header, tokens = kid(root, "header"), kid(root, "tokens")
        if root.tag != "data" or header is None or tokens is None:
            result.problems.append(
                Problem(
                    loc.at(root),
                    "seed.dualshield_invalid",
                    f"expected <data> holding <header> and <tokens>, found <{root.tag}>: this is "
                    "not a DualShield token file; name its real format with --from",
                )
            )
            return result
        settings = _header(header, loc, options, result.problems)
        if settings is None:
            return result
        for token in kids(tokens, "token"):
            self._token(token, settings, loc, options, result)
        return result

    @staticmethod
    def _token(
        token: Element, settings: _Header, loc: Locator, options: ReadOptions, result: ReadResult
    ) -> None:
        serial_el, seed_el = kid(token, "serial"), kid(token, "seed")
        serial = text(serial_el) or ""
        bad = serial_problem(serial, loc.at(present(serial_el, token)))
        if bad is not None:
            result.problems.append(bad)
        seed = text(seed_el)
        if seed is None:
            result.problems.append(
                Problem(
                    loc.at(present(seed_el, token)),
                    "seed.missing_secret",
                    "the token has no <seed>",
                    serial=serial or None,
                )
            )
            return
        secret = decode_secret(
            seed, settings.encoding, loc.at(seed_el), serial or None, result.problems
        )
        if secret is None or bad is not None:
            return
        record = SeedRecord(
            serial=serial,
            secret=secret,
            kind=options.kind or OtpKind.TOTP,
            period=settings.period,
            digits=settings.digits,
            algorithm=settings.algorithm,
            manufacturer=settings.manufacturer,
            model=settings.model,
        )
        result.add(record, loc.at(token))

    def write(self, records: Sequence[SeedRecord], options: WriteOptions) -> bytes:
        encoding = (options.secret_encoding or "hex").lower()
        if encoding not in ENCODINGS:
            raise UsageError(
                f"--secret-encoding must be one of {', '.join(ENCODINGS)}, "
                f"not {options.secret_encoding!r}."
            )
        _check_uniform(records)
        first = records[0] if records else None
        root = etree.Element("data")
        header = etree.SubElement(root, "header")
        fields = [
            ("manufacturerCode", first.manufacturer if first else ""),
            ("productCode", first.model if first else ""),
            ("encrypt", "NONE"),
            ("encode", encoding.upper()),
        ]
        if first is not None:
            fields += [
                ("digits", str(first.digits)),
                ("timeWindow", str(first.period)),
                ("crypto", spell_hash(first.algorithm, "HmacSHA1")),
            ]
        for name, value in fields:
            if value:
                etree.SubElement(header, name).text = value
        tokens = etree.SubElement(root, "tokens")
        upper = True if options.upper is None else options.upper
        for record in records:
            token = etree.SubElement(tokens, "token")
            etree.SubElement(token, "serial").text = record.serial
            etree.SubElement(token, "seed").text = record.secret.encode(encoding, upper=upper)
        body: bytes = etree.tostring(root, encoding="UTF-8", pretty_print=True)
        return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def _check_uniform(records: Sequence[SeedRecord]) -> None:
    """One header per file: every record must share the first one's product and token type."""
    problems: list[Problem] = []
    first = records[0] if records else None
    for index, record in enumerate(records, start=1):
        assert first is not None
        locator = f"token {index}"
        if record.kind is not OtpKind.TOTP:
            problems.append(
                Problem(
                    locator,
                    "seed.not_expressible",
                    f"{FORMAT} holds TOTP tokens only",
                    serial=record.serial,
                )
            )
        shape = (record.digits, record.period, record.algorithm, record.manufacturer, record.model)
        if shape != (first.digits, first.period, first.algorithm, first.manufacturer, first.model):
            problems.append(
                Problem(
                    locator,
                    "seed.not_expressible",
                    f"{FORMAT} has one header per file (digits, time step, hash, manufacturer "
                    f"code, product code); this token differs from the first "
                    f"({first.digits} digits, {first.period} s, {first.algorithm.value.upper()}, "
                    f"{first.manufacturer!r}/{first.model!r}): split the file",
                    serial=record.serial,
                )
            )
    problems += unwritable_problems(records, FORMAT)
    if problems:
        raise unsupported(problems, FORMAT)
