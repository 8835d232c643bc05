"""Bytes to text the way vendor files need: BOM, UTF-8 or the Windows ANSI code page."""

from __future__ import annotations

from oathdesk.domain import Problem, Severity


def decode_text(data: bytes, source: str) -> tuple[str, list[Problem]]:
    """Decode UTF-8 (BOM or not); fall back to cp1252 (Excel's plain "CSV") with a warning."""
    problems: list[Problem] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        problems.append(
            Problem(
                f"{source}:{line}",
                "seed.not_utf8",
                "the file is not UTF-8; it was read as Windows-1252 (Excel's plain CSV). "
                "Check names with accents, or save the file as UTF-8",
                Severity.WARNING,
            )
        )
    if "\x00" in text:
        problems.append(
            Problem(source, "seed.binary", "the file holds NUL bytes: it is not a text file")
        )
    return text, problems


def looks_binary(data: bytes) -> bool:
    return b"\x00" in data[:4096]
