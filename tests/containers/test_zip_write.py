"""Our ZIP writers, read back by our reader and by independent tools (7z, unzip, pyzipper)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
import pyzipper
from hypothesis import given
from hypothesis import strategies as st

from oathdesk.containers import UnwrapOptions, unwrap, wrap_zip
from oathdesk.containers.zipcrypto import ZipCryptoCipher, zipcrypto_archive
from oathdesk.domain import ContainerError, Secret
from tests.containers.conftest import SEEDS_CSV, ZIP_PASSWORD, run, tool_fails

PW = Secret(ZIP_PASSWORD.encode())


def seven_zip_method(path: Path) -> str:
    listing = run(["7z", "l", "-slt", f"-p{ZIP_PASSWORD}", path]).decode()
    return next(
        line.split(" = ", 1)[1] for line in listing.splitlines() if line.startswith("Method")
    )


@pytest.mark.parametrize(("method", "layer"), [("aes", "zip-aes"), ("zipcrypto", "zip-zipcrypto")])
def test_our_zip_is_read_back_by_our_reader(method: str, layer: str) -> None:
    data = wrap_zip(SEEDS_CSV, "seeds.csv", PW, method=method)
    opened = unwrap(data, "out.zip", UnwrapOptions(password=PW))
    assert (opened.data, opened.name, opened.layers) == (SEEDS_CSV, "seeds.csv", [layer])


def test_aes_is_the_default_and_7z_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "out.zip"
    path.write_bytes(wrap_zip(SEEDS_CSV, "seeds.csv", PW))
    assert seven_zip_method(path) == "AES-256 Deflate"
    run(["7z", "x", f"-p{ZIP_PASSWORD}", f"-o{tmp_path / 'x'}", path])
    assert (tmp_path / "x" / "seeds.csv").read_bytes() == SEEDS_CSV
    assert tool_fails(["7z", "t", "-pnot-the-password", path])


def test_zipcrypto_is_read_by_unzip_and_7z(tmp_path: Path) -> None:
    path = tmp_path / "out.zip"
    path.write_bytes(wrap_zip(SEEDS_CSV * 40, "seeds.csv", PW, method="zipcrypto"))
    assert seven_zip_method(path) == "ZipCrypto Deflate"
    assert run(["unzip", "-p", "-P", ZIP_PASSWORD, path]) == SEEDS_CSV * 40
    run(["7z", "x", f"-p{ZIP_PASSWORD}", f"-o{tmp_path / 'x'}", path])
    assert (tmp_path / "x" / "seeds.csv").read_bytes() == SEEDS_CSV * 40
    assert tool_fails(["unzip", "-t", "-P", "not-the-password", path])


def test_zipcrypto_of_nothing_and_of_incompressible_data_is_read_by_unzip(tmp_path: Path) -> None:
    for index, payload in enumerate([b"", bytes(range(256)) * 3]):
        path = tmp_path / f"out{index}.zip"
        path.write_bytes(wrap_zip(payload, "s.dat", PW, method="zipcrypto"))
        assert run(["unzip", "-p", "-P", ZIP_PASSWORD, path]) == payload


def test_non_ascii_member_name_is_flagged_utf8(tmp_path: Path) -> None:
    for method in ("aes", "zipcrypto"):
        data = wrap_zip(SEEDS_CSV, "clés-été.csv", PW, method=method)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert archive.namelist() == ["clés-été.csv"]
        assert unwrap(data, "o.zip", UnwrapOptions(password=PW)).name == "clés-été.csv"


def test_pyzipper_cannot_write_zipcrypto() -> None:
    """Why zipcrypto.py exists: pyzipper only encrypts with WinZip AES."""
    with pyzipper.ZipFile(io.BytesIO(), "w") as archive:
        archive.setpassword(b"secret")
        with pytest.raises(NotImplementedError):
            archive.writestr("a.csv", b"x")


@given(
    st.binary(max_size=3000), st.binary(min_size=1, max_size=40), st.text(min_size=1, max_size=20)
)
def test_zipcrypto_round_trips_through_pyzipper(data: bytes, password: bytes, stem: str) -> None:
    """pyzipper's decrypter is an independent implementation of APPNOTE 6.1."""
    name = "".join(c for c in stem if c.isalnum()) or "x"
    archive = zipcrypto_archive(data, name + ".csv", password)
    with pyzipper.AESZipFile(io.BytesIO(archive)) as reader:
        assert reader.read(name + ".csv", pwd=password) == data


def test_cipher_state_carries_across_calls() -> None:
    whole = ZipCryptoCipher(b"pw").encrypt(b"0123456789" * 10)
    parts = ZipCryptoCipher(b"pw")
    assert parts.encrypt(b"0123456789" * 4) + parts.encrypt(b"0123456789" * 6) == whole
    assert whole != b"0123456789" * 10


def test_two_wraps_differ_but_both_open() -> None:
    """A random encryption header (ZipCrypto) or salt (AES) each time, never a fixed one."""
    for method in ("aes", "zipcrypto"):
        first = wrap_zip(SEEDS_CSV, "s.csv", PW, method=method)
        second = wrap_zip(SEEDS_CSV, "s.csv", PW, method=method)
        assert first != second
        for data in (first, second):
            assert unwrap(data, "o.zip", UnwrapOptions(password=PW)).data == SEEDS_CSV


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ContainerError) as caught:
        wrap_zip(SEEDS_CSV, "s.csv", PW, method="rot13")
    assert caught.value.code == "container.unknown_method"


def test_empty_password_is_refused() -> None:
    with pytest.raises(ContainerError) as caught:
        wrap_zip(SEEDS_CSV, "s.csv", Secret(b""))
    assert caught.value.code == "container.password_required"


@pytest.mark.parametrize("name", ["", "dir/", "/etc/seeds.csv", "../seeds.csv", "a\0b.csv"])
def test_bad_member_names_are_refused(name: str) -> None:
    with pytest.raises(ContainerError) as caught:
        wrap_zip(SEEDS_CSV, name, PW)
    assert caught.value.code == "container.bad_member_name"
