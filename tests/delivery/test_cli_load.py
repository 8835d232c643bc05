"""``oathdesk delivery load`` opens a seed file as every import does: a password ZIP with
``--password-file``; a missing or wrong password is named as one (``container.*``, exit 4), not
as an unknown format; and every hint the CLI prints names an option the command accepts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup

from oathdesk.cli.delivery_cmd import app
from oathdesk.cli.exits import HINTS, Exit
from oathdesk.cli.main import main
from oathdesk.containers import wrap_zip
from oathdesk.domain import Secret
from oathdesk.store import upgrade
from tests.delivery import support

PASSWORD = "zip-Password-42"


@pytest.fixture
def folder(db_url: str, tmp_path: Path) -> Path:
    upgrade(db_url)
    (tmp_path / "oathdesk.toml").write_text(
        f'[data]\ndir = "{tmp_path / "data"}"\n'
        f'[store]\nurl = "{db_url}"\n'
        "[delivery]\n"
        'base_url = "https://seeds.vendor.example"\n'
    )
    zipped = wrap_zip(support.seed_file(), "seeds.csv", Secret(PASSWORD.encode()))
    (tmp_path / "seeds.zip").write_bytes(zipped)
    (tmp_path / "orders.csv").write_bytes(support.manifest_csv())
    (tmp_path / "right.txt").write_text(PASSWORD + "\n")
    (tmp_path / "wrong.txt").write_text("not-the-password\n")
    return tmp_path


def _load(folder: Path, *extra: str) -> list[str]:
    config = ["--config", str(folder / "oathdesk.toml")]
    return [
        "delivery",
        "load",
        str(folder / "seeds.zip"),
        str(folder / "orders.csv"),
        *config,
        *extra,
    ]


def test_a_password_zip_loads_with_password_file(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_load(folder, "--password-file", str(folder / "right.txt"), "--json")) == 0
    loaded = json.loads(capsys.readouterr().out)
    assert loaded == {"customers": 1, "orders": 1, "shipments": 2, "tokens": 5, "unused": 1}


@pytest.mark.parametrize(
    ("extra", "code", "option"),
    [
        ((), "container.password_required", "--password-file"),
        (("--password-file", "wrong.txt"), "container.wrong_password", "--password-file"),
    ],
)
def test_a_missing_or_wrong_password_is_named_with_its_option(
    folder: Path,
    capsys: pytest.CaptureFixture[str],
    extra: tuple[str, ...],
    code: str,
    option: str,
) -> None:
    args = [str(folder / a) if a.endswith(".txt") else a for a in extra]
    capsys.readouterr()
    assert main(_load(folder, *args)) == Exit.DECRYPTION
    err = capsys.readouterr().err
    assert f"({code})" in err, err
    assert "seed.unknown_format" not in err and "NUL" not in err
    hint = err.split("hint", 1)[1]
    assert option in hint
    assert main(_load(folder, "--password-file", str(folder / "right.txt"))) == 0  # nothing kept


def _accepted() -> set[str]:
    command = typer.main.get_command(app)
    assert isinstance(command, TyperGroup)
    load = command.commands["load"]
    return {name for param in load.params for name in param.opts}


def test_every_hint_names_an_option_delivery_load_accepts() -> None:
    accepted = _accepted()
    named = {flag for hint in HINTS.values() for flag in re.findall(r"--[a-z][a-z-]*", hint)}
    assert named, "the hints name no option: the test checks nothing"
    assert named <= accepted, sorted(named - accepted)
