"""The format table, detection by content, and the read/write entry points every caller uses."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from functools import cache
from typing import BinaryIO

from oathdesk.domain import SeedRecord, UnknownFormatError
from oathdesk.formats._fast import gc_paused
from oathdesk.formats.base import ReadOptions, ReadResult, SeedFormat, WriteOptions, unsupported
from oathdesk.formats.csv_engine import CsvProfile
from oathdesk.formats.csv_safety import formula_problems
from oathdesk.formats.text import utf16_to_utf8
from oathdesk.formats.validation import check_capabilities, check_records

# format id -> "module:class"; imported on first use so a CLI call loads only what it needs
_TABLE: dict[str, str] = {
    "entra-csv": "oathdesk.formats.csv_formats:EntraCsv",
    "entra-json": "oathdesk.formats.entra_json:EntraJson",
    "pskc": "oathdesk.formats.pskc:Pskc",
    "dualshield-xml": "oathdesk.formats.dualshield:DualShieldXml",
    "duo-csv": "oathdesk.formats.csv_formats:DuoCsv",
    "okta-csv": "oathdesk.formats.csv_formats:OktaCsv",
    "salesforce-csv": "oathdesk.formats.csv_formats:SalesforceCsv",
    "safeid-csv": "oathdesk.formats.csv_formats:SafeIdCsv",
    "custom-csv": "oathdesk.formats.csv_formats:CustomCsv",
    "oath-csv": "oathdesk.formats.oath_csv:OathCsv",
    "otpauth": "oathdesk.formats.otpauth:OtpauthUris",
}
FORMAT_IDS: tuple[str, ...] = tuple(_TABLE)


@cache
def get_format(fmt: str) -> SeedFormat:
    try:
        target = _TABLE[fmt]
    except KeyError:
        raise UnknownFormatError(
            f"Unknown format {fmt!r}; formats are: {', '.join(FORMAT_IDS)}.",
            code="seed.unknown_format_id",
            candidates=FORMAT_IDS,
        ) from None
    module, _, name = target.partition(":")
    cls = getattr(importlib.import_module(module), name)
    instance: SeedFormat = cls()
    return instance


def all_formats() -> list[SeedFormat]:
    return [get_format(f) for f in FORMAT_IDS]


def detect(data: bytes, source: str) -> SeedFormat:
    """The one format that claims the bytes; ambiguity is an error listing the candidates."""
    data = utf16_to_utf8(data, source)
    scores = {f.id: f.sniff(data) for f in all_formats() if f.id != "custom-csv"}
    for level in (2, 1):
        hits = [fid for fid, score in scores.items() if score == level]
        if len(hits) == 1:
            return get_format(hits[0])
        if len(hits) > 1:
            raise UnknownFormatError(
                f"{source}: the format cannot be told apart safely; it could be "
                f"{', '.join(hits)}. Name it with --from.",
                code="seed.ambiguous_format",
                candidates=hits,
            )
    raise UnknownFormatError(
        f"{source}: not a seed file format oathdesk knows. Name it with --from "
        f"(formats: {', '.join(FORMAT_IDS)}), or describe a CSV layout with --profile.",
        candidates=(),
    )


def read_seeds(
    data: bytes, source: str, fmt: str | None = None, options: ReadOptions | None = None
) -> ReadResult:
    """Read and validate. The result always carries the full report; callers decide to refuse."""
    options = options or ReadOptions()
    data = utf16_to_utf8(data, source)  # Excel's "Unicode text": read as its UTF-8 twin
    if fmt is None and options.profile is not None:
        fmt = "custom-csv"
    reader = get_format(fmt) if fmt else detect(data, source)
    with gc_paused():
        result = reader.read(data, source, options)
    result.problems.extend(check_records(result.records, result.locators))
    profile = options.profile or getattr(reader, "profile", None)
    headers = (
        {c.property: c.header for c in profile.columns if c.property}
        if isinstance(profile, CsvProfile)
        else None
    )
    result.problems.extend(formula_problems(result.records, result.locators, headers))
    return result


def write_seeds(
    records: Sequence[SeedRecord], fmt: str, options: WriteOptions | None = None
) -> bytes:
    writer = get_format(fmt)
    problems = check_capabilities(records, writer.capabilities, fmt)
    if problems:
        raise unsupported(problems, fmt)
    with gc_paused():
        return writer.write(records, options or WriteOptions())


def write_seeds_to(
    records: Sequence[SeedRecord],
    fmt: str,
    stream: BinaryIO,
    options: WriteOptions | None = None,
) -> None:
    """``write_seeds`` into ``stream``: refused before any byte is written, as there; a format
    that can stream (``write_to``, as entra-json does) never holds its whole output at once."""
    writer = get_format(fmt)
    problems = check_capabilities(records, writer.capabilities, fmt)
    if problems:
        raise unsupported(problems, fmt)
    options = options or WriteOptions()
    write_to = getattr(writer, "write_to", None)
    with gc_paused():
        if write_to is not None:
            write_to(records, options, stream)
        else:
            stream.write(writer.write(records, options))
