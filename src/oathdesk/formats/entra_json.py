"""The Microsoft Graph bulk-create body for hardware OATH tokens (what CSV2JSON produced).

Written as ``{"@context": "#$delta", "value": [...]}`` with string ``@contentId`` from "1",
integer ``timeIntervalInSeconds``, lower-case ``hashFunction``, 2-space indent, UTF-8 without BOM.
``assignTo`` is written when a token's user is an Entra object id (a GUID); a UPN cannot be.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from json.encoder import c_encode_basestring, py_encode_basestring  # type: ignore[attr-defined]
from operator import attrgetter
from typing import Any, BinaryIO, ClassVar

from oathdesk.domain import HashAlgorithm, OtpKind, Problem, SeedRecord, Severity, parse_hash
from oathdesk.formats._fast import b32encode_many, forget_masks, secret_values
from oathdesk.formats.base import Capabilities, ReadOptions, ReadResult, WriteOptions
from oathdesk.formats.secret_text import decode_secret
from oathdesk.formats.text import decode_text, looks_binary
from oathdesk.formats.validation import serial_problem

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_quote = c_encode_basestring or py_encode_basestring  # json.dumps's own string writer
_GRAPH_HASH = {HashAlgorithm.SHA1: "hmacsha1", HashAlgorithm.SHA256: "hmacsha256"}


class EntraJson:
    id: ClassVar[str] = "entra-json"
    title: ClassVar[str] = "Entra ID Graph bulk JSON (hardwareOathDevices PATCH body)"
    extensions: ClassVar[tuple[str, ...]] = (".json",)
    capabilities: ClassVar[Capabilities] = Capabilities(
        kinds=frozenset({OtpKind.TOTP}),
        digits=frozenset({6}),
        periods=frozenset({30, 60}),
        algorithms=frozenset(_GRAPH_HASH),
        max_secret_bytes=80,
    )

    def sniff(self, data: bytes) -> int:
        if looks_binary(data):
            return 0
        head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
        if head[:1] not in (b"{", b"["):
            return 0
        return 2 if b'"serialNumber"' in data[:65536] else 0

    def read(self, data: bytes, source: str, options: ReadOptions) -> ReadResult:
        result = ReadResult(format=self.id, source=source)
        text, problems = decode_text(data, source)
        result.problems.extend(problems)
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            result.problems.append(
                Problem(
                    f"{source}:{exc.lineno}:{exc.colno}",
                    "seed.not_json",
                    f"not valid JSON: {exc.msg}",
                )
            )
            return result
        items, path = self._items(document)
        if items is None:
            result.problems.append(
                Problem(
                    source,
                    "seed.json_shape",
                    'expected {"value": [ ... ]} (the Graph bulk body), a list of tokens or '
                    "one token object",
                )
            )
            return result
        for index, item in enumerate(items):
            locator = f"{source}:{path}[{index}]" if path else f"{source}:$"
            record = self._record(item, locator, options, result.problems)
            if record is not None:
                result.add(record, locator)
        if not items:
            result.problems.append(Problem(source, "seed.empty", "the file holds no tokens"))
        return result

    @staticmethod
    def _items(document: Any) -> tuple[list[Any] | None, str]:
        if isinstance(document, dict) and isinstance(document.get("value"), list):
            return document["value"], "$.value"
        if isinstance(document, list):
            return document, "$"
        if isinstance(document, dict) and "serialNumber" in document:
            return [document], ""
        return None, ""

    def _record(
        self, item: Any, locator: str, options: ReadOptions, problems: list[Problem]
    ) -> SeedRecord | None:
        if not isinstance(item, dict):
            problems.append(Problem(locator, "seed.json_shape", "a token must be a JSON object"))
            return None
        start = len(problems)
        serial_raw = item.get("serialNumber")
        serial = "" if serial_raw is None else str(serial_raw).strip()
        if isinstance(serial_raw, int | float):
            problems.append(
                Problem(
                    locator,
                    "seed.serial_not_string",
                    "serialNumber is a JSON number; write it as a string so leading zeros survive",
                    Severity.WARNING,
                    serial,
                )
            )
        bad_serial = serial_problem(serial, locator)
        if bad_serial is not None:
            problems.append(bad_serial)

        def text(name: str, fallback: str | None) -> str:
            value = item.get(name)
            return str(value).strip() if value not in (None, "") else (fallback or "")

        period: int | None = options.period or 30
        raw_period = item.get("timeIntervalInSeconds")
        if raw_period is not None:
            try:
                period = int(str(raw_period).strip())
            except ValueError:
                problems.append(
                    Problem(
                        locator,
                        "seed.invalid_number",
                        f"timeIntervalInSeconds {raw_period!r} is not a number",
                        serial=serial,
                    )
                )
        algorithm = options.algorithm or HashAlgorithm.SHA1
        raw_hash = item.get("hashFunction")
        if raw_hash not in (None, ""):
            parsed = parse_hash(str(raw_hash))
            if parsed is None:
                problems.append(
                    Problem(
                        locator,
                        "seed.unsupported_hash",
                        f"hashFunction {raw_hash!r} is not hmacsha1 or hmacsha256",
                        serial=serial,
                    )
                )
            else:
                algorithm = parsed
        user = ""
        assign = item.get("assignTo")
        if isinstance(assign, dict) and assign.get("id"):
            user = str(assign["id"])
        raw_secret = item.get("secretKey")
        secret = None
        if raw_secret in (None, ""):
            problems.append(
                Problem(locator, "seed.missing_field", "secretKey is missing", serial=serial)
            )
        else:
            secret = decode_secret(
                str(raw_secret),
                options.secret_encoding or "base32",
                locator,
                serial,
                problems,
                guess_hex=options.secret_encoding is None,
            )
        if secret is None or any(p.is_error for p in problems[start:]):
            return None
        return SeedRecord(
            serial=serial,
            secret=secret,
            kind=OtpKind.TOTP,
            period=period or 30,
            digits=options.digits or 6,
            algorithm=algorithm,
            manufacturer=text("manufacturer", options.manufacturer),
            model=text("model", options.model),
            user=user,
            display_name=text("displayName", None),
        )

    def write(self, records: Sequence[SeedRecord], options: WriteOptions) -> bytes:
        """The same bytes as ``json.dumps(body, indent=2, ensure_ascii=False)`` plus a newline,
        written item by item: the indenting encoder is pure Python and three times slower."""
        return b"".join(self.pieces(records))

    def write_to(
        self, records: Sequence[SeedRecord], options: WriteOptions, stream: BinaryIO
    ) -> None:
        """``write``'s bytes into ``stream`` a chunk at a time: converting 100,000 tokens then
        holds one chunk of text (a few MiB), not the whole document beside the records."""
        for piece in self.pieces(records):
            stream.write(piece)

    def pieces(self, records: Sequence[SeedRecord]) -> Iterator[bytes]:
        """The document in order: its head, each chunk of items and their separators, its end."""
        if not records:
            yield b'{\n  "@context": "#$delta",\n  "value": []\n}\n'
            return
        yield b'{\n  "@context": "#$delta",\n  "value": [\n'
        try:
            for start in range(0, len(records), _CHUNK):
                if start:
                    yield b",\n"
                yield self._chunk(records[start : start + _CHUNK], start)
        finally:
            forget_masks()
        yield b"\n  ]\n}\n"

    @staticmethod
    def _chunk(records: Sequence[SeedRecord], offset: int) -> bytes:
        """Items ``offset + 1``... as UTF-8: a chunk's text is made in one go, then dropped."""
        secrets = b32encode_many(list(secret_values(records)))
        items = list(
            map(
                _ITEM.__mod__,
                zip(
                    range(offset + 1, offset + len(records) + 1),
                    map(_quote, map(_SERIAL, records)),
                    map(_quote, map(_MANUFACTURER, records)),
                    map(_quote, map(_MODEL, records)),
                    secrets,
                    map(int, map(_PERIOD, records)),
                    map(_GRAPH_HASH.__getitem__, map(_ALGORITHM, records)),
                    strict=True,
                ),
            )
        )
        has_name = any(map(attrgetter("display_name"), records))
        has_user = any(map(attrgetter("user"), records))
        for index, record in enumerate(records) if has_name or has_user else ():
            extra = ""
            if record.display_name:
                extra += f',\n      "displayName": {_quote(record.display_name)}'
            if record.user and GUID.match(record.user):
                extra += f',\n      "assignTo": {{\n        "id": {_quote(record.user)}\n      }}'
            if extra:
                items[index] = items[index][: -len(_END)] + extra + _END
        return ",\n".join(items).encode("utf-8")


_CHUNK = 8192
# Field readers that run at C speed over a chunk (a comprehension is a Python step per token).
_SERIAL, _MANUFACTURER, _MODEL = (
    attrgetter("serial"),
    attrgetter("manufacturer"),
    attrgetter("model"),
)
_PERIOD, _ALGORITHM = attrgetter("period"), attrgetter("algorithm")
_END = "\n    }"
_ITEM = (
    '    {\n      "@contentId": "%d",\n      "serialNumber": %s,\n      "manufacturer": %s,\n'
    '      "model": %s,\n      "secretKey": "%s",\n      "timeIntervalInSeconds": %d,\n'
    '      "hashFunction": "%s"' + _END
)
