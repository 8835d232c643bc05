"""`convert` output wrapped for delivery is opened by the independent tools (7z, gpg) and by
`inspect`; wrong or missing passwords and keys give the decryption exit status."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from oathdesk.cli.exits import Exit
from oathdesk.cli.main import main

VALID = Path(__file__).parent.parent / "formats" / "samples" / "valid"


@pytest.fixture(scope="module")
def gpg_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("gnupg")
    home.chmod(0o700)
    subprocess.run(
        [
            "gpg",
            "--homedir",
            str(home),
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--quick-gen-key",
            "Seed Receiver <seeds@example.com>",
            "future-default",
            "default",
            "never",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    public = home / "receiver.asc"
    public.write_bytes(
        subprocess.run(
            ["gpg", "--homedir", str(home), "--armor", "--export"], check=True, capture_output=True
        ).stdout
    )
    return home


def test_zip_then_pgp_output_opens_everywhere(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, gpg_home: Path
) -> None:
    password = tmp_path / "zip-password.txt"
    password.write_text("correct horse battery staple\n")
    out = tmp_path / "tokens.json.zip.pgp"
    status = main(
        [
            "seeds",
            "convert",
            str(VALID / "entra-upn.csv"),
            str(out),
            "--to",
            "entra-json",
            "--zip-password-file",
            str(password),
            "--encrypt-to",
            str(gpg_home / "receiver.asc"),
        ]
    )
    capsys.readouterr()
    assert status == Exit.OK
    # gpg opens the outer layer, 7z the inner one, with the password minus its line break
    inner = tmp_path / "tokens.json.zip"
    subprocess.run(
        [
            "gpg",
            "--homedir",
            str(gpg_home),
            "--batch",
            "--output",
            str(inner),
            "--decrypt",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    listing = subprocess.run(
        ["7z", "l", "-slt", f"-p{password.read_text().strip()}", str(inner)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "AES-256" in listing and "Path = tokens.json" in listing
    subprocess.run(
        ["7z", "x", f"-p{password.read_text().strip()}", f"-o{tmp_path / 'x'}", str(inner)],
        check=True,
        capture_output=True,
    )
    assert (
        json.loads((tmp_path / "x" / "tokens.json").read_text())["value"][0]["serialNumber"]
        == "20250001"
    )
    # and oathdesk reads the doubly wrapped file back
    status = main(
        [
            "seeds",
            "inspect",
            str(out),
            "--password-file",
            str(password),
            "--gpg-home",
            str(gpg_home),
            "--json",
        ]
    )
    doc = json.loads(capsys.readouterr().out)
    assert status == Exit.OK and doc["format"] == "entra-json" and doc["count"] == 2


def test_wrong_or_missing_password_is_a_decryption_failure(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    archive = tmp_path / "delivery.zip"
    subprocess.run(
        [
            "7z",
            "a",
            "-tzip",
            "-mem=AES256",
            "-pS3cret!",
            str(archive),
            str(VALID / "entra-upn.csv"),
        ],
        check=True,
        capture_output=True,
    )
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not it")
    status = main(["seeds", "inspect", str(archive), "--password-file", str(wrong)])
    err = capsys.readouterr().err
    assert status == Exit.DECRYPTION and "container.wrong_password" in err
    assert "not it" not in err
    status = main(["seeds", "inspect", str(archive)])
    err = capsys.readouterr().err
    assert status == Exit.DECRYPTION and "--password-file" in err
    right = tmp_path / "right.txt"
    right.write_text("S3cret!")
    assert main(["seeds", "inspect", str(archive), "--password-file", str(right)]) == Exit.OK


def test_pgp_file_without_the_key_says_which_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, gpg_home: Path
) -> None:
    sealed = tmp_path / "seeds.csv.asc"
    subprocess.run(
        [
            "gpg",
            "--homedir",
            str(gpg_home),
            "--batch",
            "--armor",
            "--trust-model",
            "always",
            "--recipient",
            "seeds@example.com",
            "--output",
            str(sealed),
            "--encrypt",
            str(VALID / "duo-totp.csv"),
        ],
        check=True,
        capture_output=True,
    )
    empty_home = tmp_path / "empty-gnupg"
    empty_home.mkdir(mode=0o700)
    status = main(["seeds", "inspect", str(sealed), "--gpg-home", str(empty_home)])
    err = capsys.readouterr().err
    assert status == Exit.DECRYPTION and "container.pgp_key_missing" in err
    status = main(["seeds", "inspect", str(sealed), "--gpg-home", str(gpg_home), "--json"])
    assert status == Exit.OK and json.loads(capsys.readouterr().out)["format"] == "duo-csv"


def test_hex_secret_in_entra_csv_is_fixed_by_declaring_the_encoding(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = Path(__file__).parent.parent / "formats" / "samples" / "invalid" / "hex-in-entra.csv"
    out = tmp_path / "fixed.json"
    assert (
        main(["seeds", "convert", str(bad), str(out), "--to", "entra-json"]) == Exit.INVALID_INPUT
    )
    assert "--secret-encoding hex" in capsys.readouterr().err
    assert (
        main(
            [
                "seeds",
                "convert",
                str(bad),
                str(out),
                "--to",
                "entra-json",
                "--secret-encoding",
                "hex",
            ]
        )
        == Exit.OK
    )
    assert (
        json.loads(out.read_text())["value"][0]["secretKey"] == "HJ7QZHS3FVAYN4HB2LB3JJMWQ54GSWSL"
    )
