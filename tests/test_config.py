"""Configuration: file found by flag, variable or folder; variables win; mistakes are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from oathdesk.config import load_config
from oathdesk.domain import ConfigError


def test_file_then_environment_override(tmp_path: Path) -> None:
    path = tmp_path / "oathdesk.toml"
    path.write_text('[data]\ndir = "/srv/oathdesk"\n[seeds]\ngpg_home = "/keys"\n')
    config = load_config(path, env={})
    assert config.source == path
    assert config.data_dir == Path("/srv/oathdesk")
    assert config.gpg_home == Path("/keys")
    config = load_config(
        path, env={"OATHDESK_DATA_DIR": "/elsewhere", "OATHDESK_SEEDS_GPG_HOME": "/other-keys"}
    )
    assert config.data_dir == Path("/elsewhere")
    assert config.gpg_home == Path("/other-keys")


def test_config_variable_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "custom.toml"
    path.write_text('[graph]\ntenant_id = "contoso"\n')
    config = load_config(None, env={"OATHDESK_CONFIG": str(path)})
    assert config.get("graph", "tenant_id") == "contoso"


def test_current_folder_file_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "oathdesk.toml").write_text('[graph]\nclient_id = "abc"\n')
    monkeypatch.chdir(tmp_path)
    assert load_config(None, env={}).get("graph", "client_id") == "abc"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ("[data\n", "config.invalid_toml"),
        ("[nonsense]\nx = 1\n", "config.unknown_section"),
        ("data = 1\n", "config.invalid"),
    ],
)
def test_mistakes_are_config_errors(tmp_path: Path, content: str, code: str) -> None:
    path = tmp_path / "oathdesk.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert info.value.code == code
    assert str(path) in info.value.message


def test_missing_named_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "absent.toml", env={})
    assert info.value.code == "config.not_found"


def test_repr_never_shows_secret_values(tmp_path: Path) -> None:
    path = tmp_path / "oathdesk.toml"
    path.write_text('[graph]\ntenant_id = "contoso"\nclient_secret = "s3cr3t-value"\n')
    config = load_config(path, env={"OATHDESK_STORE_KEY_FILE": "/k/keys.json"})
    shown = repr(config)
    assert "s3cr3t-value" not in shown and "/k/keys.json" not in shown
    assert "contoso" in shown and "client_secret" in shown
    assert config.get("graph", "client_secret") == "s3cr3t-value"
