"""No secret appears anywhere a person or a log collector could see it, over a whole token life.

Everything is captured (standard output and error of every command, every log record at DEBUG
from every library, the reprs and messages of results and errors, the audit export) and searched
for every seed, the ZIP password, the sealing keys and the Graph app secret in every encoding a
leak could take (hex, base32, base64, raw).
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import pytest

from oathdesk.bootstrap import build_inventory
from oathdesk.cli.exits import Exit
from oathdesk.containers.zipwrite import wrap_zip
from oathdesk.domain import OathdeskError, Secret
from oathdesk.service import activate, import_seeds, list_tokens, show_token
from tests.cli.inventory_helpers import Cli
from tests.service.fixtures import Emu
from tests.service.support import (
    APP_SECRET,
    config,
    entra_csv,
    environment,
    leak_forms,
    secret_for,
    serial,
    totp,
    upn,
    wrong_code,
)

PASSWORD = b"Zip-Password-Nobody-May-See-7"


def test_no_secret_in_output_logs_reprs_or_errors(
    db_url: str,
    tmp_path: Path,
    emu: Emu,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = config(db_url, tmp_path, emu.url, emu.ca)
    for name, value in environment(settings).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    cli = Cli(capsys)
    seen: list[str] = []

    # the whole life through the CLI, including failures
    cli("db", "upgrade")
    (tmp_path / "pw").write_bytes(PASSWORD + b"\n")
    delivery = tmp_path / "delivery.zip"
    delivery.write_bytes(wrap_zip(entra_csv("N", 4), "tokens.csv", Secret(PASSWORD)))
    cli("tokens", "import", str(delivery), expect=int(Exit.DECRYPTION))
    cli("tokens", "import", str(delivery), "--password-file", str(tmp_path / "pw"), "--json")
    cli("tokens", "import", str(delivery), "--password-file", str(tmp_path / "pw"))
    cli("tokens", "list", "--json")
    cli("tokens", "list")
    cli("sync", "push", "--json")
    why = ["--reason", "ticket 1"]
    n0, n1, n2 = (serial("N", n) for n in range(3))
    cli(
        "tokens",
        "activate",
        n0,
        wrong_code(secret_for("N", 0)),
        "--user",
        upn("ada"),
        *why,
        expect=int(Exit.INVALID_INPUT),
    )
    cli("tokens", "activate", n0, totp(secret_for("N", 0)), "--user", upn("ada"), *why, "--json")
    cli("tokens", "activate", n0, totp(secret_for("N", 0)), *why, expect=int(Exit.CONFLICT))
    cli("tokens", "identify", totp(secret_for("N", 1)))
    cli("tokens", "replace", n0, totp(secret_for("N", 1)), "--new", n1, *why, "--json")
    cli(
        "tokens",
        "resync",
        n1,
        totp(secret_for("N", 1), step_offset=3),
        totp(secret_for("N", 1), step_offset=4),
        *why,
    )
    cli("tokens", "show", n0)
    cli("tokens", "show", n1, "--json")
    cli("tokens", "delete", n0, *why, "--json")
    cli("sync", "reconcile", "--fix")
    cli("report")
    cli("report", "--json")
    cli("keys", "rotate")
    cli("audit", "verify", "--json")
    cli("audit", "export")

    # the service's objects and errors, as a developer or an error tracker would see them
    with build_inventory(settings) as inv:
        seen += [repr(inv), repr(inv.sealer), repr(inv.sealer.ring), repr(inv.db)]
        seen.append(repr(list_tokens(inv)))
        seen.append(json.dumps(show_token(inv, n2)))
        with inv.uow(write=False) as uow:
            token = uow.tokens.get(n2)
            record = uow.tokens.seed_record(token, inv.sealer)
            seen += [repr(token), repr(record), str(record), repr(record.secret)]
        for attempt in (
            lambda: import_seeds(inv, entra_csv("N", 4), "again.csv", actor="t"),
            lambda: activate(
                inv, n2, wrong_code(secret_for("N", 2)), user=upn("ada"), actor="t", reason="r"
            ),
        ):
            with pytest.raises(OathdeskError) as caught:
                attempt()
            err = caught.value
            seen += [repr(err), str(err), json.dumps(err.to_dict(), default=str)]

    keys = json.loads((tmp_path / "keys" / "store-keys.json").read_text())["keys"]
    secrets_ = [secret_for("N", n).reveal() for n in range(4)]
    secrets_ += [base64.b64decode(k["key"]) for k in keys]
    secrets_ += [PASSWORD, APP_SECRET.encode()]
    haystack = "\n".join(
        cli.transcript + seen + [caplog.text] + [r.getMessage() for r in caplog.records]
    )
    assert len(cli.transcript) > 40 and len(caplog.records) > 20  # we did capture a lot
    assert serial("N", 3) in haystack  # and the haystack holds what is not secret
    for raw in secrets_:
        for form in leak_forms(raw):
            assert form not in haystack, "a secret leaked"
