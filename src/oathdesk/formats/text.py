"""Bytes to text the way vendor files need: BOM, UTF-8, UTF-16 or the Windows ANSI code page."""

from __future__ import annotations

from oathdesk.domain import Problem, SeedFileError, Severity

# UTF-16 byte order marks (UTF-32 LE starts like UTF-16 LE, so it is ruled out first).
_UTF32_LE_BOM = b"\xff\xfe\x00\x00"
_UTF16_BOMS = ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_PROBE = 512  # bytes looked at to recognise UTF-16 without a BOM


def _bomless_utf16(data: bytes) -> str | None:
    """``utf-16-le``/``-be`` when the start is plainly ASCII text in UTF-16 (every other byte NUL).

    A text file in any 8-bit encoding has no NUL at all, so this never mistakes one for UTF-16.
    """
    head = data[: min(len(data), _PROBE) // 2 * 2]
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    if not odd.strip(b"\x00") and b"\x00" not in even:
        return "utf-16-le"
    if not even.strip(b"\x00") and b"\x00" not in odd:
        return "utf-16-be"
    return None


def utf16_to_utf8(data: bytes, source: str) -> bytes:
    """UTF-16 text (Excel's "Unicode text" export: UTF-16 LE with a BOM, tab-separated) as UTF-8.

    Why here, before detection: every reader and sniffer then sees the same UTF-8 bytes, so a
    UTF-16 file is read by the same lanes, with the same line numbers, as its UTF-8 twin. Any
    other data comes back unchanged, as does UTF-16 XML (its declaration names its encoding and
    the XML parser reads it as it is). A file that starts like UTF-16 but does not decode is
    ``seed.bad_utf16``.
    """
    codec = body = None
    if not data.startswith(_UTF32_LE_BOM):
        for bom, name in _UTF16_BOMS:
            if data.startswith(bom):
                codec, body = name, data[len(bom) :]
                break
    if codec is None:
        codec, body = _bomless_utf16(data), data
    if codec is None or body is None:
        return data
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        raise SeedFileError(
            f'{source}: the file is UTF-16 text (as Excel\'s "Unicode text" saves) but is cut '
            f'short or damaged at byte {exc.start}; save it again, preferably as "CSV UTF-8".',
            code="seed.bad_utf16",
            details={"file": source, "encoding": codec},
        ) from None
    if text.lstrip().startswith("<"):
        return data
    return text.encode("utf-8")


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
