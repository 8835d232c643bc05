"""OpenPGP: messages made by the gpg CLI opened by us, ours opened by gpg, every failure coded."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from oathdesk.containers import UnwrapOptions, detect_envelope, encrypt_pgp, unwrap
from oathdesk.domain import ContainerError, InputFileError, OathdeskError, Secret
from tests.containers.conftest import KEY_PASSPHRASE, SEEDS_CSV, GpgKeys, gen_key, run, stop_agent


def encrypt_cli(keys: GpgKeys, src: Path, out: Path, recipient: str, *flags: str) -> bytes:
    home = keys.foreign_home if recipient in (keys.foreign, keys.signing_only) else keys.home
    keys.gpg(
        "--always-trust",
        *flags,
        "--encrypt",
        "--recipient",
        recipient,
        "--output",
        out,
        src,
        home=home,
    )
    return out.read_bytes()


def failure(data: bytes, name: str, options: UnwrapOptions) -> OathdeskError:
    with pytest.raises(OathdeskError) as caught:
        unwrap(data, name, options)
    return caught.value


# -- reading what gpg made ------------------------------------------------------------------
def test_armoured_message_from_gpg(gpg_keys: GpgKeys, seeds_file: Path, tmp_path: Path) -> None:
    data = encrypt_cli(gpg_keys, seeds_file, tmp_path / "seeds.csv.asc", gpg_keys.plain, "-a")
    assert data.startswith(b"-----BEGIN PGP MESSAGE-----") and detect_envelope(data) == "pgp"
    opened = unwrap(data, "seeds.csv.asc", UnwrapOptions(gpg_home=gpg_keys.home))
    assert (opened.data, opened.name, opened.layers) == (SEEDS_CSV, "seeds.csv", ["pgp"])


def test_binary_message_from_gpg(gpg_keys: GpgKeys, seeds_file: Path, tmp_path: Path) -> None:
    data = encrypt_cli(gpg_keys, seeds_file, tmp_path / "seeds.csv.gpg", gpg_keys.plain)
    assert data[0] & 0x80 and detect_envelope(data) == "pgp"
    opened = unwrap(data, "seeds.csv.GPG", UnwrapOptions(gpg_home=gpg_keys.home))
    assert (opened.data, opened.name, opened.layers) == (SEEDS_CSV, "seeds.csv", ["pgp"])


def test_name_without_suffix_comes_from_the_message(
    gpg_keys: GpgKeys, seeds_file: Path, tmp_path: Path
) -> None:
    data = encrypt_cli(gpg_keys, seeds_file, tmp_path / "delivery", gpg_keys.plain)
    assert unwrap(data, "delivery", UnwrapOptions(gpg_home=gpg_keys.home)).name == "seeds.csv"


def test_passphrase_protected_key(gpg_keys: GpgKeys, seeds_file: Path, tmp_path: Path) -> None:
    data = encrypt_cli(gpg_keys, seeds_file, tmp_path / "s.asc", gpg_keys.guarded, "-a")
    options = UnwrapOptions(gpg_home=gpg_keys.home, pgp_passphrase=Secret(KEY_PASSPHRASE.encode()))
    assert unwrap(data, "s.asc", options).data == SEEDS_CSV


def test_symmetric_message_opens_with_the_passphrase(
    gpg_keys: GpgKeys, seeds_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "s.gpg"
    gpg_keys.gpg("--passphrase", "shared words", "--symmetric", "--output", out, seeds_file)
    good = UnwrapOptions(gpg_home=gpg_keys.home, pgp_passphrase=Secret(b"shared words"))
    assert unwrap(out.read_bytes(), "s.gpg", good).data == SEEDS_CSV
    bad = UnwrapOptions(gpg_home=gpg_keys.home, pgp_passphrase=Secret(b"other words"))
    assert failure(out.read_bytes(), "s.gpg", bad).code == "container.wrong_pgp_passphrase"


def test_message_holding_an_empty_file(gpg_keys: GpgKeys, tmp_path: Path) -> None:
    source = tmp_path / "seeds.csv"
    source.write_bytes(b"")
    data = encrypt_cli(gpg_keys, source, tmp_path / "seeds.csv.gpg", gpg_keys.plain)
    error = failure(data, "seeds.csv.gpg", UnwrapOptions(gpg_home=gpg_keys.home))
    assert error.code == "container.empty" and "seeds.csv" in error.message


# -- failures -------------------------------------------------------------------------------
def test_wrong_passphrase(gpg_keys: GpgKeys, seeds_file: Path, tmp_path: Path) -> None:
    data = encrypt_cli(gpg_keys, seeds_file, tmp_path / "s.asc", gpg_keys.guarded, "-a")
    options = UnwrapOptions(gpg_home=gpg_keys.home, pgp_passphrase=Secret(b"tr0ub4dor"))
    error = failure(data, "s.asc", options)
    assert error.code == "container.wrong_pgp_passphrase"
    assert "tr0ub4dor" not in error.message and "tr0ub4dor" not in repr(error.to_dict())


def test_missing_passphrase(gpg_keys: GpgKeys, seeds_file: Path, tmp_path: Path) -> None:
    data = encrypt_cli(gpg_keys, seeds_file, tmp_path / "s.asc", gpg_keys.guarded, "-a")
    error = failure(data, "s.asc", UnwrapOptions(gpg_home=gpg_keys.home))
    assert error.code == "container.pgp_passphrase_required"


def test_passphrase_with_a_line_break_is_refused(gpg_keys: GpgKeys) -> None:
    options = UnwrapOptions(gpg_home=gpg_keys.home, pgp_passphrase=Secret(b"zebra\nquokka"))
    error = failure(b"-----BEGIN PGP MESSAGE-----\n", "s.asc", options)
    assert error.code == "container.wrong_pgp_passphrase"
    assert "zebra" not in error.message and "quokka" not in error.message


def test_message_for_another_key_names_that_key(
    gpg_keys: GpgKeys, seeds_file: Path, tmp_path: Path
) -> None:
    data = encrypt_cli(gpg_keys, seeds_file, tmp_path / "s.gpg", gpg_keys.foreign)
    error = failure(data, "s.gpg", UnwrapOptions(gpg_home=gpg_keys.home))
    assert error.code == "container.pgp_key_missing"
    assert gpg_keys.foreign_subkey_id in error.message
    assert error.details["key_ids"] == [gpg_keys.foreign_subkey_id]
    assert str(gpg_keys.home) in error.message


def test_gpg_home_is_required(gpg_keys: GpgKeys, seeds_file: Path, tmp_path: Path) -> None:
    data = encrypt_cli(gpg_keys, seeds_file, tmp_path / "s.gpg", gpg_keys.plain)
    error = failure(data, "s.gpg", UnwrapOptions())
    assert error.code == "container.gpg_home_required" and "s.gpg" in error.message


def test_gpg_home_that_does_not_exist(tmp_path: Path) -> None:
    options = UnwrapOptions(gpg_home=tmp_path / "nowhere")
    error = failure(b"-----BEGIN PGP MESSAGE-----\n\n", "s.asc", options)
    assert error.code == "container.gpg_home_not_found"


@pytest.mark.parametrize(
    "damage",
    ["truncate", "flip", "garbage-armour"],
)
def test_damaged_messages_are_corrupt(gpg_keys: GpgKeys, tmp_path: Path, damage: str) -> None:
    source = tmp_path / "big.csv"
    source.write_bytes(os.urandom(200_000))  # incompressible, so damage lands in real data
    data = encrypt_cli(gpg_keys, source, tmp_path / "big.csv.gpg", gpg_keys.plain)
    if damage == "truncate":
        data = data[: len(data) * 2 // 3]
    elif damage == "flip":
        data = data[:150_000] + bytes([data[150_000] ^ 0xFF]) + data[150_001:]
    else:
        data = b"-----BEGIN PGP MESSAGE-----\n\nbm90IHBncA==\n-----END PGP MESSAGE-----\n"
    error = failure(data, "big.csv.gpg", UnwrapOptions(gpg_home=gpg_keys.home))
    assert error.code == "container.corrupt"
    assert error.details["envelope"] == "pgp" and "big.csv.gpg" in error.message


def test_gpg_not_installed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no gpg on the PATH
    error = failure(b"-----BEGIN PGP MESSAGE-----\n", "s.asc", UnwrapOptions(gpg_home=tmp_path))
    assert error.code == "container.gpg_missing"
    key = tmp_path / "k.asc"
    key.write_text("x")
    with pytest.raises(ContainerError) as caught:
        encrypt_pgp(SEEDS_CSV, key)
    assert caught.value.code == "container.gpg_missing"


# -- writing --------------------------------------------------------------------------------
@pytest.mark.parametrize("armor", [True, False])
def test_our_message_is_opened_by_gpg(gpg_keys: GpgKeys, tmp_path: Path, armor: bool) -> None:
    key = gpg_keys.export(gpg_keys.plain, tmp_path / "customer.asc")
    data = encrypt_pgp(SEEDS_CSV, key, armor=armor)
    assert data.startswith(b"-----BEGIN PGP MESSAGE-----") is armor
    assert detect_envelope(data) == "pgp"
    assert gpg_keys.gpg("--decrypt", stdin=data) == SEEDS_CSV
    assert unwrap(data, "s.csv.asc", UnwrapOptions(gpg_home=gpg_keys.home)).data == SEEDS_CSV


def test_key_file_with_two_keys_encrypts_to_both(gpg_keys: GpgKeys, tmp_path: Path) -> None:
    mine = gpg_keys.export(gpg_keys.plain, tmp_path / "a.asc").read_bytes()
    theirs = gpg_keys.export(gpg_keys.foreign, tmp_path / "b.asc", home=gpg_keys.foreign_home)
    both = tmp_path / "both.asc"
    both.write_bytes(mine + theirs.read_bytes())
    data = encrypt_pgp(SEEDS_CSV, both)
    assert gpg_keys.gpg("--decrypt", stdin=data) == SEEDS_CSV
    assert gpg_keys.gpg("--decrypt", stdin=data, home=gpg_keys.foreign_home) == SEEDS_CSV


def test_encryption_leaves_the_users_keyring_alone(
    gpg_keys: GpgKeys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_home = tmp_path / "user-gnupg"
    user_home.mkdir(mode=0o700)
    monkeypatch.setenv("GNUPGHOME", str(user_home))
    key = gpg_keys.export(gpg_keys.plain, tmp_path / "customer.asc")
    before = set(Path(tempfile.gettempdir()).glob("oathdesk-gpg-*"))
    encrypt_pgp(SEEDS_CSV, key)
    assert list(user_home.iterdir()) == []
    assert set(Path(tempfile.gettempdir()).glob("oathdesk-gpg-*")) == before


def test_key_file_without_a_key(tmp_path: Path) -> None:
    key = tmp_path / "notes.txt"
    key.write_text("this is not a key\n")
    with pytest.raises(ContainerError) as caught:
        encrypt_pgp(SEEDS_CSV, key)
    assert caught.value.code == "container.pgp_key_invalid" and "notes.txt" in caught.value.message


def test_key_file_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as caught:
        encrypt_pgp(SEEDS_CSV, tmp_path / "missing.asc")
    assert caught.value.code == "file.unreadable"


def test_signing_only_key_cannot_encrypt(gpg_keys: GpgKeys, tmp_path: Path) -> None:
    key = gpg_keys.export(gpg_keys.signing_only, tmp_path / "s.asc", home=gpg_keys.foreign_home)
    with pytest.raises(ContainerError) as caught:
        encrypt_pgp(SEEDS_CSV, key)
    assert caught.value.code == "container.pgp_key_unusable"


def test_unusable_secret_key_is_reported_as_gpg_failure(tmp_path: Path) -> None:
    """A damaged private key file: gpg's reason is passed on, not mistaken for a bad message."""
    home = tmp_path / "h"
    home.mkdir(mode=0o700)
    gen_key(home, "K <k@example.org>", "")
    try:
        source = tmp_path / "m.csv"
        source.write_bytes(SEEDS_CSV)
        encrypt = ["--always-trust", "--encrypt", "--recipient", "k@example.org", "-o", "m.gpg"]
        run(["gpg", "--homedir", home, "--batch", *encrypt, source], cwd=tmp_path)
        for key_file in (home / "private-keys-v1.d").glob("*.key"):
            key_file.write_text("garbage\n")
        error = failure((tmp_path / "m.gpg").read_bytes(), "m.gpg", UnwrapOptions(gpg_home=home))
        assert error.code == "container.gpg_failed"
        assert "public key decryption failed" in error.message
    finally:
        stop_agent(home)
