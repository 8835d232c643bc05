"""What the import form says after a refused preview, and the order a preview lists problems in.

Why: a file that needs a password (or the name of its member, or its format) is not a broken
file; the administrator only has to type one more thing. Browsers cannot refill a file input, so
the page keeps the chosen file on the server (``service.ImportDesk``, sealed in the database) and
asks only for what was missing, with the password field marked required. Problems are listed by
line (the file's own and Entra's together), so the report reads top to bottom like the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from oathdesk.domain import OathdeskError, Problem

# Refusals the form can fix (a password, the member of a ZIP, the format): the file is kept.
PASSWORD_CODES = frozenset(
    {
        "container.password_required",
        "container.wrong_password",
        "seed.pskc_key_required",
        "seed.pskc_wrong_key",
    }
)
KEEP_FILE_CODES = PASSWORD_CODES | {
    "container.multiple_files",
    "container.member_not_found",
    "seed.unknown_format",
    "seed.ambiguous_format",
}
# What the page says first for each of them (the reader's message and code follow in details).
LEADS = {
    "container.password_required": "This file is encrypted: type its password, then check it "
    "again.",
    "container.wrong_password": "The password does not open this file: type it again, then "
    "check it again.",
    "seed.pskc_key_required": "This PSKC file is encrypted with a passphrase: type it, then "
    "check it again.",
    "seed.pskc_wrong_key": "The passphrase does not open this PSKC file: type it again, then "
    "check it again.",
    "container.multiple_files": "The ZIP holds several seed files: name the one to read, then "
    "check it again.",
    "container.member_not_found": "The ZIP holds no file of that name: name one it holds, then "
    "check it again.",
    "seed.unknown_format": "The file's format is not recognised: choose it, then check it again.",
    "seed.ambiguous_format": "The file could be of more than one format: choose it, then check "
    "it again.",
}

# ``name:12``, ``name!member:12``, ``name:12:5`` (JSON: line and column), ``name:12 (/xml/path)``
_LINE = re.compile(r":(\d+)(?::(\d+))?(?: \(.*\))?$")


def line_of(locator: str) -> tuple[int, int]:
    """The line (and column) a locator names; ``(0, 0)`` for a problem of the whole file, so
    those come first."""
    found = _LINE.search(locator)
    if found is None:
        return (0, 0)
    return (int(found.group(1)), int(found.group(2) or 0))


def by_line(problems: Iterable[Problem]) -> list[Problem]:
    """Problems in the order of the lines they name (numerically: line 9 before line 10); a
    stable sort, so problems of one line keep the reader's order."""
    return sorted(problems, key=lambda p: line_of(p.locator))


def needs_password(exc: OathdeskError) -> bool:
    """Whether typing the form's one password field can open the file: a ZIP password, or a
    PSKC passphrase (a PSKC file encrypted with a pre-shared key needs a key the form cannot
    take)."""
    if exc.code not in PASSWORD_CODES:
        return False
    return exc.details.get("needs") != "key-file"


def keeps_file(exc: OathdeskError) -> bool:
    """Whether the upload is kept for another try (the form can fix what was refused)."""
    return exc.code in KEEP_FILE_CODES


def size_text(size: int) -> str:
    """A file size as people read it (bytes, KB, MB)."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def refusal(exc: OathdeskError) -> dict[str, Any]:
    """The template's view of a refused preview: the lead sentence, the reader's message and
    code (shown under details), and whether the password field is now required."""
    return {
        "error": exc.message,
        "error_code": exc.code,
        "lead": LEADS.get(exc.code),
        "password_needed": needs_password(exc),
    }
