"""`oathdesk seeds formats|inspect|convert` as a user runs them: output, exit statuses, files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from oathdesk.cli.exits import Exit
from oathdesk.cli.main import main
from oathdesk.formats import FORMAT_IDS

VALID = Path(__file__).parent.parent / "formats" / "samples" / "valid"
SECRETS = (
    "HJ7QZHS3FVAYN4HB2LB3JJMWQ54GSWSL",
    "YD764AJDIVTYTK6N54ASGRLHRHPK3PXP",
    "3a7f0c9e5b2d4186f0e1d2c3b4a5968778695a4b",
    "c0ffee0123456789abcdef0123456789deadbeef",
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    for secret in SECRETS:  # whatever happened, no seed reached the terminal
        assert secret.lower() not in (captured.out + captured.err).lower()
    return status, captured.out, captured.err


def test_formats_lists_every_format(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "seeds", "formats", "--json")
    assert status == Exit.OK
    assert [f["id"] for f in json.loads(out)["formats"]] == list(FORMAT_IDS)
    assert len(FORMAT_IDS) == 11


def test_inspect_json_has_the_documented_shape(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "seeds", "inspect", str(VALID / "entra-upn.csv"), "--json")
    assert status == Exit.OK
    doc = json.loads(out)
    assert set(doc) == {"format", "count", "signatures", "tokens", "problems"}
    assert doc["format"] == "entra-csv" and doc["count"] == 2
    assert doc["signatures"] == []  # a signed PGP envelope lists its signers here
    assert set(doc["tokens"][0]) == {
        "serial",
        "kind",
        "period",
        "digits",
        "algorithm",
        "manufacturer",
        "model",
        "user",
    }
    assert doc["tokens"][1] == {
        "serial": "20250002",
        "kind": "totp",
        "period": 60,
        "digits": 6,
        "algorithm": "sha1",
        "manufacturer": "ExampleVendor",
        "model": "DemoTOTP60",
        "user": "bob@example.com",
    }
    assert doc["problems"] == []


def test_inspect_table_output_summarises(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "seeds", "inspect", str(VALID / "oath.csv"))
    assert status == Exit.OK
    assert "oath-csv" in out and "4 token(s)" in out
    assert "HOTP 6 digits counter SHA1" in out and "TOTP 6 digits 30 s SHA256" in out


def test_inspect_target_entra_reports_what_entra_refuses(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = run(
        capsys, "seeds", "inspect", str(VALID / "oath.csv"), "--target", "entra", "--json"
    )
    assert status == Exit.INVALID_INPUT
    codes = {(p["serial"], p["code"]) for p in json.loads(out)["problems"]}
    assert ("20250011", "entra.not_totp") in codes
    assert ("20250001", "entra.missing_manufacturer") in codes


def test_inspect_broken_file_exits_invalid_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "serial number,secret key,time interval,manufacturer,model\n"
        "1.00013E+12,HJ7QZHS3FVAYN4HB2LB3JJMWQ54GSWSL,30,V,M\n"
    )
    status, out, _ = run(capsys, "seeds", "inspect", str(bad))
    assert status == Exit.INVALID_INPUT and "seed.serial_exponent" in out
    status, out, _ = run(capsys, "seeds", "inspect", str(bad), "--json")
    assert status == Exit.INVALID_INPUT
    [problem] = json.loads(out)["problems"]
    assert problem["locator"] == f"{bad}:2" and problem["code"] == "seed.serial_exponent"


def test_csv2json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_file = tmp_path / "tokens.json"
    status, out, _ = run(
        capsys,
        "seeds",
        "convert",
        str(VALID / "entra-no-upn.csv"),
        str(out_file),
        "--to",
        "entra-json",
    )
    assert status == Exit.OK and "wrote 2 token(s)" in out
    text = out_file.read_text()
    assert text.startswith('{\n  "@context": "#$delta",\n  "value": [\n')
    doc = json.loads(text)
    assert [d["@contentId"] for d in doc["value"]] == ["1", "2"]
    assert doc["value"][1] == {
        "@contentId": "2",
        "serialNumber": "20250002",
        "manufacturer": "Deepnet Security",
        "model": "SafeID/Classic",
        "secretKey": "YD764AJDIVTYTK6N54ASGRLHRHPK3PXP",
        "timeIntervalInSeconds": 60,
        "hashFunction": "hmacsha1",
    }
    assert out_file.stat().st_mode & 0o077 == 0  # a file of seeds is private


def test_convert_refuses_what_the_target_cannot_hold(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_file = tmp_path / "out.csv"
    status, _, err = run(
        capsys, "seeds", "convert", str(VALID / "entra.json"), str(out_file), "--to", "entra-csv"
    )
    assert status == Exit.INVALID_INPUT
    # the SHA-256 token: the legacy CSV cannot say its hash, and the message names the way out
    assert "cannot be written as entra-csv" in err and "--to entra-json" in err
    assert not out_file.exists()


def test_convert_hex_to_entra_needs_manufacturer(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_file = tmp_path / "out.json"
    status, _, err = run(
        capsys, "seeds", "convert", str(VALID / "duo-totp.csv"), str(out_file), "--to", "entra-json"
    )
    assert status == Exit.INVALID_INPUT and "manufacturer" in err and not out_file.exists()
    status, _, _ = run(
        capsys,
        "seeds",
        "convert",
        str(VALID / "duo-totp.csv"),
        str(out_file),
        "--to",
        "entra-json",
        "--manufacturer",
        "Deepnet",
        "--model",
        "SafeID",
    )
    assert status == Exit.OK
    assert json.loads(out_file.read_text())["value"][0]["secretKey"] == SECRETS[0]


def test_convert_does_not_overwrite_without_force(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_file = tmp_path / "out.csv"
    out_file.write_text("keep me")
    status, _, err = run(
        capsys, "seeds", "convert", str(VALID / "duo-totp.csv"), str(out_file), "--to", "oath-csv"
    )
    assert status == Exit.FILE and "--force" in err
    assert out_file.read_text() == "keep me"
    status, _, _ = run(
        capsys,
        "seeds",
        "convert",
        str(VALID / "duo-totp.csv"),
        str(out_file),
        "--to",
        "oath-csv",
        "--force",
    )
    assert status == Exit.OK and out_file.read_text().startswith("20250001,")


def test_ambiguous_file_lists_candidates(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    two_columns = tmp_path / "seeds.txt"
    two_columns.write_text("20250001,3a7f0c9e5b2d4186f0e1d2c3b4a5968778695a4b\n")
    status, _, err = run(capsys, "seeds", "inspect", str(two_columns))
    assert status == Exit.INVALID_INPUT
    assert "duo-csv" in err and "oath-csv" in err and "--from" in err
    status, out, _ = run(
        capsys, "seeds", "inspect", str(two_columns), "--from", "oath-csv", "--json"
    )
    assert status == Exit.OK and json.loads(out)["tokens"][0]["kind"] == "hotp"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["seeds", "inspect", "/nonexistent/seeds.csv"], Exit.FILE),
        (["seeds", "inspect", str(VALID / "oath.csv"), "--from", "nope"], Exit.USAGE),
        (["seeds", "inspect", str(VALID / "oath.csv"), "--target", "okta"], Exit.USAGE),
        (["seeds", "inspect", str(VALID / "acme.csv"), "--from", "custom-csv"], Exit.USAGE),
        (["seeds", "convert", str(VALID / "oath.csv"), "/tmp/x", "--to", "nope"], Exit.USAGE),
        (["seeds", "inspect"], Exit.USAGE),
    ],
)
def test_exit_statuses(capsys: pytest.CaptureFixture[str], argv: list[str], expected: Exit) -> None:
    status, _, err = run(capsys, *argv)
    assert status == expected
    assert "Traceback" not in err


def test_bad_config_file_is_a_config_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "oathdesk.toml"
    config.write_text("[data\n")
    status, _, err = run(capsys, "seeds", "formats", "--config", str(config))
    assert status == Exit.CONFIG and "not valid TOML" in err


def test_custom_profile_mistake_names_the_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text('[[columns]]\nheader = "S"\nproperty = "serail"\n')
    status, _, err = run(
        capsys, "seeds", "inspect", str(VALID / "acme.csv"), "--profile", str(profile)
    )
    assert status == Exit.INVALID_INPUT
    assert "serail" in err and "p.toml" in err


def test_console_script_runs_as_a_process() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "oathdesk", "seeds", "inspect", str(VALID / "entra.json"), "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["count"] == 2


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("inventory.state_conflict", Exit.CONFLICT),
        ("inventory.concurrent_change", Exit.CONFLICT),
        ("inventory.serial_conflict", Exit.CONFLICT),
        ("graph.throttled", Exit.SERVICE),
        ("otp.no_match", Exit.NOT_FOUND),
    ],
)
def test_error_codes_map_to_documented_exits(code: str, expected: Exit) -> None:
    from oathdesk.cli.exits import exit_for
    from oathdesk.domain import OathdeskError

    assert exit_for(OathdeskError("x", code=code)) == expected


def test_inspect_a_field_over_128_kib_exits_invalid_input_naming_the_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    big = tmp_path / "big.csv"
    big.write_text(
        "upn,serial number,secret key,time interval,manufacturer,model\n"
        f',20250001,"{"M" * 200 * 1024}",30,Token2,C200\n'
    )
    status, out, err = run(capsys, "seeds", "inspect", str(big))
    assert status == Exit.INVALID_INPUT, (out, err[-2000:])
    assert f"{big}:2" in err and "seed.field_too_large" in err
    assert "Traceback" not in out + err and "internal error" not in (out + err).lower()


def test_a_seed_file_over_the_upload_cap_is_refused_before_it_is_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI caps a plain seed file as the console caps an upload (16 MiB): a 1 GiB file (sparse:
    no disk used) is refused from its size, never loaded whole into memory."""
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as sparse:
        sparse.truncate(1024**3)

    def read_whole(self: Path) -> bytes:
        raise AssertionError(f"{self} was read whole")

    monkeypatch.setattr(Path, "read_bytes", read_whole)
    out_file = str(tmp_path / "out.json")
    convert = ["seeds", "convert", str(huge), out_file, "--to", "entra-json"]
    for argv in (["seeds", "inspect", str(huge)], convert):
        status, out, err = run(capsys, *argv)
        assert status == Exit.FILE, (argv, out, err[-2000:])
        assert "file.too_large" in err and str(huge) in err and "16 MiB" in err


FORMULA = '=HYPERLINK("http://evil.example/x")'
FORMULA_SEEDS = (
    "upn,serial number,secret key,time interval,manufacturer,model\r\n"
    "alice@example.com,20250001,HJ7QZHS3FVAYN4HB2LB3JJMWQ54GSWSL,30,ExampleVendor,"
    f'"{FORMULA.replace(chr(34), chr(34) * 2)}"\r\n'
)


@pytest.mark.parametrize("keep", [False, True])
def test_convert_neutralises_formulas_unless_kept(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, keep: bool
) -> None:
    source = tmp_path / "vendor.csv"
    source.write_text(FORMULA_SEEDS, encoding="utf-8")
    out_file = tmp_path / "out.csv"
    extra = ["--keep-formulas"] if keep else []
    argv = ["seeds", "convert", str(source), str(out_file), "--to", "entra-csv", "--json", *extra]
    status, out, _ = run(capsys, *argv)
    assert status == Exit.OK
    warnings = [w for w in json.loads(out)["warnings"] if w["code"] == "seed.formula_prefix"]
    assert [w["locator"] for w in warnings] == [f"{source}:2"]
    written = out_file.read_text(encoding="utf-8-sig")
    neutral = '"\'=HYPERLINK(""http://evil.example/x"")"'
    raw = '"=HYPERLINK(""http://evil.example/x"")"'
    assert (raw in written and neutral not in written) if keep else (neutral in written)
