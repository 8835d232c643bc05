"""``oathdesk seeds codes`` and ``seeds identify`` through the real entry point and real files."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from oathdesk.cli.exits import Exit
from oathdesk.cli.main import main
from oathdesk.domain import Secret

AT = 1_700_000_000
SECRET_A = "HJ7QZHS3FVAYN4HB2LB3JJMWQ54GSWSL"  # design example: 651706 (30 s), 094554 (60 s)
SECRET_B = "YD764AJDIVTYTK6N54ASGRLHRHPK3PXP"  # design example: 431554 (30 s), 816153 (60 s)
HEADER = "upn,serial number,secret key,time interval,manufacturer,model\n"


def oracle(base32: str, at: int, period: int = 30) -> str:
    """pyca/cryptography's TOTP, independent of ``oathdesk.otp``."""
    key = Secret.from_base32(base32).reveal()
    made = TOTP(key, 6, SHA1(), period, enforce_key_length=False)  # noqa: S303 - RFC 6238's hash
    return made.generate(at).decode()


def entra_csv(path: Path, rows: list[tuple[str, str, int]]) -> Path:
    lines = [
        f"u{n}@example.com,{serial},{secret},{period},Contoso,T1\n"
        for n, (serial, secret, period) in enumerate(rows)
    ]
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    return entra_csv(
        tmp_path / "tokens.csv",
        [("0001234", SECRET_A, 30), ("0001235", SECRET_B, 60), ("0001236", SECRET_A, 60)],
    )


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def no_secret_in(*texts: str) -> None:
    for text in texts:
        for secret in (SECRET_A, SECRET_B):
            assert secret not in text and secret.lower() not in text
            assert Secret.from_base32(secret).to_hex() not in text


def test_codes_table_shows_design_example_codes(
    capsys: pytest.CaptureFixture[str], seeds: Path
) -> None:
    status, out, err = run(capsys, "seeds", "codes", str(seeds), "--at", str(AT))
    assert status == Exit.OK
    assert "651706" in out and "816153" in out
    assert "094554" in out  # the leading zero is printed
    assert "0001234" in out and "2023-11-14T22:13:20Z" in out
    no_secret_in(out, err)


def test_codes_json_with_count_and_serial(capsys: pytest.CaptureFixture[str], seeds: Path) -> None:
    status, out, _ = run(
        capsys,
        "seeds",
        "codes",
        str(seeds),
        "--at",
        str(AT),
        "--serial",
        "0001236",
        "--count",
        "3",
        "--json",
    )
    assert status == Exit.OK
    document = json.loads(out)
    assert document["at"] == AT
    [token] = document["tokens"]
    assert token["serial"] == "0001236" and token["period"] == 60
    codes = token["codes"]
    assert [c["code"] for c in codes] == [oracle(SECRET_A, AT + 60 * k, 60) for k in range(3)]
    assert codes[0]["code"] == "094554"
    assert codes[0]["from"] <= AT < codes[0]["until"] == codes[1]["from"]
    assert [c["step"] for c in codes] == [AT // 60, AT // 60 + 1, AT // 60 + 2]
    no_secret_in(out)


def test_codes_for_an_unknown_serial_exit_not_found(
    capsys: pytest.CaptureFixture[str], seeds: Path
) -> None:
    status, out, err = run(capsys, "seeds", "codes", str(seeds), "--serial", "1234")
    assert status == Exit.NOT_FOUND
    assert "otp.not_found" in err and "1234" in err and out == ""


def test_codes_default_to_now(capsys: pytest.CaptureFixture[str], seeds: Path) -> None:
    status, out, _ = run(capsys, "seeds", "codes", str(seeds), "--json", "--serial", "0001234")
    assert status == Exit.OK
    document = json.loads(out)
    at = int(document["at"])
    code = document["tokens"][0]["codes"][0]["code"]
    assert code == oracle(SECRET_A, at)  # the step of a fractional time is the step of its floor


def test_codes_hotp_from_oath_csv(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "oath.csv"  # privacyIDEA layout: serial, hexkey, type, digits, counter
    path.write_text("H1, 3132333435363738393031323334353637383930, hotp, 6, 3\n", encoding="ascii")
    status, out, _ = run(capsys, "seeds", "codes", str(path), "--count", "3", "--json")
    assert status == Exit.OK
    codes = json.loads(out)["tokens"][0]["codes"]
    assert codes == [  # RFC 4226 Appendix D, counters 3, 4 and 5
        {"counter": 3, "code": "969429"},
        {"counter": 4, "code": "338314"},
        {"counter": 5, "code": "254676"},
    ]


def test_codes_inside_a_password_zip(capsys: pytest.CaptureFixture[str], seeds: Path) -> None:
    archive, password = seeds.with_suffix(".zip"), seeds.parent / "password.txt"
    password.write_text("correct horse\n", encoding="ascii")
    subprocess.run(  # Info-ZIP as an independent producer (ZipCrypto)
        ["zip", "-q", "-j", "-P", "correct horse", str(archive), str(seeds)], check=True
    )
    status, out, _ = run(
        capsys,
        "seeds",
        "codes",
        str(archive),
        "--password-file",
        str(password),
        "--at",
        str(AT),
        "--serial",
        "0001234",
    )
    assert status == Exit.OK and "651706" in out
    wrong = seeds.parent / "wrong.txt"
    wrong.write_text("nope\n", encoding="ascii")
    status, _, _ = run(capsys, "seeds", "codes", str(archive), "--password-file", str(wrong))
    assert status == Exit.DECRYPTION


def test_identify_one_code(capsys: pytest.CaptureFixture[str], seeds: Path) -> None:
    status, out, err = run(capsys, "seeds", "identify", str(seeds), "651706", "--at", str(AT))
    assert status == Exit.OK
    assert "0001234" in out and "0001235" not in out and "on time" in out
    no_secret_in(out, err)


def test_identify_json_with_a_spaced_code_and_a_late_clock(
    capsys: pytest.CaptureFixture[str], seeds: Path
) -> None:
    # the 60 s token showed 816153 at AT; we ask 70 s later: one step behind, inside ±1
    status, out, _ = run(
        capsys, "seeds", "identify", str(seeds), "816 153", "--at", str(AT + 70), "--json"
    )
    assert status == Exit.OK
    document = json.loads(out)
    assert document["codes"] == ["816153"] and document["unique"] is True
    assert document["matches"] == [
        {"serial": "0001235", "kind": "totp", "step": AT // 60, "offset": -1}
    ]


def test_identify_two_codes_single_out_one_of_two_tokens(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # find two secrets whose 30 s tokens show the same code at AT (a birthday search)
    rng = random.Random(6238)
    seen: dict[str, str] = {}
    pair: tuple[str, str] | None = None
    while pair is None:
        candidate = Secret(rng.randbytes(20)).to_base32()
        code = oracle(candidate, AT)
        if code in seen:
            pair = (seen[code], candidate)
        seen[code] = candidate
    first, second = pair
    path = entra_csv(tmp_path / "pair.csv", [("SN-A", first, 30), ("SN-B", second, 30)])
    shared = oracle(first, AT)
    status, out, err = run(capsys, "seeds", "identify", str(path), shared, "--at", str(AT))
    assert status == Exit.OK
    assert "SN-A" in out and "SN-B" in out and "2 tokens show" in err
    for serial, secret in (("SN-A", first), ("SN-B", second)):
        status, out, _ = run(
            capsys,
            "seeds",
            "identify",
            str(path),
            shared,
            oracle(secret, AT + 30),
            "--at",
            str(AT + 30),
            "--json",
        )
        assert status == Exit.OK
        document = json.loads(out)
        assert document["unique"] is True
        assert [m["serial"] for m in document["matches"]] == [serial]


def test_identify_without_a_match_exits_not_found(
    capsys: pytest.CaptureFixture[str], seeds: Path
) -> None:
    code = next(
        f"{n:06d}"
        for n in range(10**6)
        if f"{n:06d}"
        not in {
            oracle(s, AT + 30 * k, p)
            for s in (SECRET_A, SECRET_B)
            for p in (30, 60)
            for k in (-1, 0, 1)
        }
    )
    status, out, err = run(capsys, "seeds", "identify", str(seeds), code, "--at", str(AT))
    assert status == Exit.NOT_FOUND
    assert "otp.no_match" in err and out == ""
    status, _, _ = run(capsys, "seeds", "identify", str(seeds), "651706", "--at", str(AT + 3600))
    assert status == Exit.NOT_FOUND  # an hour later the code is outside the window


@pytest.mark.parametrize("codes", [["12345"], ["12a456"], ["123456789"], ["123456", "1234567"]])
def test_identify_refuses_malformed_codes(
    capsys: pytest.CaptureFixture[str], seeds: Path, codes: list[str]
) -> None:
    status, _, err = run(capsys, "seeds", "identify", str(seeds), *codes)
    assert status == Exit.USAGE
    assert "usage." in err


def test_a_missing_file_and_a_negative_time(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, _, err = run(capsys, "seeds", "codes", str(tmp_path / "none.csv"))
    assert status == Exit.FILE and "not found" in err
    status, _, err = run(capsys, "seeds", "codes", str(tmp_path / "none.csv"), "--at", "-5")
    assert status == Exit.USAGE and "--at" in err
