"""The one seed-file pipeline (``service.open_seed_file``): plain, ZIP, PGP and PGP around a ZIP
are opened alike; a wrong password keeps its container code; a target's problems are reported
apart from the file's own; problems name the file as the caller shows it."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from oathdesk.containers import encrypt_pgp, wrap_zip
from oathdesk.domain import DecryptionError, Secret, SeedFileInvalid, UsageError
from oathdesk.formats import ReadOptions
from oathdesk.service import OpenedSeedFile, SeedFileOptions, open_seed_file
from tests.service.support import entra_csv, secret_for, serial

PASSWORD = Secret(b"zip-pass-42")


@pytest.fixture(scope="module")
def gpg_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A GnuPG home with one private key without passphrase, its public key in receiver.asc."""
    home = tmp_path_factory.mktemp("gnupg")
    home.chmod(0o700)
    gpg = ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback"]
    subprocess.run(
        [*gpg, "--passphrase", "", "--quick-gen-key", "Seeds <seeds@example.com>"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    exported = subprocess.run([*gpg, "--armor", "--export"], check=True, capture_output=True)
    (home / "receiver.asc").write_bytes(exported.stdout)
    yield home
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True)


def _same_tokens(opened: OpenedSeedFile, prefix: str, count: int) -> None:
    assert opened.format == "entra-csv"
    assert [r.serial for r in opened.records] == [serial(prefix, n) for n in range(count)]
    assert [r.secret for r in opened.records] == [secret_for(prefix, n) for n in range(count)]
    assert opened.problems == [] and opened.report == []


def test_a_plain_file_is_read_and_named_by_its_label() -> None:
    opened = open_seed_file(entra_csv("P", 3), "p.csv", label="in/p.csv")
    _same_tokens(opened, "P", 3)
    assert (opened.name, opened.inner_name, opened.layers) == ("p.csv", "p.csv", [])
    assert opened.locators == ["in/p.csv:2", "in/p.csv:3", "in/p.csv:4"]
    assert opened.target is None and opened.target_problems == []


def test_a_password_zip_is_opened_and_problems_name_its_member() -> None:
    wrapped = wrap_zip(entra_csv("Z", 2, bad_last=True), "tokens.csv", PASSWORD)
    opened = open_seed_file(wrapped, "delivery.zip", SeedFileOptions(password=PASSWORD))
    assert opened.layers == ["zip-aes"] and opened.result.layers == ["zip-aes"]
    assert opened.inner_name == "tokens.csv"
    assert [(p.locator, p.code) for p in opened.errors] == [
        ("delivery.zip!tokens.csv:3", "seed.secret_not_base32")
    ]
    with pytest.raises(SeedFileInvalid) as caught:
        opened.raise_if_invalid()
    assert caught.value.code == "seed.invalid"
    # the PSKC passphrase alone is tried on the ZIP: every front end asks for one password
    alone = open_seed_file(
        wrapped, "delivery.zip", SeedFileOptions(read=ReadOptions(passphrase=PASSWORD))
    )
    assert alone.layers == ["zip-aes"] and alone.locators == ["delivery.zip!tokens.csv:2"]


@pytest.mark.parametrize(
    ("password", "code"),
    [
        (Secret(b"not-the-password"), "container.wrong_password"),
        (None, "container.password_required"),
    ],
)
def test_a_wrong_or_missing_password_keeps_its_code(password: Secret | None, code: str) -> None:
    wrapped = wrap_zip(entra_csv("W", 2), "tokens.csv", PASSWORD)
    with pytest.raises(DecryptionError) as caught:
        open_seed_file(wrapped, "delivery.zip", SeedFileOptions(password=password))
    assert caught.value.code == code
    assert "not-the-password" not in caught.value.message


def test_pgp_and_pgp_around_a_zip_are_opened_with_the_gpg_home(gpg_home: Path) -> None:
    key = gpg_home / "receiver.asc"
    sealed = encrypt_pgp(entra_csv("G", 2), key)
    opened = open_seed_file(sealed, "seeds.csv.pgp", SeedFileOptions(gpg_home=gpg_home))
    _same_tokens(opened, "G", 2)
    assert opened.layers == ["pgp"] and opened.inner_name == "seeds.csv"
    assert opened.locators[0] == "seeds.csv.pgp!seeds.csv:2"
    nested = encrypt_pgp(wrap_zip(entra_csv("N", 2), "tokens.csv", PASSWORD), key)
    both = SeedFileOptions(password=PASSWORD, gpg_home=gpg_home)
    opened = open_seed_file(nested, "delivery.zip.gpg", both)
    _same_tokens(opened, "N", 2)
    assert opened.layers == ["pgp", "zip-aes"]
    with pytest.raises(DecryptionError) as caught:
        open_seed_file(sealed, "seeds.csv.pgp")
    assert caught.value.code == "container.gpg_home_required"


def test_the_target_reports_its_problems_apart_from_the_files_own() -> None:
    long_secret = base64.b32encode(bytes(range(100))).decode()  # 160 characters, Entra: 128
    rows = entra_csv("T", 3).decode().splitlines()
    rows[1] = rows[1].replace(",30,", ",45,")
    rows[2] = ",".join([*rows[2].split(",")[:2], long_secret, *rows[2].split(",")[3:]])
    data = ("\n".join(rows) + "\n").encode()
    plain = open_seed_file(data, "t.csv")
    (warning,) = plain.report  # 100 bytes is an odd length for a token, yet not an error
    assert warning.code == "seed.secret_unusual_length" and not warning.is_error
    assert plain.target_problems == []
    opened = open_seed_file(data, "t.csv", SeedFileOptions(target="entra"))
    assert opened.target == "entra" and opened.errors == [] and opened.problems == [warning]
    found = [(p.locator, p.code, p.serial) for p in opened.target_problems]
    assert found == [
        ("t.csv:2", "entra.period", serial("T", 0)),
        ("t.csv:3", "entra.secret_too_long", serial("T", 1)),
    ]
    assert all(p.is_error for p in opened.target_problems)
    assert opened.report == [warning, *opened.target_problems]  # the file's own come first
    opened.raise_if_invalid()  # a target's problem is not the file's error


def test_an_unknown_target_is_refused_and_a_named_format_is_used() -> None:
    with pytest.raises(UsageError) as caught:
        open_seed_file(b"", "x.csv", SeedFileOptions(target="okta"))
    assert caught.value.code == "usage.unknown_target" and "entra" in caught.value.message
    opened = open_seed_file(entra_csv("F", 1), "f.txt", SeedFileOptions(fmt="entra-csv"))
    assert opened.format == "entra-csv" and len(opened.records) == 1
