"""`oathdesk demo` runs the whole seed-file walkthrough on this machine and every step succeeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oathdesk.cli.main import main


def test_demo_walkthrough(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    assert main(["demo", "--data", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.count("(exit status 0)") == 4
    assert "demo finished" in out
    delivery = folder / "vendor-delivery.zip"
    assert delivery.read_bytes()[:4] == b"PK\x03\x04"
    password = (folder / "delivery-password.txt").read_text().strip()
    assert password in out  # the demo prints the sample's password for the user
    doc = json.loads((folder / "tokens.json").read_text())
    assert len(doc["value"]) == 25
    for item in doc["value"]:  # the seeds themselves are never printed
        assert item["secretKey"] not in out
    assert (folder / "tokens-duo.csv").read_text().count("\n") == 25
