"""ZIP and PGP bombs: refused from the headers, and refused while reading when the headers lie.

The large bombs run with the default caps and assert (tracemalloc) that refusing them never
allocates anything near their size.
"""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from oathdesk.containers import RATIO_FLOOR, UnwrapOptions, unwrap
from oathdesk.domain import ArchiveError, Secret
from tests.containers.conftest import GpgKeys, run

MIB = 1024 * 1024


def zeros_zip(size: int, name: str = "seeds.csv") -> bytes:
    """A ZIP of ``size`` zero bytes, written in 1 MiB pieces so the test never holds them all."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open(name, "w") as member,
    ):
        piece = bytes(MIB)
        for _ in range(size // MIB):
            member.write(piece)
        member.write(bytes(size % MIB))
    return buffer.getvalue()


def forge_size(archive: bytes, declared: int) -> bytes:
    """Make the first member's local and central headers declare ``declared`` bytes."""
    data = bytearray(archive)
    struct.pack_into("<I", data, 22, declared)  # local file header: uncompressed size
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, declared)  # central directory: uncompressed size
    return bytes(data)


def refused(
    data: bytes, options: UnwrapOptions, name: str = "bomb.zip"
) -> tuple[ArchiveError, int]:
    """The error and the peak memory allocated while unwrapping."""
    tracemalloc.start()
    try:
        with pytest.raises(ArchiveError) as caught:
            unwrap(data, name, options)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return caught.value, peak


@pytest.fixture(scope="module")
def big_bomb() -> bytes:
    """300 MB of zeros in about 1.3 MB of ZIP."""
    return zeros_zip(300 * 1000 * 1000)


def test_total_size_over_a_low_cap_from_the_header() -> None:
    error, _ = refused(zeros_zip(5 * MIB), UnwrapOptions(max_total_size=4 * MIB))
    assert error.code == "container.too_large"
    assert error.details["declared"] == 5 * MIB and error.details["cap"] == 4 * MIB


def test_total_counts_every_member() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("seeds.csv", b"a,b\n" * 1000)
        archive.writestr("padding.bin", bytes(3 * MIB))
    error, _ = refused(buffer.getvalue(), UnwrapOptions(max_total_size=2 * MIB, max_ratio=10**6))
    assert error.code == "container.too_large"


def test_ratio_over_a_low_cap_from_the_header() -> None:
    error, _ = refused(zeros_zip(2 * MIB), UnwrapOptions(max_ratio=50))
    assert error.code == "container.too_large" and "ratio" in error.message
    assert error.details["ratio_cap"] == 50


def test_small_members_are_never_refused_for_their_ratio() -> None:
    data = zeros_zip(RATIO_FLOOR)
    assert unwrap(data, "ok.zip", UnwrapOptions(max_ratio=2)).data == bytes(RATIO_FLOOR)


def test_within_the_caps_it_is_read() -> None:
    data = zeros_zip(3 * MIB)
    assert len(unwrap(data, "ok.zip", UnwrapOptions(max_ratio=10_000)).data) == 3 * MIB


def test_300_mb_with_default_caps_is_refused_without_inflating(big_bomb: bytes) -> None:
    error, peak = refused(big_bomb, UnwrapOptions())
    assert error.code == "container.too_large"
    assert peak < 8 * MIB, peak


def test_lying_header_is_caught_while_reading(big_bomb: bytes) -> None:
    """Headers that declare 1 KB pass every header check; the data must not get past."""
    forged = forge_size(big_bomb, 1000)
    error, peak = refused(forged, UnwrapOptions())
    assert error.code == "container.too_large" and "expands past" in error.message
    assert peak < 8 * MIB, peak


def test_lying_header_inside_an_aes_zip_is_caught(tmp_path: Path) -> None:
    """The same forgery under WinZip AES (made by 7z, then the sizes rewritten)."""
    source = tmp_path / "seeds.csv"
    source.write_bytes(bytes(20 * MIB))
    run(
        ["7z", "a", "-tzip", "-mem=AES256", "-pbomb", tmp_path / "b.zip", source.name], cwd=tmp_path
    )
    forged = forge_size((tmp_path / "b.zip").read_bytes(), 4096)
    error, peak = refused(forged, UnwrapOptions(password=Secret(b"bomb")))
    assert error.code == "container.too_large" and "expands past" in error.message
    assert peak < 8 * MIB, peak


def test_header_declaring_more_than_there_is_is_corrupt() -> None:
    forged = forge_size(zeros_zip(100_000), 200_000)
    error, _ = refused(forged, UnwrapOptions())
    assert error.code == "container.corrupt"


def test_pgp_compression_bomb_is_stopped(gpg_keys: GpgKeys, tmp_path: Path) -> None:
    """gpg compresses 64 MB of zeros to a few dozen KB; the default caps stop the output early."""
    source = tmp_path / "zeros.csv"
    with source.open("wb") as out:
        for _ in range(64):
            out.write(bytes(MIB))
    message = tmp_path / "zeros.csv.gpg"
    gpg_keys.gpg(
        "--always-trust",
        "--compress-level",
        "9",
        "--encrypt",
        "--recipient",
        gpg_keys.plain,
        "--output",
        message,
        source,
    )
    data = message.read_bytes()
    assert len(data) < MIB
    error, peak = refused(data, UnwrapOptions(gpg_home=gpg_keys.home), "zeros.csv.gpg")
    assert error.code == "container.too_large"
    assert "zeros.csv.gpg: the PGP message expands past" in error.message
    assert peak < 32 * MIB, peak
