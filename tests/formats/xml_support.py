"""Test helpers: RFC 4226/6238 codes straight from ``hmac`` (independent of ``oathdesk.otp``),
sample loading, and finding the line of a marker in a sample."""

from __future__ import annotations

import hashlib
import hmac
import struct
from pathlib import Path

from oathdesk.domain import HashAlgorithm, SeedRecord

SAMPLES = Path(__file__).parent / "samples" / "xml"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def line_of(name: str, marker: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line holding ``marker`` in a sample file."""
    hits = [n for n, line in enumerate(sample(name).decode().splitlines(), 1) if marker in line]
    return hits[occurrence - 1]


def hotp(key: bytes, counter: int, digits: int = 6, algorithm: str = "sha1") -> str:
    """RFC 4226 §5.3 dynamic truncation, written out."""
    mac = hmac.new(key, struct.pack(">Q", counter), getattr(hashlib, algorithm)).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def code_at(record: SeedRecord, unix_time: int) -> str:
    """The code a token shows at ``unix_time`` (TOTP) — RFC 6238 with T0 and the record's step."""
    step = (unix_time - record.t0) // record.period
    return hotp(record.secret.reveal(), step, record.digits, _name(record.algorithm))


def code_for_counter(record: SeedRecord, counter: int) -> str:
    return hotp(record.secret.reveal(), counter, record.digits, _name(record.algorithm))


def _name(algorithm: HashAlgorithm) -> str:
    return algorithm.value
