"""``oathdesk db|tokens|sync|report|audit|keys`` end to end through the entry point, on SQLite
and PostgreSQL, with the Graph client pointed at the HTTPS emulator by OATHDESK_* variables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oathdesk.cli.exits import Exit
from oathdesk.containers import wrap_zip
from oathdesk.domain import Secret
from oathdesk.store import Database
from tests.cli.inventory_helpers import Cli
from tests.service.fixtures import Emu
from tests.service.support import (
    config,
    entra_csv,
    environment,
    secret_for,
    serial,
    totp,
    upn,
    wrong_code,
)


def _file(tmp: Path, name: str, data: bytes) -> str:
    path = tmp / name
    path.write_bytes(data)
    return str(path)


def test_a_database_that_was_never_migrated_says_what_to_run(cli: Cli) -> None:
    ran = cli("tokens", "list", expect=int(Exit.SERVICE))
    assert "oathdesk db upgrade" in ran.err


def test_import_list_show_report_audit_and_keys(cli: Cli, tmp_path: Path) -> None:
    first_run = cli("db", "upgrade", "--json").json()
    assert first_run["from"] is None and first_run["to"]
    again = cli("db", "upgrade", "--json").json()  # again: nothing to do
    assert again["from"] == again["to"] == first_run["to"]
    first = _file(tmp_path, "first.csv", entra_csv("C", 6))
    report = cli("tokens", "import", first, "--json", "--actor", "admin:ann").json()
    assert (report["added"], report["format"], report["already_imported"]) == (
        6,
        "entra-csv",
        False,
    )
    assert cli("tokens", "import", first, "--json").json()["already_imported"] is True

    clash = _file(tmp_path, "clash.csv", entra_csv("C", 3, start=5))
    refused = cli("tokens", "import", clash, expect=int(Exit.CONFLICT))
    assert "inventory.serial_conflict" in refused.err and serial("C", 5) in refused.err
    listed = cli("tokens", "import", clash, "--json", expect=int(Exit.CONFLICT)).json()
    assert listed == {"file_name": "clash.csv", "added": 0, "conflicts": [serial("C", 5)]}
    skipped = cli("tokens", "import", clash, "--skip-conflicts", "--json").json()
    assert skipped["added"] == 2 and skipped["conflicts"] == [serial("C", 5)]

    broken = _file(tmp_path, "broken.csv", entra_csv("B", 5, bad_last=True))
    bad = cli("tokens", "import", broken, expect=int(Exit.INVALID_INPUT))
    assert serial("B", 4) in bad.err and "nothing was imported" in bad.err

    page = cli("tokens", "list", "--json", "--state", "in_stock", "--limit", "5").json()
    assert page["total"] == 8 and len(page["items"]) == 5 and page["next_cursor"]
    rest = cli("tokens", "list", "--json", "--limit", "5", "--cursor", page["next_cursor"]).json()
    assert [t["serial"] for t in rest["items"]] == [serial("C", n) for n in (5, 6, 7)]
    assert "C00001" in cli("tokens", "list", "--model", "C301").out
    shown = cli("tokens", "show", serial("C", 1), "--json").json()
    assert shown["state"] == "in_stock" and shown["batch"]["file_name"] == "first.csv"
    assert cli("tokens", "show", "NOPE", expect=int(Exit.NOT_FOUND)).code == Exit.NOT_FOUND

    doc = cli("report", "--json").json()
    assert doc["total"] == 8 and doc["by_state"]["in_stock"] == 8
    assert "8 token(s)" in cli("report").out

    rotated = cli("keys", "rotate", "--json").json()
    assert rotated["resealed"] == 8 and rotated["failed"] == []
    assert cli("audit", "verify", "--json").json()["ok"] is True
    out = tmp_path / "audit.jsonl"
    assert cli("audit", "export", "-o", str(out), "--json").json()["entries"] == 4
    actions = [json.loads(line)["action"] for line in out.read_text().splitlines()]
    assert actions == ["batch.import", "batch.import", "keys.rotate", "keys.reseal"]
    assert len(cli("audit", "export").out.splitlines()) == 4


def test_import_opens_envelopes_as_seeds_inspect_does(cli: Cli, tmp_path: Path) -> None:
    cli("db", "upgrade")
    zipped = wrap_zip(entra_csv("Z", 3), "tokens.csv", Secret(b"zip-pass-42"))
    delivery = _file(tmp_path, "delivery.zip", zipped)
    password = _file(tmp_path, "pw.txt", b"zip-pass-42\n")
    wrong = _file(tmp_path, "wrong.txt", b"not-it\n")
    missing = cli("tokens", "import", delivery, expect=int(Exit.DECRYPTION))
    assert "container.password_required" in missing.err
    refused = cli("tokens", "import", delivery, "--password-file", wrong, expect=Exit.DECRYPTION)
    assert "container.wrong_password" in refused.err and "not-it" not in refused.err
    bad_from = cli("tokens", "import", delivery, "--from", "nope", expect=int(Exit.USAGE))
    assert "--from must be one of" in bad_from.err
    inspected = cli("seeds", "inspect", delivery, "--password-file", password, "--json").json()
    report = cli("tokens", "import", delivery, "--password-file", password, "--json").json()
    assert (report["added"], report["layers"], report["format"]) == (3, ["zip-aes"], "entra-csv")
    assert inspected["count"] == 3 and inspected["format"] == report["format"]
    # a row Entra would refuse is imported with a warning naming the file and line
    odd = entra_csv("Y", 2).replace(b",30,", b",45,", 1)
    warned = cli("tokens", "import", _file(tmp_path, "odd.csv", odd), "--json").json()
    assert warned["added"] == 2
    assert [(w["locator"], w["code"]) for w in warned["warnings"]] == [
        ("odd.csv:2", "entra.period")
    ]


def test_lifecycle_through_the_cli(cli: Cli, tmp_path: Path) -> None:
    cli("db", "upgrade")
    cli("tokens", "import", _file(tmp_path, "l.csv", entra_csv("L", 3)))
    pushed = cli("sync", "push", "--json").json()
    assert pushed["created"] == 3 and pushed["failed"] == []
    t0, t1 = serial("L", 0), serial("L", 1)
    why = ["--reason", "ticket 9", "--actor", "helpdesk:bob"]
    cli("tokens", "assign", t0, upn("ada"), *why)
    wrong = cli("tokens", "activate", t0, wrong_code(secret_for("L", 0)), *why, expect=None)
    assert wrong.code == Exit.INVALID_INPUT and "service.code_rejected" in wrong.err
    done = cli("tokens", "activate", t0, totp(secret_for("L", 0)), *why, "--json").json()
    assert done["state"] == "activated"
    assert (
        cli("tokens", "identify", totp(secret_for("L", 1)), "--json").json()["tokens"][0]["serial"]
        == t1
    )
    shown = {totp(secret_for("L", n), step_offset=k) for n in range(3) for k in range(-4, 5)}
    unseen = next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in shown)
    nobody = cli("tokens", "identify", unseen, "--json", expect=int(Exit.NOT_FOUND))
    assert nobody.json() == {"count": 0, "tokens": []}
    replaced = cli(
        "tokens",
        "replace",
        t0,
        totp(secret_for("L", 1)),
        "--why",
        "broken",
        "--new",
        t1,
        *why,
        "--json",
    ).json()
    assert replaced["state"] == "broken" and replaced["replacement"]["state"] == "activated"
    assert cli("tokens", "deactivate", t1, *why).out.startswith(f"token {t1}: activated")
    cli("tokens", "unassign", t1, *why)
    cli("tokens", "delete", t0, *why)
    assert cli("tokens", "show", t0, "--json").json()["has_seed"] is False
    assert cli("sync", "reconcile", "--json").json()["findings"] == []
    assert "no differences" in cli("sync", "reconcile", "--fix").out
    assert cli("audit", "verify").out.startswith("audit chain intact")
    missing = cli("tokens", "assign", t0, upn("ada"), "--actor", "x", expect=None)
    assert missing.code == Exit.USAGE  # --reason is required


def test_audit_verify_fails_on_an_entry_edited_in_the_database(
    cli: Cli, tmp_path: Path, db_url: str
) -> None:
    cli("db", "upgrade")
    cli("tokens", "import", _file(tmp_path, "v.csv", entra_csv("V", 2)))
    cli("keys", "rotate")
    assert cli("audit", "verify", "--json").json()["checked"] == 3
    db = Database(db_url)
    try:
        drop = (
            ["DROP TRIGGER audit_entries_append_only ON audit_entries"]
            if db.dialect == "postgresql"
            else ["DROP TRIGGER audit_entries_no_update"]
        )
        with db.engine.begin() as conn:
            for sql in [*drop, "UPDATE audit_entries SET reason = 'nothing to see' WHERE seq = 2"]:
                conn.exec_driver_sql(sql)
    finally:
        db.dispose()
    broken = cli("audit", "verify", "--json", expect=int(Exit.SERVICE))
    assert broken.json()["ok"] is False and broken.json()["seq"] == 2
    assert "store.audit_broken" in broken.err
    assert "entry 2" in cli("audit", "verify", expect=int(Exit.SERVICE)).out


def test_emulator_and_ca_file_before_any_command_point_graph_at_the_emulator(
    db_url: str,
    tmp_path: Path,
    emu: Emu,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Graph settings name the tenant and app only (authority and Graph are real Entra's by
    default); ``--emulator URL --ca-file F`` redirects this run, and only this run."""
    settings = config(db_url, tmp_path, emu.url, emu.ca)
    for name, value in environment(settings).items():
        monkeypatch.setenv(name, value)
    for name in ("AUTHORITY_HOST", "BASE_URL", "CA_FILE", "EMULATOR"):
        monkeypatch.delenv(f"OATHDESK_GRAPH_{name}", raising=False)
    monkeypatch.delenv("OATHDESK_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    cli = Cli(capsys)
    cli("db", "upgrade")
    cli("tokens", "import", _file(tmp_path, "e.csv", entra_csv("E", 2)))
    to_emulator = ["--emulator", emu.url, "--ca-file", str(emu.ca)]
    pushed = cli(*to_emulator, "sync", "push", "--json").json()
    assert pushed["created"] == 2 and pushed["failed"] == []
    listed = cli(*to_emulator, "entra", "list", "--json").json()
    assert sorted(d["serial_number"] for d in listed["devices"]) == [serial("E", 0), serial("E", 1)]
    # the next run without the options goes to login.microsoftonline.com, which tests never
    # reach: the variables set for the previous run are gone
    import os

    assert "OATHDESK_GRAPH_EMULATOR" not in os.environ
    assert "OATHDESK_GRAPH_CA_FILE" not in os.environ


def _owner_sql(db_url: str, *statements: str) -> None:
    """Change the inventory's audit log as the database's owner could: triggers dropped first."""
    db = Database(db_url)
    try:
        drop = (
            ["DROP TRIGGER audit_entries_append_only ON audit_entries"]
            if db.dialect == "postgresql"
            else ["DROP TRIGGER audit_entries_no_update", "DROP TRIGGER audit_entries_no_delete"]
        )
        with db.engine.begin() as conn:
            for sql in [*drop, *statements]:
                conn.exec_driver_sql(sql)
    finally:
        db.dispose()


def test_audit_checkpoint_then_a_cut_off_end_fails_verify(
    cli: Cli, tmp_path: Path, db_url: str
) -> None:
    cli("db", "upgrade")
    assert "no checkpoint yet" in cli("audit", "verify").out
    cli("tokens", "import", _file(tmp_path, "c.csv", entra_csv("C", 2)))
    cli("keys", "rotate")
    made = cli("audit", "checkpoint", "--json").json()
    anchors = tmp_path / "data" / "audit" / "audit-checkpoints.jsonl"
    assert made["seq"] == 3 and made["chain"] == "inventory" and made["file"] == str(anchors)
    assert (tmp_path / "data" / "keys" / "audit-key.json").stat().st_mode & 0o777 == 0o600
    assert "checkpoint at entry 3 holds" in cli("audit", "verify").out
    _owner_sql(
        db_url,
        "DELETE FROM audit_entries WHERE seq >= 2",
        "UPDATE audit_head SET seq = 1, hash = (SELECT hash FROM audit_entries WHERE seq = 1)",
    )
    broken = cli("audit", "verify", "--json", expect=int(Exit.SERVICE))
    assert broken.json()["problem"] == "rolled_back" and broken.json()["checkpoint_seq"] == 3
    assert "store.audit_broken" in broken.err
    refused = cli("audit", "checkpoint", expect=int(Exit.SERVICE))  # a cut chain is not anchored
    assert "store.audit_broken" in refused.err
    anchors.write_text(anchors.read_text().replace('"seq": 3', '"seq": 1'))
    edited = cli("audit", "verify", expect=int(Exit.SERVICE))
    assert "store.checkpoint_invalid" in edited.err


def test_audit_verify_without_the_key_file_is_a_coded_error(cli: Cli, tmp_path: Path) -> None:
    cli("db", "upgrade")
    cli("tokens", "import", _file(tmp_path, "k.csv", entra_csv("K", 1)))
    (tmp_path / "data" / "keys" / "audit-key.json").unlink()
    missing = cli("audit", "verify", expect=int(Exit.CONFIG))
    assert "store.audit_key_missing" in missing.err and "audit-key.json" in missing.err
    assert not (tmp_path / "data" / "keys" / "audit-key.json").exists()  # never made anew
