"""``oathdesk entra ...`` as an administrator runs it, against the emulator with --emulator."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import pytest

from oathdesk.cli.exits import Exit
from oathdesk.cli.main import main
from oathdesk.containers import wrap_zip
from oathdesk.domain import Secret, SeedRecord
from oathdesk.formats import WriteOptions, write_seeds
from oathdesk.graph import journal_path
from tests.graph.conftest import Emu
from tests.graph.support import APP, APP_SECRET, TENANT, b32, record, records, totp, upn


@pytest.fixture
def env(emu: Emu, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """Credentials from OATHDESK_GRAPH_* variables; --emulator/--ca-file on the command line."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OATHDESK_CONFIG", raising=False)
    monkeypatch.setenv("OATHDESK_GRAPH_TENANT_ID", TENANT)
    monkeypatch.setenv("OATHDESK_GRAPH_CLIENT_ID", APP)
    monkeypatch.setenv("OATHDESK_GRAPH_CLIENT_SECRET", APP_SECRET)
    return ["--emulator", emu.url, "--ca-file", str(emu.ca)]


def run(
    capsys: pytest.CaptureFixture[str], *argv: str, secrets: Sequence[SeedRecord] = ()
) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    for r in secrets:
        for spelled in (b32(r.secret), r.secret.to_hex()):
            assert spelled.lower() not in (out + err).lower()
    assert APP_SECRET not in out + err
    return status, out, err


def write(path: Path, recs: list[SeedRecord], fmt: str = "entra-csv") -> Path:
    path.write_bytes(write_seeds(recs, fmt))
    return path


def test_upload_list_show_and_the_whole_lifecycle(
    emu: Emu, env: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recs = records(30)
    seed = write(tmp_path / "tokens.csv", recs)
    status, out, _ = run(
        capsys, "entra", "upload", str(seed), "--chunk", "7", *env, "--json", secrets=recs
    )
    assert status == Exit.OK, out
    doc = json.loads(out)
    assert doc["counts"] == {"created": 30, "present": 0, "failed": 0, "planned": 0}
    assert doc["requests"]["bulk"] == 5
    assert sorted(emu.serials()) == [r.serial for r in recs]
    assert journal_path(seed).exists()

    status, out, _ = run(capsys, "entra", "list", "--csv", *env)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == Exit.OK and len(rows) == 30 and rows[0]["status"] == "available"

    serial = recs[3].serial
    assert run(capsys, "entra", "assign", serial, upn("ada"), *env)[0] == Exit.OK
    code = totp(recs[3].secret, emu.state.now())
    status, out, _ = run(capsys, "entra", "activate", serial, code, *env, "--json")
    assert status == Exit.OK and json.loads(out)["status"] == "activated"
    status, out, _ = run(capsys, "entra", "show", serial, *env, "--json")
    assert json.loads(out)["assigned_to_name"] == "Ada Example"
    status, out, _ = run(capsys, "entra", "list", "--status", "activated", *env, "--json")
    assert [d["serial_number"] for d in json.loads(out)["devices"]] == [serial]
    status, _, err = run(capsys, "entra", "delete", serial, *env)
    assert status == Exit.USAGE and "unassign" in err
    assert run(capsys, "entra", "deactivate", serial, *env)[0] == Exit.OK
    assert run(capsys, "entra", "unassign", serial, *env)[0] == Exit.OK
    status, out, _ = run(capsys, "entra", "delete", serial, *env)
    assert status == Exit.OK and serial not in emu.serials()
    status, _, err = run(capsys, "entra", "show", serial, *env)
    assert status == Exit.NOT_FOUND and "graph.not_found" in err


def test_a_second_upload_reports_present_and_creates_nothing(
    emu: Emu, env: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = write(tmp_path / "tokens.json", records(12), "entra-json")
    assert run(capsys, "entra", "upload", str(seed), *env)[0] == Exit.OK
    journal_path(seed).unlink()  # even without the journal, serials are looked up first
    status, out, _ = run(capsys, "entra", "upload", str(seed), *env)
    assert status == Exit.OK
    assert "already present" in out and "12" in out
    assert len(emu.serials()) == 12


def test_upload_takes_an_encrypted_zip_with_the_seeds_inspect_options(
    emu: Emu, env: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recs = records(5)
    inner = write_seeds(recs, "entra-csv")
    (tmp_path / "pw.txt").write_text("zip-Password-1\n")
    (tmp_path / "tokens.zip").write_bytes(wrap_zip(inner, "tokens.csv", Secret(b"zip-Password-1")))
    status, _, _ = run(
        capsys, "entra", "upload", "tokens.zip", "--password-file", "pw.txt", *env, secrets=recs
    )
    assert status == Exit.OK and len(emu.serials()) == 5


def test_target_rules_are_checked_before_anything_is_sent(
    emu: Emu, env: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = [record(1), record(2).with_(period=45)]
    seed = write(tmp_path / "bad.json", bad, "oath-csv")
    status, _, err = run(capsys, "entra", "upload", str(seed), *env, secrets=bad)
    assert status == Exit.INVALID_INPUT and "entra.period" in err
    assert emu.serials() == [] and not journal_path(seed).exists()


def test_dry_run_checks_duplicates_and_users_and_sends_nothing(
    emu: Emu, env: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write(tmp_path / "first.csv", records(2))
    assert run(capsys, "entra", "upload", str(first), *env)[0] == Exit.OK
    recs = [
        *records(3),
        record(7, user=upn("ada")),
        record(8, user="ghost@nowhere.test"),
        record(9, user=upn("gus")),
    ]
    seed = write(tmp_path / "more.csv", recs)
    status, out, _ = run(capsys, "entra", "upload", str(seed), "--dry-run", *env, "--json")
    doc = json.loads(out)
    assert doc["counts"] == {"created": 0, "present": 2, "failed": 2, "planned": 2}
    failed = {i["serial"]: i["code"] for i in doc["items"] if i["outcome"] == "failed"}
    assert failed == {"SN-000008": "graph.user_not_found", "SN-000009": "graph.user_is_guest"}
    assert status == Exit.SERVICE and len(emu.serials()) == 2
    assert not journal_path(seed).exists()


def test_users_search_and_missing_configuration(
    emu: Emu, env: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, "entra", "users", "Grace", *env, "--json")
    assert status == Exit.OK and [u["user_principal_name"] for u in json.loads(out)["users"]] == [
        upn("grace")
    ]
    status, out, _ = run(capsys, "entra", "users", upn("ada"), *env, "--json")
    assert json.loads(out)["count"] == 1
    monkeypatch.delenv("OATHDESK_GRAPH_CLIENT_ID")
    status, _, err = run(capsys, "entra", "list", *env)
    assert status == Exit.CONFIG and "OATHDESK_GRAPH_CLIENT_ID" in err


def test_a_wrong_client_secret_is_an_auth_error_not_a_traceback(
    emu: Emu, env: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OATHDESK_GRAPH_CLIENT_SECRET", "not-the-secret")
    status, _, err = run(capsys, "entra", "list", *env)
    assert status == Exit.SERVICE and "graph.auth" in err and "invalid_client" in err
    assert "not-the-secret" not in err


def test_activate_refuses_a_malformed_code_and_an_unassigned_token(
    emu: Emu, env: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = write(tmp_path / "t.csv", records(1))
    assert run(capsys, "entra", "upload", str(seed), *env)[0] == Exit.OK
    assert run(capsys, "entra", "activate", "SN-000000", "12345", *env)[0] == Exit.USAGE
    status, _, err = run(capsys, "entra", "activate", "SN-000000", "123456", *env)
    assert status == Exit.USAGE and "assign it first" in err


def test_nothing_logged_or_printed_during_an_upload_holds_a_secret(
    emu: Emu,
    env: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Debug logging on, faults on, one item refused: search every channel for every seed."""
    caplog.set_level(logging.DEBUG)
    emu.faults(
        {"path": "hardwareOathDevices$", "method": "PATCH", "status": 504, "count": 1},
        {
            "path": "hardwareOathDevices$",
            "method": "PATCH",
            "status": 429,
            "retryAfter": 0.05,
            "count": 1,
        },
    )
    recs = records(40)
    emu.state.directory.reject_duplicate_serials = True
    seed = write(tmp_path / "s.csv", recs)
    status, _, err = run(capsys, "entra", "upload", str(seed), "--chunk", "9", *env, secrets=recs)
    assert status == Exit.OK and len(emu.serials()) == 40
    journal = journal_path(seed).read_text()
    logs = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    assert "graph.outcome_unknown" not in err  # settled by lookup, not shown as failure
    assert "PATCH" in caplog.text  # the debug log really was captured
    for r in recs:
        for spelled in (b32(r.secret), b32(r.secret).lower(), r.secret.to_hex()):
            assert spelled not in logs and spelled not in journal
    assert APP_SECRET not in logs + journal


def test_list_csv_neutralises_formulas(
    emu: Emu, env: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A model a spreadsheet would run comes out of ``entra list --csv`` with a leading '."""
    formula = '=HYPERLINK("http://evil.example/x")'
    recs = [dataclasses.replace(record(1), model=formula), record(2)]
    seed = tmp_path / "tokens.csv"
    seed.write_bytes(write_seeds(recs, "entra-csv", WriteOptions(keep_formulas=True)))
    assert run(capsys, "entra", "upload", str(seed), *env, secrets=recs)[0] == Exit.OK
    status, out, _ = run(capsys, "entra", "list", "--csv", *env)
    models = {row["serial_number"]: row["model"] for row in csv.DictReader(io.StringIO(out))}
    assert status == Exit.OK
    assert models == {recs[0].serial: "'" + formula, recs[1].serial: "TOTP-6 Key"}
