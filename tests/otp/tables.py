"""Loaders for the published vector tables kept as CSV data files in ``vectors/``."""

from __future__ import annotations

import csv
from pathlib import Path

from oathdesk.domain import HashAlgorithm

HERE = Path(__file__).parent / "vectors"

RFC_SEED_SHA1 = b"12345678901234567890"
RFC6238_SEEDS = {
    HashAlgorithm.SHA1: RFC_SEED_SHA1,
    HashAlgorithm.SHA256: b"12345678901234567890123456789012",
    HashAlgorithm.SHA512: (b"1234567890" * 7)[:64],
}


def rows(name: str) -> list[dict[str, str]]:
    """The data rows of ``vectors/<name>``; lines starting with ``#`` are provenance notes."""
    lines = (HERE / name).read_text(encoding="ascii").splitlines()
    return list(csv.DictReader(line for line in lines if not line.startswith("#")))
