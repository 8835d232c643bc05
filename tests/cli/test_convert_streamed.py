"""`seeds convert` streams its output into the temp file it renames: the file holds exactly what
``write_seeds`` returns, and a conversion refused while streaming leaves neither OUT changed nor a
temp file behind. Secrets never reach the terminal (``run`` checks every call)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from oathdesk.cli.exits import Exit
from oathdesk.cli.main import main
from oathdesk.domain import Secret, SeedRecord
from oathdesk.formats import read_seeds, write_seeds

VALID = Path(__file__).parent.parent / "formats" / "samples" / "valid"


def run(capsys: pytest.CaptureFixture[str], secrets: list[str], *argv: str) -> tuple[int, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    said = (captured.out + captured.err).lower()
    assert not [s for s in secrets if s.lower() in said]
    return status, captured.err


def test_a_large_conversion_is_streamed_to_the_very_bytes_of_write_seeds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    records = [
        SeedRecord(
            serial=f"{30_000_000 + i}",
            secret=Secret(os.urandom(20)),
            manufacturer="Token2",
            model="C202",
            period=60 if i % 3 else 30,
        )
        for i in range(20_000)  # more than two of the writer's chunks
    ]
    source = tmp_path / "in.csv"
    source.write_bytes(write_seeds(records, "entra-csv"))
    out_file = tmp_path / "out.json"
    secrets = [r.secret.to_base32() for r in records[:50]]
    status, _ = run(
        capsys, secrets, "seeds", "convert", str(source), str(out_file), "--to", "entra-json"
    )
    assert status == Exit.OK
    expected = write_seeds(read_seeds(source.read_bytes(), "in.csv").records, "entra-json")
    assert out_file.read_bytes() == expected
    assert out_file.stat().st_mode & 0o077 == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.json"]


def test_a_refusal_while_streaming_keeps_out_and_leaves_no_temp_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_file = tmp_path / "out.csv"
    out_file.write_text("keep me")
    secrets = [
        r.secret.to_base32() for r in read_seeds((VALID / "entra.json").read_bytes(), "x").records
    ]
    status, err = run(
        capsys,
        secrets,
        "seeds",
        "convert",
        str(VALID / "entra.json"),
        str(out_file),
        "--to",
        "entra-csv",
        "--force",
    )
    assert status == Exit.INVALID_INPUT and "has no hash column" in err
    assert out_file.read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
