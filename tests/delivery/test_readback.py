"""Files exactly as customers receive them, read back by oathdesk's own commands through the real
entry point: ``oathdesk seeds inspect`` (format, count) and ``oathdesk seeds codes`` (the codes
each token shows), still inside their envelopes (password ZIP, PGP inside it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from oathdesk.cli.main import main
from oathdesk.delivery import Delivery, approve, download
from oathdesk.domain import Secret
from oathdesk.formats import FORMAT_IDS
from oathdesk.otp import totp
from tests.backends import sqlite_only
from tests.delivery import support
from tests.delivery.helpers import LAYOUT, ask

pytestmark = sqlite_only  # the files, not the database, are under test here

AT = 1_790_000_000
PROFILE = """
name = "customer layout"
header_row = false
secret_encoding = "base64"
secret_padding = true

[[columns]]
header = "Token"
property = "serial"

[[columns]]
header = "Key"
property = "secret"

[[columns]]
header = "Vendor"
value = "Acme"

[[columns]]
header = "Step"
property = "period"
"""


def oathdesk(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, f"oathdesk {' '.join(args)} -> {code}\n{out}\n{err}"
    return json.loads(out)


def fetch(dl: Delivery, mailbox: support.Mailbox, folder: Path) -> Path:
    (token,) = mailbox.links()
    got = download(dl, token, Secret(support.STRONG.encode()), address="127.0.0.1")
    data, name = got.data, got.file_name
    path = folder / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("fmt", FORMAT_IDS)
def test_seeds_inspect_and_codes_read_every_delivered_format(
    loaded: Delivery,
    mailbox: support.Mailbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fmt: str,
) -> None:
    assert LAYOUT.secret_encoding == "base64" and not LAYOUT.header_row  # PROFILE mirrors it
    approve(loaded, ask(loaded, fmt=fmt), actor="local:dora")
    delivered = fetch(loaded, mailbox, tmp_path)
    (tmp_path / "password.txt").write_text(support.STRONG)
    (tmp_path / "layout.toml").write_text(PROFILE)
    options = ["--password-file", str(tmp_path / "password.txt")]
    if fmt == "custom-csv":
        options += ["--profile", str(tmp_path / "layout.toml")]
    if fmt == "duo-csv":
        options += ["--from", "duo-csv"]
    serials = support.SHIPMENTS["SH-1"] + support.SHIPMENTS["SH-2"]
    report = oathdesk(capsys, "seeds", "inspect", str(delivered), *options, "--json")
    assert report["format"] == fmt and report["count"] == len(serials)
    assert report["problems"] == [] or all(p["severity"] != "error" for p in report["problems"])
    codes = oathdesk(capsys, "seeds", "codes", str(delivered), *options, "--at", str(AT), "--json")
    shown = {t["serial"]: t["codes"][0]["code"] for t in codes["tokens"]}
    assert shown == {s: totp(support.secret_of(s), AT) for s in serials}


def test_seeds_codes_open_pgp_inside_the_password_zip(
    loaded: Delivery,
    mailbox: support.Mailbox,
    customer_key: support.CustomerKey,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    request_id = ask(loaded, fmt="entra-json", encryption="both", key=customer_key.public)
    approve(loaded, request_id, actor="local:dora")
    delivered = fetch(loaded, mailbox, tmp_path)
    (tmp_path / "password.txt").write_text(support.STRONG)
    options = [
        "--password-file",
        str(tmp_path / "password.txt"),
        "--gpg-home",
        str(customer_key.home),
    ]
    codes = oathdesk(capsys, "seeds", "codes", str(delivered), *options, "--at", str(AT), "--json")
    shown = {t["serial"]: t["codes"][0]["code"] for t in codes["tokens"]}
    serials = support.SHIPMENTS["SH-1"] + support.SHIPMENTS["SH-2"]
    assert shown == {s: totp(support.secret_of(s), AT) for s in serials}
