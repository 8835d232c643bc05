"""A roster file: which user each token goes to, ``serial,upn[,display name]`` per line.

Why: a bulk hand-out starts from the administrator's spreadsheet, saved as CSV by whatever tool
they have, so the reader takes what seed CSVs take (a BOM, UTF-16 "Unicode text", Windows-1252,
comma, semicolon or tab, an optional header naming the columns in any order) and reports each
bad line with the same file:line locator and a code, instead of stopping at the first.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from oathdesk.domain import Problem
from oathdesk.formats.text import decode_text, utf16_to_utf8

SERIAL_NAMES = frozenset({"serial", "serial number", "serialnumber", "serial_number", "token"})
USER_NAMES = frozenset(
    {"upn", "user", "user principal name", "userprincipalname", "user_id", "userid", "assignto"}
)
NAME_NAMES = frozenset({"display name", "displayname", "display_name", "name", "token name"})
MAX_ROWS = 200_000


@dataclass(frozen=True)
class RosterRow:
    """One line of a roster: the token's serial, its user (UPN or object id), an optional name
    Entra shows for the token, and where the line is (``file:line``)."""

    line: int
    serial: str
    user: str
    display_name: str = ""
    locator: str = ""


@dataclass
class RosterFile:
    """The rows read and the problems found while reading (never a secret: rosters hold none)."""

    name: str
    rows: list[RosterRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _norm(cell: str) -> str:
    return " ".join(cell.strip().lower().replace("-", " ").split())


def _dialect(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _columns(cells: list[str]) -> tuple[int, int, int | None] | None:
    """(serial, user, name) column positions when ``cells`` is a header line, else None."""
    names = [_norm(c) for c in cells]
    serial = next((i for i, n in enumerate(names) if n in SERIAL_NAMES), None)
    user = next((i for i, n in enumerate(names) if n in USER_NAMES), None)
    if serial is None or user is None:
        return None
    name = next((i for i, n in enumerate(names) if n in NAME_NAMES), None)
    return serial, user, name


def read_roster(data: bytes, name: str) -> RosterFile:
    """Every line of a roster file, with a problem for each line that cannot be used."""
    out = RosterFile(name)
    text, decoding = decode_text(utf16_to_utf8(data, name), name)
    out.problems += decoding
    reader = csv.reader(io.StringIO(text), delimiter=_dialect(text))
    layout: tuple[int, int, int | None] = (0, 1, 2)
    first = True
    for cells in reader:
        line = reader.line_num
        locator = f"{name}:{line}"
        if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
            continue
        if first:
            first = False
            header = _columns(cells)
            if header is not None:
                layout = header
                continue
        if len(out.rows) >= MAX_ROWS:
            out.problems.append(
                _problem(
                    locator,
                    code="roster.too_long",
                    message=f"A roster holds at most {MAX_ROWS} lines.",
                )
            )
            break
        serial_at, user_at, name_at = layout
        serial = cells[serial_at].strip() if serial_at < len(cells) else ""
        user = cells[user_at].strip() if user_at < len(cells) else ""
        shown = cells[name_at].strip() if name_at is not None and name_at < len(cells) else ""
        if not serial or not user:
            missing = "serial" if not serial else "user"
            out.problems.append(
                _problem(
                    locator,
                    code="roster.missing_field",
                    message=f"The line has no {missing}; a roster line is "
                    "serial,upn[,display name].",
                    serial=serial or None,
                )
            )
            continue
        if len(shown) > 200:
            out.problems.append(
                _problem(
                    locator,
                    code="roster.bad_name",
                    message="The display name is longer than 200 characters; shorten it.",
                    serial=serial,
                )
            )
            continue
        out.rows.append(RosterRow(line, serial, user, shown, locator))
    if not out.rows and not out.problems:
        out.problems.append(
            _problem(name, code="roster.empty", message="The roster names no token.")
        )
    return out


def _problem(locator: str, *, code: str, message: str, serial: str | None = None) -> Problem:
    return Problem(locator, code, message, serial=serial)
