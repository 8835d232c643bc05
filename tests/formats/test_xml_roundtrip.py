"""Every XML writer round-trips through its reader for random tokens (Hypothesis)."""

from __future__ import annotations

import io
import string

from hypothesis import given
from hypothesis import strategies as st
from pskc import PSKC

from oathdesk.domain import HashAlgorithm, OtpKind, Secret, SeedRecord
from oathdesk.formats.base import ReadOptions, WriteOptions
from oathdesk.formats.dualshield import DualShieldXml
from oathdesk.formats.pskc import Pskc

SERIALS = st.text(string.digits + string.ascii_uppercase, min_size=1, max_size=14)
TEXT = st.text(string.ascii_letters + string.digits + " &<>'\"/.-", max_size=16).map(str.strip)
SECRETS = st.sampled_from([10, 16, 20, 32, 64]).flatmap(
    lambda n: st.binary(min_size=n, max_size=n).map(Secret)
)
HASHES = st.sampled_from(list(HashAlgorithm))


@st.composite
def records(draw: st.DrawFn) -> SeedRecord:
    kind = draw(st.sampled_from(list(OtpKind)))
    totp = kind is OtpKind.TOTP
    return SeedRecord(
        serial=draw(SERIALS),
        secret=draw(SECRETS),
        kind=kind,
        period=draw(st.sampled_from([30, 60])) if totp else 30,
        t0=draw(st.sampled_from([0, 0, 1_700_000_000])) if totp else 0,
        digits=draw(st.sampled_from([6, 8])),
        algorithm=draw(HASHES),
        counter=0 if totp else draw(st.integers(0, 2**40)),
        manufacturer=draw(TEXT),
        model=draw(TEXT),
        user=draw(TEXT),
        display_name=draw(TEXT),
    )


BATCHES = st.lists(records(), min_size=1, max_size=5, unique_by=lambda r: r.serial)


def roundtrip(batch: list[SeedRecord], write: WriteOptions, read: ReadOptions) -> None:
    data = Pskc().write(batch, write)
    result = Pskc().read(data, "out.pskcxml", read)
    assert result.problems == []
    assert result.records == batch


@given(BATCHES)
def test_plain_pskc(batch: list[SeedRecord]) -> None:
    roundtrip(batch, WriteOptions(), ReadOptions())


@given(BATCHES, st.sampled_from([16, 24, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n)))
def test_preshared_key_pskc(batch: list[SeedRecord], key: bytes) -> None:
    roundtrip(batch, WriteOptions(pskc_key=Secret(key)), ReadOptions(pskc_key=Secret(key)))


@given(BATCHES, st.text(min_size=1, max_size=20))
def test_passphrase_pskc(batch: list[SeedRecord], passphrase: str) -> None:
    secret = Secret(passphrase.encode())
    roundtrip(
        batch,
        WriteOptions(passphrase=secret, pbkdf2_iterations=3),
        ReadOptions(passphrase=secret),
    )


@st.composite
def uniform_batches(draw: st.DrawFn) -> list[SeedRecord]:
    """Tokens sharing one DualShield header (digits, step, hash, product)."""
    shared = {
        "digits": draw(st.sampled_from([6, 8])),
        "period": draw(st.sampled_from([30, 60])),
        "algorithm": draw(HASHES),
        "manufacturer": draw(TEXT),
        "model": draw(TEXT),
    }
    pairs = draw(st.lists(st.tuples(SERIALS, SECRETS), max_size=5, unique_by=lambda p: p[0]))
    return [SeedRecord(serial, secret, **shared) for serial, secret in pairs]  # type: ignore[arg-type]


@given(uniform_batches(), st.sampled_from(["hex", "base32", "base64"]), st.booleans())
def test_dualshield(batch: list[SeedRecord], encoding: str, upper: bool) -> None:
    data = DualShieldXml().write(batch, WriteOptions(secret_encoding=encoding, upper=upper))
    result = DualShieldXml().read(data, "out.xml", ReadOptions())
    assert result.errors == []
    assert result.records == batch


def test_encrypted_pskc_is_readable_by_python_pskc_itself() -> None:
    """Our PSK output opens with the library's own reader and MAC check, not just ours."""
    token = SeedRecord("0042", Secret(bytes(range(20))), manufacturer="Acme")
    data = Pskc().write([token], WriteOptions(pskc_key=Secret(bytes(16))))
    pskc = PSKC(io.BytesIO(data))
    pskc.encryption.key = bytes(16)
    [key] = pskc.keys
    assert key.check()
    assert (key.serial, key.secret, key.time_interval) == ("0042", bytes(range(20)), 30)
