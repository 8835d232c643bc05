"""`oathdesk seeds inspect|convert` on the round-2 variants (issue 18): ``--member``, signed PGP,
hex secrets, UTF-16 text, and the count, estimate and progress bar of a long read.

The progress bar is driven by the run's clock: the test hands in a clock that moves on each
reading, so nothing here is timed (the read's real duration does not matter).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oathdesk.cli.context import CliContext
from oathdesk.cli.exits import Exit
from oathdesk.cli.main import app
from oathdesk.cli.seeds_progress import ANNOUNCE_AFTER
from oathdesk.formats.estimate import estimate_seconds
from tests.cli.test_seeds_cli import run
from tests.containers.test_pgp_signed import Homes, make_homes, signed_message, stop_homes
from tests.formats import variant_samples as mk

VARIANTS = Path(__file__).parent.parent / "formats" / "samples" / "variants"


@dataclass
class TickingClock:
    """A clock whose monotonic time moves ``step`` seconds at every reading."""

    step: float
    elapsed: float = 0.0
    at: float = 1_700_000_000.0

    def now(self) -> float:
        return self.at + self.elapsed

    def monotonic(self) -> float:
        self.elapsed += self.step
        return self.elapsed

    def sleep(self, seconds: float) -> None:
        self.elapsed += seconds


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Homes]:
    """A signing vendor and a decrypting customer, in throw-away GnuPG homes."""
    base = tmp_path_factory.mktemp("signed-cli")
    try:
        yield make_homes(base)
    finally:
        stop_homes(base)


def invoke(clock: TickingClock, *argv: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(argv), obj=CliContext(clock=clock))
    for secret in (mk.S1_B32, mk.S2_B32, mk.S1_HEX):
        assert secret.lower() not in (result.stdout + result.stderr).lower()
    return result.exit_code, result.stdout, result.stderr


def test_member_option_picks_the_seed_file(capsys: pytest.CaptureFixture[str]) -> None:
    archive = str(VARIANTS / "zip-two-seed-files.zip")
    status, _, err = run(capsys, "seeds", "inspect", archive)
    assert status == Exit.ARCHIVE
    assert "container.multiple_files" in err and "--member NAME" in err and "totp60.csv" in err
    status, out, _ = run(capsys, "seeds", "inspect", archive, "--member", "totp60.csv", "--json")
    assert status == Exit.OK
    document = json.loads(out)
    assert document["count"] == 1 and document["tokens"][0]["period"] == 60


def test_hex_entra_csv_is_refused_then_converted_to_base32(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = str(VARIANTS / "entra-hex.csv")
    status, out, _ = run(capsys, "seeds", "inspect", source)
    assert status == Exit.INVALID_INPUT
    assert "seed.hex_secret" in out and "--secret-encoding hex" in out
    target = tmp_path / "entra.csv"
    argv = ["seeds", "convert", source, str(target), "--to", "entra-csv"]
    status, _, _ = run(capsys, *argv, "--secret-encoding", "hex")
    assert status == Exit.OK
    written = target.read_text()
    assert written.splitlines()[0] == "serial number,secret key,time interval,manufacturer,model"
    assert f"20250001,{mk.S1_B32},30," in written and f"20250002,{mk.S2_B32},60," in written


def test_excel_unicode_text_inspects_like_a_csv(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "seeds", "inspect", str(VARIANTS / "excel-unicode-text.txt"))
    assert status == Exit.OK
    assert "entra-csv, 2 token(s)" in out and "Feitian c200 Ü" in out and "no problems" in out


def test_inspect_reports_the_signature_of_a_signed_pgp_file(
    capsys: pytest.CaptureFixture[str],
    homes: Homes,
    tmp_path: Path,
) -> None:
    message = tmp_path / "delivery.csv.gpg"
    message.write_bytes(signed_message(homes, tmp_path))
    argv = ["seeds", "inspect", str(message), "--gpg-home", str(homes.customer)]
    status, out, _ = run(capsys, *argv)
    assert status == Exit.OK
    assert "entra-csv inside pgp, 2 token(s)" in out
    assert f"signed by key {homes.vendor_key_id.upper()}: signer unknown" in out
    status, out, _ = run(capsys, *argv[:3], "--gpg-home", str(homes.trusting), "--json")
    [signature] = json.loads(out)["signatures"]
    assert signature["status"] == "valid" and signature["signer"].startswith("Vendor Signing")
    assert signature["key_id"] == homes.vendor_key_id.upper()


def _large_csv(path: Path, count: int) -> Path:
    rows = [f"{30000000 + n},{mk.S1_B32},30,Feitian,c200" for n in range(count)]
    header = "serial number,secret key,time interval,manufacturer,model"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_a_long_read_is_announced_and_shown(tmp_path: Path) -> None:
    count = 65_536  # eight blocks of 8,192 rows: eight progress reports
    data = _large_csv(tmp_path / "big.csv", count).read_bytes()
    assert estimate_seconds(data, "entra-csv", count) >= ANNOUNCE_AFTER
    status, out, err = invoke(TickingClock(step=0.4), "seeds", "inspect", str(tmp_path / "big.csv"))
    assert status == Exit.OK, err
    assert f"{count} token(s)" in out
    announced = f"big.csv: {count} token(s) in entra-csv; reading takes about "
    assert announced in err
    assert err.index(announced) < err.index("reading entra-csv")  # the count comes first
    assert f"{count}/{count}" in err  # the bar, finished


def test_a_quick_read_shows_neither(tmp_path: Path) -> None:
    path = _large_csv(tmp_path / "small.csv", 3)
    status, out, err = invoke(TickingClock(step=0.4), "seeds", "inspect", str(path), "--json")
    assert status == Exit.OK
    assert json.loads(out)["count"] == 3
    assert "reading" not in err


def test_a_slow_read_of_a_small_file_still_gets_its_bar(tmp_path: Path) -> None:
    # a clock that moves 5 s per reading: the bar appears from the second report, with the
    # pipeline's count as its total, though the estimate was too short to announce
    path = _large_csv(tmp_path / "mid.csv", 3 * 8192)
    status, _, err = invoke(TickingClock(step=5.0), "seeds", "inspect", str(path))
    assert status == Exit.OK
    assert "reading takes about" not in err
    assert "reading entra-csv" in err and f"{3 * 8192}/{3 * 8192}" in err


def test_eight_digit_and_sha256_tokens_against_entra(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    eight = str(VARIANTS / "pskc-8digit-sha256.pskcxml")
    status, out, _ = run(capsys, "seeds", "inspect", eight, "--target", "entra")
    assert status == Exit.INVALID_INPUT
    assert "entra.digits" in out and "ask the vendor for 6-digit tokens" in out
    assert "entra.hash" not in out  # SHA-256 is an Entra hash
    status, _, err = run(
        capsys, "seeds", "convert", eight, str(tmp_path / "o.json"), "--to", "entra-json"
    )
    assert status == Exit.INVALID_INPUT and "6-digit" in err
    assert not (tmp_path / "o.json").exists()
    sha256 = str(VARIANTS / "entra-sha256-graph.csv")
    status, _, err = run(
        capsys, "seeds", "convert", sha256, str(tmp_path / "o.csv"), "--to", "entra-csv"
    )
    assert status == Exit.INVALID_INPUT and "--to entra-json" in err
    status, _, _ = run(
        capsys, "seeds", "convert", sha256, str(tmp_path / "o.json"), "--to", "entra-json"
    )
    assert status == Exit.OK
    assert json.loads((tmp_path / "o.json").read_text())["value"][0]["hashFunction"] == "hmacsha256"
