"""Read and write seed records through a :class:`CsvProfile`, reporting problems per line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oathdesk.domain import (
    HashAlgorithm,
    OtpKind,
    Problem,
    Secret,
    SeedRecord,
    Severity,
    parse_hash,
)
from oathdesk.formats._fast import RECORD_FIELDS
from oathdesk.formats.base import ReadOptions, ReadResult, WriteOptions
from oathdesk.formats.csv_engine import (
    DELIMITERS,
    Column,
    CsvProfile,
    check_fields,
    normalize_header,
    render_rows,
    split_line,
)
from oathdesk.formats.csv_fast import BLOCK_ROWS, FastRow, Plan, read_block
from oathdesk.formats.csv_safety import neutralise
from oathdesk.formats.secret_text import decode_secret
from oathdesk.formats.text import decode_text
from oathdesk.formats.validation import serial_problem

_INT_PROPS = {"period": "time step", "t0": "T0", "digits": "digits", "counter": "counter"}


def _content_lines(text: str, comment: str | None) -> list[tuple[int, str]]:
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if comment and line.lstrip().startswith(comment):
            continue
        lines.append((number, line))
    return lines


def _split(line: str, delimiter: str, locator: str = "") -> list[str]:
    return split_line(line, delimiter, locator)


def sniff_delimiter(first_line: str, profile: CsvProfile) -> str:
    """The delimiter that makes the first line look most like the profile (judged on its
    start: a header is short, and a candidate must not meet a field over the CSV limit)."""
    first_line = first_line[:16384]

    def score(delim: str) -> tuple[int, int]:
        cells = _split(first_line, delim)
        if profile.header_row:
            known = set().union(*(c.names() for c in profile.columns))
            return (sum(normalize_header(c) in known for c in cells), len(cells))
        wanted = len([c for c in profile.columns if not c.optional])
        return (int(len(cells) >= wanted), len(cells))

    best = max(DELIMITERS, key=lambda d: (score(d), d == profile.delimiter))
    return best if score(best)[1] > 1 else profile.delimiter


def _defaults(profile: CsvProfile, options: ReadOptions) -> dict[str, Any]:
    d = profile.defaults
    return {
        "kind": options.kind or OtpKind(d.get("kind", "totp")),
        "period": options.period or int(d.get("period", 30)),
        "digits": options.digits or int(d.get("digits", 6)),
        "algorithm": options.algorithm or HashAlgorithm(d.get("hash", "sha1")),
        "manufacturer": options.manufacturer or str(d.get("manufacturer", "")),
        "model": options.model or str(d.get("model", "")),
        "t0": int(d.get("t0", 0)),
        "counter": int(d.get("counter", 0)),
    }


class _Row:
    """Turns one row's cells into a record, appending problems as it goes."""

    def __init__(
        self, locator: str, problems: list[Problem], encoding: str, guess_hex: bool = False
    ) -> None:
        self.locator = locator
        self.problems = problems
        self.encoding = encoding
        self.guess_hex = guess_hex  # report a hex secret in a base32 column (seed.hex_secret)
        self.ok = True
        self.serial: str | None = None

    def error(self, code: str, message: str) -> None:
        self.ok = False
        self.problems.append(Problem(self.locator, code, message, serial=self.serial))

    def build(self, cells: dict[Column, str], defaults: dict[str, Any]) -> SeedRecord | None:
        values = dict(defaults)
        raw_secret: str | None = None
        pending_period_or_counter: str | None = None
        for column, raw in cells.items():
            text = raw.strip()
            prop = column.property
            if prop is None or prop == "ignore":
                continue
            if not text:
                if not column.optional:
                    self.error("seed.missing_field", f"column '{column.header}' is empty")
                continue
            if prop == "serial":
                self.serial = text
                values["serial"] = text
            elif prop == "secret":
                raw_secret = text
            elif prop == "kind":
                try:
                    values["kind"] = OtpKind(text.lower())
                except ValueError:
                    self.error("seed.unsupported_kind", f"token type {text!r} is not TOTP or HOTP")
            elif prop == "algorithm":
                algorithm = parse_hash(text)
                if algorithm is None:
                    self.error(
                        "seed.unsupported_hash",
                        f"hash {text!r} is not supported; use SHA1, SHA256 or SHA512",
                    )
                else:
                    values["algorithm"] = algorithm
            elif prop == "period_or_counter":
                pending_period_or_counter = text
            elif prop in _INT_PROPS:
                number = self._int(text, _INT_PROPS[prop])
                if number is not None:
                    values[prop] = number
            else:
                values[prop] = text
        if pending_period_or_counter is not None:
            number = self._int(pending_period_or_counter, "time step or counter")
            if number is not None:
                values["period" if values["kind"] is OtpKind.TOTP else "counter"] = number
        if "serial" not in values:
            if self.ok:
                self.error("seed.missing_field", "the serial number is missing")
            return None
        problem = serial_problem(values["serial"], self.locator)
        if problem is not None:
            self.problems.append(problem)
            self.ok = self.ok and not problem.is_error
        secret: Secret | None = None
        if raw_secret is not None:
            secret = decode_secret(
                raw_secret,
                self.encoding,
                self.locator,
                self.serial,
                self.problems,
                guess_hex=self.guess_hex,
            )
        elif self.ok:
            self.error("seed.missing_field", "the secret is missing")
        if secret is None or not self.ok:
            return None
        values["secret"] = secret
        return SeedRecord(**values)

    def _int(self, text: str, what: str) -> int | None:
        try:
            return int(text)
        except ValueError:
            self.error("seed.invalid_number", f"{what} {text!r} is not a whole number")
            return None


def read_csv(
    profile: CsvProfile, fmt: str, data: bytes, source: str, options: ReadOptions
) -> ReadResult:
    """One pass over the lines: each row through :class:`_FastRow`, else :class:`_Row`."""
    result = ReadResult(format=fmt, source=source)
    text, problems = decode_text(data, source)
    result.problems.extend(problems)
    if any(p.is_error for p in problems):
        return result
    lines = text.splitlines()
    del text
    comment = profile.comment_prefix
    first = next(
        (
            i
            for i, line in enumerate(lines)
            if line.strip() and not (comment and line.lstrip().startswith(comment))
        ),
        None,
    )
    if first is None:
        result.problems.append(Problem(source, "seed.empty", "the file holds no tokens"))
        return result
    delimiter = sniff_delimiter(lines[first], profile)
    positions: list[tuple[int, Column]] = []
    start = first
    if profile.header_row:
        header_number, header_line = first + 1, lines[first]
        start = first + 1
        check_fields([header_line], header_number, source, delimiter)
        header_cells = [normalize_header(c) for c in _split(header_line, delimiter)]
        for column in profile.columns:
            index = next((i for i, h in enumerate(header_cells) if h in column.names()), None)
            if index is not None:
                positions.append((index, column))
            elif column.property not in (None, "ignore") and not column.optional:
                result.problems.append(
                    Problem(
                        f"{source}:{header_number}",
                        "seed.missing_column",
                        f"the header has no '{column.header}' column (found: "
                        f"{', '.join(_split(header_line, delimiter))})",
                    )
                )
        mapped = {i for i, _ in positions}
        for i, cell in enumerate(_split(header_line, delimiter)):
            if i not in mapped and cell.strip():
                result.problems.append(
                    Problem(
                        f"{source}:{header_number}",
                        "seed.unknown_column",
                        f"column '{cell.strip()}' is not part of {profile.name}; it was ignored",
                        Severity.WARNING,
                    )
                )
        if result.errors:
            return result
    else:
        positions = list(enumerate(profile.columns))
    required = max((i for i, c in positions if not c.optional), default=-1) + 1
    defaults = _defaults(profile, options)
    encoding = options.secret_encoding or profile.secret_encoding
    plan = Plan(positions, defaults, encoding)
    fast = FastRow(plan)
    progress = options.progress
    for offset in range(start, len(lines), BLOCK_ROWS):
        block = lines[offset : offset + BLOCK_ROWS]
        check_fields(block, offset + 1, source, delimiter)
        width = block[0].count(delimiter) + 1
        records = None
        if not comment and width >= required and (profile.header_row or width <= len(positions)):
            records = read_block(
                plan, block, delimiter, width, source=source, first_number=offset + 1
            )
        if records is not None:
            result.records.extend(records)
            result.locators.extend(
                f"{source}:{n}" for n in range(offset + 1, offset + 1 + len(block))
            )
        else:
            _read_rows(
                profile,
                block,
                offset + 1,
                source,
                delimiter,
                positions,
                required,
                fast,
                result,
                guess_hex=options.secret_encoding is None,
            )
        if progress is not None:
            progress(len(block))
    return result


def _read_rows(
    profile: CsvProfile,
    lines: list[str],
    first_number: int,
    source: str,
    delimiter: str,
    positions: list[tuple[int, Column]],
    required: int,
    fast: FastRow,
    result: ReadResult,
    *,
    guess_hex: bool = False,
) -> None:
    """Row by row: :class:`FastRow` for a clean row, :class:`_Row` to report on the others."""
    comment = profile.comment_prefix
    encoding = fast.plan.encoding
    defaults = dict(zip(RECORD_FIELDS, fast.plan.defaults, strict=True))
    records, locators = result.records, result.locators
    for number, line in enumerate(lines, start=first_number):
        if comment and line.lstrip().startswith(comment):
            continue
        cells = _split(line, delimiter) if '"' in line else line.split(delimiter)
        if len(cells) >= required and (profile.header_row or len(cells) <= len(positions)):
            record = fast(cells)
            if record is not None:
                records.append(record)
                locators.append(f"{source}:{number}")
                continue
        if not line.strip():
            continue
        locator = f"{source}:{number}"
        row = _Row(locator, result.problems, encoding, guess_hex)
        if len(cells) < required:
            row.serial = (
                cells[0].strip()
                if cells and positions and positions[0][1].property == "serial"
                else None
            )
            row.error(
                "seed.missing_field",
                f"the line has {len(cells)} field(s); {profile.name} needs {required}",
            )
            continue
        if len(cells) > len(positions) and not profile.header_row:
            result.problems.append(
                Problem(
                    locator,
                    "seed.extra_fields",
                    f"the line has {len(cells)} fields; {profile.name} has {len(positions)}: "
                    "the rest was ignored",
                    Severity.WARNING,
                )
            )
        values = {column: cells[i] for i, column in positions if i < len(cells)}
        record = row.build(values, defaults)
        if record is not None:
            result.add(record, locator)


def _cell(profile: CsvProfile, column: Column, record: SeedRecord, options: WriteOptions) -> str:
    if column.property is None:
        return column.value or ""
    prop = column.property
    if prop == "secret":
        encoding = options.secret_encoding or profile.secret_encoding
        upper = options.upper if options.upper is not None else profile.secret_case == "upper"
        return record.secret.encode(encoding, upper=upper, padding=profile.secret_padding)
    if prop == "kind":
        return profile.spell_kind(record.kind)
    if prop == "algorithm":
        return profile.spell_hash(record.algorithm)
    if prop == "period_or_counter":
        return str(record.period if record.kind is OtpKind.TOTP else record.counter)
    if prop == "ignore":
        return ""
    value = str(getattr(record, prop))
    return value if options.keep_formulas else neutralise(value, prop)


def write_csv(profile: CsvProfile, records: Sequence[SeedRecord], options: WriteOptions) -> bytes:
    def wanted(column: Column) -> bool:
        if column.write == "never":
            return False
        if column.write == "if_any" and column.property:
            return any(getattr(r, column.property) for r in records)
        return True

    columns = [c for c in profile.columns if wanted(c)]
    header = [c.header for c in columns] if profile.header_row else None
    rows = [[_cell(profile, c, r, options) for c in columns] for r in records]
    return render_rows(profile, header, rows)
