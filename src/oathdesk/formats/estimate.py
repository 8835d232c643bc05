"""How many tokens a seed file holds and how long reading it takes, known before reading it.

Why: a 100,000-token file or a PBKDF2-encrypted PSKC file takes seconds to read; the CLI says
how many tokens are coming and about how long, and shows a progress bar (fed by
``ReadOptions.progress``) out of that count. The count is a scan for each format's record
marker (lines, ``<KeyPackage>``, ``"serialNumber"``...), never a parse, so it costs a few
milliseconds on the largest file and may be off by a header or a comment line. The rates are
this project's measurements (``bench/seeds.py``, docs/formats.md "Performance") rounded down,
so an estimate errs long.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# tokens per second on the 2-core reference machine
_RATES = {
    "pskc": 20_000,
    "pskc-encrypted": 3_000,  # PBKDF2 once, then AES and a MAC per value
    "entra-json": 50_000,
    "dualshield-xml": 20_000,
}
_CSV_RATE = 60_000
_HEADERLESS = frozenset({"duo-csv", "oath-csv", "otpauth"})
_PSKC_PACKAGE = re.compile(rb"<(?:[\w.-]+:)?(?:KeyPackage|Device)[\s>/]")
_DUALSHIELD_TOKEN = re.compile(rb"<(?:[\w.-]+:)?token[\s>/]")


def count_tokens(data: bytes, fmt: str) -> int:
    """About how many tokens ``data`` (UTF-8 or ASCII-compatible bytes) holds as ``fmt``."""
    if fmt == "pskc":
        return len(_PSKC_PACKAGE.findall(data))
    if fmt == "entra-json":
        return data.count(b'"serialNumber"')
    if fmt == "dualshield-xml":
        return len(_DUALSHIELD_TOKEN.findall(data))
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    blank = data.count(b"\n\n") + data.count(b"\n\r\n")
    return max(0, lines - blank - (0 if fmt in _HEADERLESS else 1))


def estimate_seconds(data: bytes, fmt: str, count: int) -> float:
    """About how long reading ``count`` tokens of ``fmt`` takes (validation included)."""
    key = fmt
    if fmt == "pskc" and b"EncryptedValue" in data:
        key = "pskc-encrypted"
    return count / _RATES.get(key, _CSV_RATE)


@dataclass
class LaneProgress:
    """One ``ReadOptions.progress`` count across a fast lane and the careful reader behind it:
    when the fast lane declines part way, the careful reader's first tokens (already counted)
    are not reported again, so a progress bar never counts a token twice."""

    progress: Callable[[int], None] | None
    reported: int = 0
    seen: int = 0

    def fast(self, tokens: int) -> None:
        self.reported += tokens
        if self.progress is not None:
            self.progress(tokens)

    def careful(self, tokens: int) -> None:
        self.seen += tokens
        if self.progress is not None and self.seen > self.reported:
            self.progress(self.seen - self.reported)
            self.reported = self.seen
