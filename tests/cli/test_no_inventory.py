"""A command that needs the inventory, run where there is none, says how to make one and creates
nothing: no database file, no data folder, no key files (a read-only command used to leave a
second, empty inventory in the home folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from oathdesk.cli.exits import Exit
from oathdesk.cli.main import main


@pytest.mark.parametrize(
    "args", [["tokens", "list"], ["tokens", "show", "SN-1"], ["audit", "verify"]]
)
def test_no_inventory_is_a_clear_error_and_nothing_is_created(
    args: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "nothing-here"
    for name in ("OATHDESK_CONFIG", "OATHDESK_STORE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OATHDESK_DATA_DIR", str(folder))
    monkeypatch.chdir(tmp_path)
    assert main(args) == Exit.SERVICE
    err = capsys.readouterr().err
    assert "No inventory at" in err and "oathdesk db upgrade" in err
    assert "Nothing was created" in err
    assert not folder.exists()


def test_a_configured_sqlite_file_that_is_missing_is_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "db" / "inventory.sqlite"
    settings = tmp_path / "oathdesk.toml"
    settings.write_text(
        f'[data]\ndir = "{tmp_path / "data"}"\n[store]\nurl = "sqlite:///{db}"\n', encoding="utf-8"
    )
    for name in ("OATHDESK_CONFIG", "OATHDESK_STORE_URL", "OATHDESK_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    assert main(["tokens", "list", "--config", str(settings)]) == Exit.SERVICE
    assert str(db) in capsys.readouterr().err
    assert not db.exists() and not db.parent.exists() and not (tmp_path / "data").exists()
    # db upgrade is the command that creates it; then the same command works
    assert main(["db", "upgrade", "--config", str(settings)]) == 0
    assert db.exists()
    assert main(["tokens", "list", "--config", str(settings), "--json"]) == 0
