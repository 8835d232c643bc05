"""CSV formula injection: which values a spreadsheet would run, and the quote that stops it.

A field starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a
formula by Excel, LibreOffice and Sheets (OWASP "CSV injection"). Every CSV oathdesk writes
prefixes such a value with a single quote, and reading a seed file warns about one. The rule is
per field: the text fields (serial, manufacturer, model, user, display name) are checked; a
serial that is a signed whole number (``-0042``) is left alone, since a spreadsheet reads it
as a number, not a formula. Secrets (base32/hex/base64), token types, hashes and numbers are
written by oathdesk itself and never start a formula.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from oathdesk.domain import Problem, SeedRecord, Severity

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_FIELDS = ("serial", "manufacturer", "model", "user", "display_name")
_SIGNED_NUMBER = re.compile(r"[+-]\d+")
_STARTS = frozenset(FORMULA_STARTS)


def starts_formula(value: str, field: str = "") -> bool:
    """Whether a spreadsheet would run ``value`` (written in ``field``) as a formula."""
    if not value or value[0] not in _STARTS:
        return False
    return not (field == "serial" and _SIGNED_NUMBER.fullmatch(value))


def neutralise(value: str, field: str = "") -> str:
    """``value`` with a leading ``'`` when it would start a formula, else unchanged."""
    return "'" + value if starts_formula(value, field) else value


def formula_problems(
    records: Sequence[SeedRecord],
    locators: Sequence[str],
    columns: Mapping[str, str] | None = None,
) -> list[Problem]:
    """A warning per text field that starts a formula, naming its line and column."""
    firsts = {c for r in records for c in (r.serial[:1], r.model[:1], r.manufacturer[:1])}
    firsts |= {c for r in records for c in (r.user[:1], r.display_name[:1])}
    if not firsts & _STARTS:  # the common case: one set pass, no walk field by field
        return []
    columns = columns or {}
    problems: list[Problem] = []
    for record, locator in zip(records, locators, strict=True):
        for name in TEXT_FIELDS:
            value: str = getattr(record, name)
            if starts_formula(value, name):
                problems.append(
                    Problem(
                        locator,
                        "seed.formula_prefix",
                        f"column '{columns.get(name, name)}' starts with {value[0]!r}: a "
                        "spreadsheet would run it as a formula; every CSV oathdesk writes "
                        "prefixes it with ' (seeds convert --keep-formulas writes it as it is)",
                        Severity.WARNING,
                        serial=record.serial,
                    )
                )
    return problems
