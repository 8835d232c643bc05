"""The CSV read path's fast lanes: a block of clean rows column by column, or one clean row.

Why two lanes beside ``csv_io._Row``: in a delivery file nearly every row is clean, and a
clean row needs no report, only a record. :func:`read_block` takes a block of lines and works
on whole columns (one split, ``map(int, ...)``, one base32 decode for the column), so the only
per-row Python work left is building the record. A block with anything unusual (a quote, a
short row, an empty cell, a value that is not a number, a secret in another spelling or of an
unusual length, a serial that may be Excel's exponent form) is read row by row instead, each
row through :class:`FastRow` and, when that declines, through ``_Row``, which says what is
wrong. Both lanes give exactly the records ``_Row`` would, in file order; a test holds that.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import repeat
from typing import Any

from oathdesk.domain import (
    HashAlgorithm,
    OtpKind,
    Secret,
    SecretEncodingError,
    SeedRecord,
    parse_hash,
)
from oathdesk.formats._fast import (
    RECORD_FIELDS,
    b32decode_plain,
    make_record,
    secret_from_bytes,
)
from oathdesk.formats.csv_engine import Column, check_fields
from oathdesk.formats.secret_text import USUAL_LENGTHS

_TEXT_SLOTS = {"manufacturer": 8, "model": 9, "user": 10, "display_name": 11}
_INT_SLOTS = {"period": 3, "t0": 4, "digits": 5, "counter": 7}
_KINDS = {"totp": OtpKind.TOTP, "hotp": OtpKind.HOTP}
_PLAIN_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")
_B32 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_B32_DIGITS = bytes.maketrans(_B32, b"0123456789abcdefghijklmnopqrstuv")
_HEX = b"0123456789abcdefABCDEF"
BLOCK_ROWS = 8192  # rows per block: small enough to keep columns cheap, big enough to amortise


class Plan:
    """Where each property sits in a row, and the values a row that omits it gets."""

    def __init__(
        self, positions: Sequence[tuple[int, Column]], defaults: dict[str, Any], encoding: str
    ) -> None:
        self.columns = [
            (index, column.property, column.optional)
            for index, column in positions
            if column.property is not None and column.property != "ignore"
        ]
        self.defaults = [defaults.get(name, "") for name in RECORD_FIELDS]
        self.encoding = encoding
        self.texts: dict[str, str] = {}  # one string per distinct model, manufacturer...
        self.hashes: dict[str, HashAlgorithm | None] = {}

    def hash_of(self, text: str) -> HashAlgorithm | None:
        if text not in self.hashes:
            self.hashes[text] = parse_hash(text)
        return self.hashes[text]

    def secret(self, text: str) -> Secret | None:
        """The secret when ``text`` is its plain spelling and a usual length, else ``None``."""
        if self.encoding == "base32":
            if _PLAIN_HEX.fullmatch(text):  # hex in a base32 column: _Row says seed.hex_secret
                return None
            value = b32decode_plain(text.upper())
        elif self.encoding == "hex":
            value = bytes.fromhex(text) if _PLAIN_HEX.fullmatch(text) else None
        else:
            try:
                secret = Secret.decode(text, self.encoding)
            except SecretEncodingError:
                return None
            return secret if len(secret) in USUAL_LENGTHS else None
        if value is None or len(value) not in USUAL_LENGTHS:
            return None
        return secret_from_bytes(value)


class FastRow:
    """One clean row to a record; ``None`` when the row needs ``_Row`` to report on it."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    def __call__(self, cells: list[str]) -> SeedRecord | None:
        plan = self.plan
        values = plan.defaults.copy()
        serial = raw_secret = pending = None
        count = len(cells)
        for index, prop, optional in plan.columns:
            text = cells[index].strip() if index < count else ""
            if not text:
                if optional:
                    continue
                return None
            if prop == "serial":
                if "+" in text or "-" in text:  # Excel's exponent form always has a sign
                    return None
                serial = text
            elif prop == "secret":
                raw_secret = text
            elif prop in _TEXT_SLOTS:
                values[_TEXT_SLOTS[prop]] = plan.texts.setdefault(text, text)
            elif prop in _INT_SLOTS:
                try:
                    values[_INT_SLOTS[prop]] = int(text)
                except ValueError:
                    return None
            elif prop == "kind":
                kind = _KINDS.get(text.lower())
                if kind is None:
                    return None
                values[2] = kind
            elif prop == "algorithm":
                algorithm = plan.hash_of(text)
                if algorithm is None:
                    return None
                values[6] = algorithm
            elif prop == "period_or_counter":
                pending = text
        if serial is None or raw_secret is None:
            return None
        if pending is not None:
            try:
                values[3 if values[2] is OtpKind.TOTP else 7] = int(pending)
            except ValueError:
                return None
        secret = plan.secret(raw_secret)
        if secret is None:
            return None
        values[0] = serial
        values[1] = secret
        return make_record(*values)


def read_block(
    plan: Plan,
    lines: list[str],
    delimiter: str,
    width: int,
    *,
    source: str = "block",
    first_number: int = 1,
) -> list[SeedRecord] | None:
    """Records for ``lines`` when every row is clean and ``width`` cells wide, else ``None``;
    a field over the CSV limit is ``seed.field_too_large`` here too, as on the row lane."""
    check_fields(lines, first_number, source, delimiter)
    joined = delimiter.join(lines)
    if '"' in joined or set(map(str.count, lines, repeat(delimiter))) != {width - 1}:
        return None
    flat = joined.split(delimiter)
    count = len(lines)
    columns: list[Any] = [repeat(value, count) for value in plan.defaults]
    pending = None
    for index, prop, optional in plan.columns:
        if index >= width:
            if optional:
                continue
            return None
        cells = flat[index::width]
        if prop in _INT_SLOTS or prop == "period_or_counter":
            try:  # int() ignores surrounding blanks and refuses an empty cell, as _Row does
                numbers = list(map(int, cells))
            except ValueError:
                return None
            if prop == "period_or_counter":
                pending = numbers
            else:
                columns[_INT_SLOTS[prop]] = numbers
            continue
        texts = list(map(str.strip, cells))
        if "" in texts:
            if not optional or prop in ("serial", "secret"):
                return None
            default = plan.defaults[RECORD_FIELDS.index(prop)]
            texts = [t or default for t in texts]
        if prop == "serial":
            together = "".join(texts)
            if "+" in together or "-" in together:
                return None
            columns[0] = texts
        elif prop == "secret":
            secrets = _secrets(plan, texts)
            if secrets is None:
                return None
            columns[1] = secrets
        elif prop in _TEXT_SLOTS:
            known = plan.texts
            columns[_TEXT_SLOTS[prop]] = list(map(known.setdefault, texts, texts))
        elif prop == "kind":
            kinds = [_KINDS.get(t.lower()) if isinstance(t, str) else t for t in texts]
            if None in kinds:
                return None
            columns[2] = kinds
        elif prop == "algorithm":
            hashes = [plan.hash_of(t) if isinstance(t, str) else t for t in texts]
            if None in hashes:
                return None
            columns[6] = hashes
    if pending is not None:
        if not isinstance(columns[2], repeat):
            return None  # a per-row kind decides where each number goes: row by row
        columns[3 if plan.defaults[2] is OtpKind.TOTP else 7] = pending
    if isinstance(columns[0], repeat) or isinstance(columns[1], repeat):
        return None
    return list(map(make_record, *columns))


def _secrets(plan: Plan, texts: list[str]) -> list[Secret] | None:
    """The column's secrets decoded in one go when all share one plain spelling and length."""
    lengths = set(map(len, texts))
    if len(lengths) == 1:
        length = lengths.pop()
        together = "".join(texts)
        try:
            raw = together.encode("ascii")
        except UnicodeEncodeError:
            return None
        if plan.encoding == "base32" and length % 8 == 0 and length * 5 // 8 in USUAL_LENGTHS:
            raw = raw.upper()
            if raw.translate(None, _B32) or not raw.translate(None, _HEX):  # not base32, or hex
                return None
            size = length * 5 // 8
            value = int(raw.translate(_B32_DIGITS), 32).to_bytes(size * len(texts), "big")
            return [secret_from_bytes(value[i : i + size]) for i in range(0, len(value), size)]
        if plan.encoding == "hex" and length % 2 == 0 and length // 2 in USUAL_LENGTHS:
            if raw.translate(None, _HEX):
                return None
            value = bytes.fromhex(together)
            size = length // 2
            return [secret_from_bytes(value[i : i + size]) for i in range(0, len(value), size)]
    secrets = list(map(plan.secret, texts))
    return None if None in secrets else secrets  # type: ignore[return-value]
