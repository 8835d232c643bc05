"""The run's CliContext: root options and the clock reach commands on ``ctx.obj``, never through
``os.environ``; and every command group is registered, none left out silently."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import typer
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from typer.core import TyperGroup
from typer.testing import CliRunner

from oathdesk.cli import entra_cmd
from oathdesk.cli.context import CliContext, cli_context
from oathdesk.cli.main import app
from oathdesk.config import load_config
from oathdesk.domain import FixedClock, Secret
from oathdesk.graph import GraphClient, GraphSettings
from oathdesk.graph import connect as graph_connect
from tests.service import support
from tests.service.fixtures import Emu

SECRET = "HJ7QZHS3FVAYN4HB2LB3JJMWQ54GSWSL"
AT = 1_700_000_000


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No configuration from the environment or the working folder."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("OATHDESK_"):
            monkeypatch.delenv(name)


def _graph_config(path: Path, extra: str = "") -> Path:
    path.write_text(
        "[graph]\n"
        f'tenant_id = "{support.TENANT}"\n'
        f'client_id = "{support.APP}"\n'
        f'client_secret = "{support.APP_SECRET}"\n' + extra,
        encoding="utf-8",
    )
    return path


def test_emulator_and_ca_file_at_the_root_reach_the_command_not_the_environment(
    emu: Emu, tmp_path: Path, clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The configuration names real Entra; only the root options point this run at the
    emulator, in-process, and the environment is the same before, during and after."""
    config = _graph_config(tmp_path / "oathdesk.toml")
    before = dict(os.environ)
    seen: list[tuple[str, Path | None, dict[str, str]]] = []

    def connect(settings: GraphSettings, **options: Any) -> GraphClient:
        seen.append((settings.base_url, settings.ca_file, dict(os.environ)))
        return graph_connect(settings, **options)

    monkeypatch.setattr(entra_cmd, "connect", connect)
    root = ["--emulator", emu.url, "--ca-file", str(emu.ca)]
    command = ["entra", "users", support.upn("ada"), "--config", str(config), "--json"]
    result = CliRunner().invoke(app, [*root, *command])
    assert result.exit_code == 0, result.output
    assert seen == [(f"{emu.url}/beta", emu.ca, before)]  # nothing set while it ran
    document = json.loads(result.stdout)
    assert [u["user_principal_name"] for u in document["users"]] == [support.upn("ada")]
    assert dict(os.environ) == before


def test_root_options_go_over_the_configuration_for_this_context_only(
    tmp_path: Path, clean_env: None
) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not read here\n", encoding="utf-8")
    extra = 'emulator = "https://file.example"\n[data]\ndir = "d"\n'
    path = _graph_config(tmp_path / "c.toml", extra)
    loaded = load_config(path)
    plain = CliContext().config(path)
    assert plain.sections == load_config(path).sections
    moved = CliContext(emulator="https://cli.example:8443", ca_file=ca).config(path)
    assert moved.get("graph", "emulator") == "https://cli.example:8443"
    assert moved.get("graph", "ca_file") == str(ca)
    assert moved.get("graph", "tenant_id") == support.TENANT
    assert moved.get("data", "dir") == "d" and moved.source == path
    assert loaded.get("graph", "emulator") == "https://file.example"  # the loaded one untouched


def test_the_clock_of_the_context_is_the_time_of_seeds_codes(
    tmp_path: Path, clean_env: None
) -> None:
    seeds = tmp_path / "tokens.csv"
    seeds.write_text(
        "upn,serial number,secret key,time interval,manufacturer,model\n"
        f"ada@example.com,0001234,{SECRET},30,Contoso,T1\n",
        encoding="utf-8",
    )
    key = Secret.from_base32(SECRET).reveal()
    expected = TOTP(key, 6, SHA1(), 30, enforce_key_length=False).generate(AT).decode()  # noqa: S303
    result = CliRunner().invoke(
        app, ["seeds", "codes", str(seeds), "--json"], obj=CliContext(clock=FixedClock(AT))
    )
    assert result.exit_code == 0, result.output
    [token] = json.loads(result.stdout)["tokens"]
    assert token["codes"][0]["code"] == expected


def test_a_command_run_without_the_root_gets_the_defaults() -> None:
    seen: list[CliContext] = []
    alone = typer.Typer()

    @alone.command()
    def probe(ctx: typer.Context) -> None:
        seen.append(cli_context(ctx))

    assert CliRunner().invoke(alone, []).exit_code == 0
    [context] = seen
    assert context.emulator is None and context.ca_file is None
    assert context.clock.now() > AT  # the system clock


def test_every_command_group_is_registered() -> None:
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    assert set(root.commands) == {
        "seeds",
        "emulator",
        "entra",
        "tokens",
        "sync",
        "audit",
        "keys",
        "db",
        "accounts",
        "delivery",
        "report",
        "serve",
        "demo",
        "notify",
    }
    seeds, tokens = root.commands["seeds"], root.commands["tokens"]
    assert isinstance(seeds, TyperGroup) and isinstance(tokens, TyperGroup)
    assert {"codes", "identify", "inspect", "convert", "formats"} <= set(seeds.commands)
    lifecycle = {"assign", "activate", "deactivate", "unassign", "delete", "replace", "resync"}
    assert lifecycle | {"import", "list", "show", "identify"} <= set(tokens.commands)
