"""Both nestings ("password and PGP"), made by the tools and by us, and the depth bound."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from oathdesk.containers import MAX_DEPTH, UnwrapOptions, encrypt_pgp, unwrap, wrap_zip
from oathdesk.domain import ArchiveError, DecryptionError, Secret
from tests.containers.conftest import SEEDS_CSV, ZIP_PASSWORD, GpgKeys, run

PW = Secret(ZIP_PASSWORD.encode())


def test_pgp_inside_an_aes_zip_from_the_tools(
    gpg_keys: GpgKeys, seeds_file: Path, tmp_path: Path
) -> None:
    gpg_keys.gpg(
        "--always-trust",
        "--armor",
        "--encrypt",
        "--recipient",
        gpg_keys.plain,
        "--output",
        tmp_path / "seeds.csv.asc",
        seeds_file,
    )
    run(
        ["7z", "a", "-tzip", "-mem=AES256", f"-p{ZIP_PASSWORD}", "d.zip", "seeds.csv.asc"],
        cwd=tmp_path,
    )
    options = UnwrapOptions(password=PW, gpg_home=gpg_keys.home)
    opened = unwrap((tmp_path / "d.zip").read_bytes(), "d.zip", options)
    assert (opened.data, opened.name, opened.layers) == (SEEDS_CSV, "seeds.csv", ["zip-aes", "pgp"])


def test_zip_inside_pgp_from_the_tools(gpg_keys: GpgKeys, seeds_file: Path, tmp_path: Path) -> None:
    run(["zip", "-q", "-P", ZIP_PASSWORD, "order.zip", "seeds.csv"], cwd=tmp_path)
    gpg_keys.gpg(
        "--always-trust",
        "--encrypt",
        "--recipient",
        gpg_keys.plain,
        "--output",
        tmp_path / "order.zip.gpg",
        tmp_path / "order.zip",
    )
    options = UnwrapOptions(password=PW, gpg_home=gpg_keys.home)
    opened = unwrap((tmp_path / "order.zip.gpg").read_bytes(), "order.zip.gpg", options)
    assert (opened.data, opened.name, opened.layers) == (
        SEEDS_CSV,
        "seeds.csv",
        ["pgp", "zip-zipcrypto"],
    )


def test_our_pgp_inside_our_zip_opens_with_the_tools(gpg_keys: GpgKeys, tmp_path: Path) -> None:
    key = gpg_keys.export(gpg_keys.plain, tmp_path / "customer.asc")
    outer = wrap_zip(encrypt_pgp(SEEDS_CSV, key), "seeds.csv.asc", PW)
    (tmp_path / "d.zip").write_bytes(outer)
    run(["7z", "x", f"-p{ZIP_PASSWORD}", f"-o{tmp_path / 'x'}", tmp_path / "d.zip"])
    inner = (tmp_path / "x" / "seeds.csv.asc").read_bytes()
    assert gpg_keys.gpg("--decrypt", stdin=inner) == SEEDS_CSV
    opened = unwrap(outer, "d.zip", UnwrapOptions(password=PW, gpg_home=gpg_keys.home))
    assert (opened.data, opened.layers) == (SEEDS_CSV, ["zip-aes", "pgp"])


def test_our_zip_inside_our_pgp_opens_with_the_tools(gpg_keys: GpgKeys, tmp_path: Path) -> None:
    key = gpg_keys.export(gpg_keys.plain, tmp_path / "customer.asc")
    outer = encrypt_pgp(wrap_zip(SEEDS_CSV, "seeds.csv", PW, method="zipcrypto"), key, armor=False)
    (tmp_path / "d.zip").write_bytes(gpg_keys.gpg("--decrypt", stdin=outer))
    assert run(["unzip", "-p", "-P", ZIP_PASSWORD, tmp_path / "d.zip"]) == SEEDS_CSV
    opened = unwrap(outer, "d.zip.gpg", UnwrapOptions(password=PW, gpg_home=gpg_keys.home))
    assert (opened.data, opened.name, opened.layers) == (
        SEEDS_CSV,
        "seeds.csv",
        ["pgp", "zip-zipcrypto"],
    )


def test_inner_failure_names_the_inner_file(gpg_keys: GpgKeys, tmp_path: Path) -> None:
    key = gpg_keys.export(gpg_keys.plain, tmp_path / "customer.asc")
    outer = wrap_zip(encrypt_pgp(SEEDS_CSV, key), "seeds.csv.asc", PW)
    with pytest.raises(DecryptionError) as caught:
        unwrap(outer, "d.zip", UnwrapOptions(password=PW))
    assert caught.value.code == "container.gpg_home_required"
    assert "seeds.csv.asc" in caught.value.message


def plain_zip(data: bytes, name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def nest(depth: int) -> bytes:
    data = SEEDS_CSV
    for level in range(depth):
        data = plain_zip(data, "seeds.csv" if level == 0 else f"level{level}.zip")
    return data


def test_nesting_up_to_the_bound_is_peeled() -> None:
    opened = unwrap(nest(MAX_DEPTH), "deep.zip", UnwrapOptions())
    assert (opened.data, opened.name, opened.layers) == (SEEDS_CSV, "seeds.csv", ["zip"] * 4)


def test_nesting_past_the_bound_is_refused() -> None:
    with pytest.raises(ArchiveError) as caught:
        unwrap(nest(MAX_DEPTH + 1), "deep.zip", UnwrapOptions())
    assert caught.value.code == "container.too_deep"
    assert caught.value.details["layers"] == ["zip"] * MAX_DEPTH
