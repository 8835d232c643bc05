"""One declarative CSV engine: every CSV seed format is a :class:`CsvProfile` of it.

A profile names its columns (each a token property or a fixed value), header row on or off,
delimiter, quoting, secret encoding and case, and how hash and kind are spelled. Built-in profiles
are TOML files in ``formats/profiles/``; ``custom-csv`` reads the same TOML from the user, so a
vendor layout is data, not code. Reading is tolerant (BOM, cp1252, ``,``/``;``/tab, quoted
headers, header case and spacing); writing is exact.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from oathdesk.domain import HashAlgorithm, OtpKind, SeedFileError, spell_hash
from oathdesk.domain.wording import clause
from oathdesk.formats.base import Capabilities

PROPERTIES = (
    "serial",
    "secret",
    "kind",
    "period",
    "t0",
    "digits",
    "algorithm",
    "counter",
    "manufacturer",
    "model",
    "user",
    "display_name",
    "period_or_counter",
    "ignore",
)
HASH_STYLES = ("SHA1", "sha1", "HmacSHA1", "HMacSHA1", "hmacsha1", "HMAC-SHA1")
DELIMITERS = (",", ";", "\t")
FIELD_LIMIT = 128 * 1024  # characters in one CSV field: Python's csv default, kept for every lane
_TERMINATORS = {"crlf": "\r\n", "lf": "\n"}
_QUOTING = {"minimal": csv.QUOTE_MINIMAL, "all": csv.QUOTE_ALL, "none": csv.QUOTE_NONE}


def normalize_header(text: str) -> str:
    """``Time Interval`` = ``timeinterval`` = ``time_interval``: case and separators ignored."""
    return re.sub(r"[\s_\-.]+", "", text.strip().strip('"').lower().lstrip("\ufeff"))


@dataclass(frozen=True)
class Column:
    header: str
    property: str | None = None  # a token property, or None for a fixed value
    value: str | None = None  # the fixed value written (ignored on read)
    aliases: tuple[str, ...] = ()
    optional: bool = False
    write: str = "always"  # always | if_any (only when some token has the property) | never

    def names(self) -> set[str]:
        return {normalize_header(self.header), *(normalize_header(a) for a in self.aliases)}


@dataclass(frozen=True)
class CsvProfile:
    name: str
    columns: tuple[Column, ...]
    header_row: bool = True
    delimiter: str = ","
    quoting: str = "minimal"
    line_terminator: str = "crlf"
    bom: bool = False
    secret_encoding: str = "base32"
    secret_case: str = "upper"
    secret_padding: bool = False
    hash_style: str = "SHA1"
    kind_style: str = "upper"
    comment_prefix: str | None = None
    defaults: dict[str, Any] = field(default_factory=dict)
    capabilities: Capabilities = field(default_factory=Capabilities)

    def column_for(self, prop: str) -> Column | None:
        return next((c for c in self.columns if c.property == prop), None)

    # -- formatting helpers shared by the writer --------------------------------------
    def spell_kind(self, kind: OtpKind) -> str:
        return kind.value.upper() if self.kind_style == "upper" else kind.value

    def spell_hash(self, algorithm: HashAlgorithm) -> str:
        return spell_hash(algorithm, self.hash_style)


def field_too_large(locator: str) -> SeedFileError:
    """The one error for a field over :data:`FIELD_LIMIT`, whichever lane of the reader met it.

    Why an error and not a problem in the report: such a file is not a seed file (a serial, a
    secret or a model name is a few dozen characters), and reading on would only waste memory.
    """
    return SeedFileError(
        f"{locator}: a field is longer than {FIELD_LIMIT // 1024} KiB ({FIELD_LIMIT} "
        "characters); a seed file's fields are short, so this file is damaged or not a seed file.",
        code="seed.field_too_large",
        details={"locator": locator, "limit": FIELD_LIMIT},
    )


def split_line(line: str, delimiter: str, locator: str = "") -> list[str]:
    """The cells of one line; a field over :data:`FIELD_LIMIT` is ``seed.field_too_large``."""
    try:
        return next(csv.reader([line], delimiter=delimiter, skipinitialspace=True), [])
    except csv.Error:  # the only one a single line can give: a field over the csv limit
        raise field_too_large(locator) from None


def check_fields(lines: Sequence[str], first_number: int, source: str, delimiter: str) -> None:
    """Refuse (``seed.field_too_large``) a line holding a field over :data:`FIELD_LIMIT`.

    Only a line longer than the limit can hold one, so clean files pay one ``len`` per line.
    """
    if max(map(len, lines), default=0) <= FIELD_LIMIT:
        return
    for number, line in enumerate(lines, start=first_number):
        if len(line) > FIELD_LIMIT:
            locator = f"{source}:{number}"
            cells = split_line(line, delimiter, locator) if '"' in line else line.split(delimiter)
            if max(map(len, cells)) > FIELD_LIMIT:
                raise field_too_large(locator)


def _fail(source: str, message: str) -> SeedFileError:
    return SeedFileError(f"{source}: {clause(message)}.", code="seed.invalid_profile")


def _pick(table: dict[str, Any], key: str, allowed: Sequence[Any], default: Any, src: str) -> Any:
    value = table.get(key, default)
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise _fail(src, f"'{key}' must be one of {options}, not {value!r}")
    return value


def _capabilities(table: dict[str, Any], source: str) -> Capabilities:
    if not table:
        return Capabilities()
    try:
        return Capabilities(
            kinds=frozenset(OtpKind(k) for k in table.get("kinds", ["totp", "hotp"])),
            digits=frozenset(int(d) for d in table.get("digits", [6, 7, 8])),
            periods=frozenset(int(p) for p in table["periods"]) if "periods" in table else None,
            algorithms=frozenset(
                HashAlgorithm(h) for h in table.get("hashes", ["sha1", "sha256", "sha512"])
            ),
            max_secret_bytes=table.get("max_secret_bytes"),
            exact_secret_bytes=table.get("exact_secret_bytes"),
            uniform=bool(table.get("uniform", False)),
        )
    except (ValueError, TypeError) as exc:
        raise _fail(source, f"[capabilities] is invalid ({exc})") from None


def _column(raw: Any, index: int, source: str) -> Column:
    where = f"column {index}"
    if not isinstance(raw, dict) or not isinstance(raw.get("header", ""), str):
        raise _fail(source, f"{where} must be a table with a 'header'")
    prop, value = raw.get("property"), raw.get("value")
    if (prop is None) == (value is None):
        raise _fail(
            source, f"{where} ({raw.get('header')!r}) needs exactly one of 'property' or 'value'"
        )
    if prop is not None and prop not in PROPERTIES:
        raise _fail(
            source, f"{where}: unknown property {prop!r}; properties are {', '.join(PROPERTIES)}"
        )
    aliases = raw.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise _fail(source, f"{where}: 'aliases' must be a list of strings")
    unknown = set(raw) - {"header", "property", "value", "aliases", "optional", "write"}
    if unknown:
        raise _fail(source, f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    return Column(
        header=str(raw.get("header", "")),
        property=prop,
        value=None if value is None else str(value),
        aliases=tuple(aliases),
        optional=bool(raw.get("optional", False)),
        write=_pick(raw, "write", ("always", "if_any", "never"), "always", source),
    )


_TOP_KEYS = {
    "name",
    "header_row",
    "delimiter",
    "quoting",
    "line_terminator",
    "bom",
    "secret_encoding",
    "secret_case",
    "secret_padding",
    "hash_style",
    "kind_style",
    "comment_prefix",
    "defaults",
    "columns",
    "capabilities",
    "description",
}


def load_profile(data: bytes, source: str) -> CsvProfile:
    """Parse a profile TOML; every mistake is reported with the file name and the key."""
    try:
        table = tomllib.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _fail(source, f"not a valid TOML profile ({exc})") from None
    unknown = set(table) - _TOP_KEYS
    if unknown:
        raise _fail(source, f"unknown key(s) {', '.join(sorted(unknown))}")
    raw_columns = table.get("columns")
    if not isinstance(raw_columns, list) or not raw_columns:
        raise _fail(source, "a profile needs a [[columns]] list")
    columns = tuple(_column(c, i, source) for i, c in enumerate(raw_columns, start=1))
    props = [c.property for c in columns if c.property]
    for needed in ("serial", "secret"):
        if needed not in props:
            raise _fail(source, f"a profile needs a column with property = {needed!r}")
    defaults = table.get("defaults", {})
    if not isinstance(defaults, dict):
        raise _fail(source, "[defaults] must be a table")
    delimiter = table.get("delimiter", ",")
    if delimiter == "tab":
        delimiter = "\t"
    return CsvProfile(
        name=str(table.get("name", source)),
        columns=columns,
        header_row=bool(table.get("header_row", True)),
        delimiter=_pick({"d": delimiter}, "d", DELIMITERS, ",", source),
        quoting=_pick(table, "quoting", tuple(_QUOTING), "minimal", source),
        line_terminator=_pick(table, "line_terminator", tuple(_TERMINATORS), "crlf", source),
        bom=bool(table.get("bom", False)),
        secret_encoding=_pick(
            table, "secret_encoding", ("hex", "base32", "base64"), "base32", source
        ),
        secret_case=_pick(table, "secret_case", ("upper", "lower"), "upper", source),
        secret_padding=bool(table.get("secret_padding", False)),
        hash_style=_pick(table, "hash_style", HASH_STYLES, "SHA1", source),
        kind_style=_pick(table, "kind_style", ("upper", "lower"), "upper", source),
        comment_prefix=table.get("comment_prefix"),
        defaults=dict(defaults),
        capabilities=_capabilities(table.get("capabilities", {}), source),
    )


def csv_dialect(profile: CsvProfile) -> dict[str, Any]:
    return {
        "delimiter": profile.delimiter,
        "quoting": _QUOTING[profile.quoting],
        "lineterminator": _TERMINATORS[profile.line_terminator],
        "escapechar": "\\" if profile.quoting == "none" else None,
    }


def render_rows(profile: CsvProfile, header: list[str] | None, rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, **csv_dialect(profile))
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue()
    return (b"\xef\xbb\xbf" if profile.bom else b"") + text.encode("utf-8")
