"""Console settings from ``[web]``: typed like every other key, cookie and session rules shared
with the delivery app, and the Entra authority host shared with Graph."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from oathdesk.config import KEYS, Config, load_config
from oathdesk.domain import ConfigError
from oathdesk.graph import GraphSettings
from oathdesk.service.accounts import ROLES, ThrottlePolicy
from oathdesk.shared_settings import DEFAULT_AUTHORITY_HOST
from oathdesk.web import WebSettings
from oathdesk.web.settings import EntraSettings


def _settings(tmp_path: Path, **web: object) -> WebSettings:
    return WebSettings.from_config(Config(sections={"data": {"dir": str(tmp_path)}, "web": web}))


def test_every_documented_key_has_its_default(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert settings.secure_cookies is True
    assert settings.session_lifetime == timedelta(minutes=480)
    assert settings.session_idle == timedelta(minutes=30)
    assert settings.throttle == ThrottlePolicy(
        max_failures=5, address_failures=20, lockout=timedelta(minutes=15)
    )
    assert settings.entra is None
    assert (tmp_path / "keys" / "web-secret.key").is_file()


def test_every_key_is_read(tmp_path: Path) -> None:
    key = tmp_path / "elsewhere" / "signing.key"
    settings = _settings(
        tmp_path,
        secure_cookies="off",
        session_minutes=120,
        idle_minutes="7.5",
        signin_max_failures="3",
        signin_address_failures=9,
        signin_lockout_minutes=1,
        secret_key_file=str(key),
    )
    assert settings.secure_cookies is False and settings.session_cookie == "oathdesk_session"
    assert settings.session_lifetime == timedelta(hours=2)
    assert settings.session_idle == timedelta(minutes=7, seconds=30)
    assert settings.throttle.max_failures == 3 and settings.throttle.address_failures == 9
    assert settings.throttle.lockout == timedelta(minutes=1)
    assert key.is_file()


@pytest.mark.parametrize("value", ["on", "ON", "yes", "1", "true", True])
def test_secure_cookies_on_is_on(tmp_path: Path, value: object) -> None:
    settings = _settings(tmp_path, secure_cookies=value)
    assert settings.secure_cookies is True
    assert settings.session_cookie == "__Host-oathdesk_session"


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("secure_cookies", "maybe", "must be true or false (true/false, 1/0, yes/no, on/off"),
        ("session_minutes", -1, "must be a positive number of minutes"),
        ("idle_minutes", "soon", "must be a positive number of minutes"),
        ("signin_max_failures", "2.5", "must be a whole number of at least 1"),
        ("signin_lockout_minutes", 0, "must be a positive number of minutes"),
    ],
)
def test_a_bad_value_names_its_key(tmp_path: Path, key: str, value: object, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _settings(tmp_path, **{key: value})
    assert caught.value.code == "config.invalid_value"
    assert caught.value.message.startswith(f"[web] {key} {problem}")


def test_variables_are_typed_the_same_way(tmp_path: Path) -> None:
    env = {"OATHDESK_DATA_DIR": str(tmp_path), "OATHDESK_WEB_SECURE_COOKIES": "No"}
    assert WebSettings.from_config(load_config(None, env=env)).secure_cookies is False
    env["OATHDESK_WEB_SECURE_COOKIES"] = "maybe"
    with pytest.raises(ConfigError) as caught:
        WebSettings.from_config(load_config(None, env=env))
    assert caught.value.message.startswith(
        "[web] secure_cookies (from OATHDESK_WEB_SECURE_COOKIES) must be true or false"
    )


def test_every_role_has_a_declared_entra_key() -> None:
    assert {f"entra_{role}_role" for role in ROLES} <= set(KEYS["web"])


def _entra_and_graph(tmp_path: Path, graph: dict[str, str], web: dict[str, str]) -> Config:
    graph = {"client_secret": "s", "tenant_id": "t", "client_id": "c", **graph}
    web = {"entra_client_id": "console", "entra_client_secret": "x", **web}
    return Config(sections={"data": {"dir": str(tmp_path)}, "graph": graph, "web": web})


def test_one_authority_host_serves_graph_and_the_console(tmp_path: Path) -> None:
    config = _entra_and_graph(tmp_path, {}, {})
    entra = EntraSettings.from_config(config)
    assert entra is not None
    assert entra.authority_host == DEFAULT_AUTHORITY_HOST == "https://login.microsoftonline.com"
    assert GraphSettings.from_config(config).authority_host == DEFAULT_AUTHORITY_HOST
    us = _entra_and_graph(tmp_path, {"authority_host": "https://login.microsoftonline.us"}, {})
    entra = EntraSettings.from_config(us)
    assert entra is not None and entra.authority == "https://login.microsoftonline.us/t"
    assert GraphSettings.from_config(us).authority == "https://login.microsoftonline.us/t"
    console_only = _entra_and_graph(tmp_path, {}, {"entra_authority_host": "https://127.0.0.1:1"})
    entra = EntraSettings.from_config(console_only)
    assert entra is not None and entra.authority_host == "https://127.0.0.1:1"
    assert GraphSettings.from_config(console_only).authority_host == DEFAULT_AUTHORITY_HOST


def test_a_plain_http_authority_host_names_the_key(tmp_path: Path) -> None:
    config = _entra_and_graph(tmp_path, {"authority_host": "http://login.example"}, {})
    with pytest.raises(ConfigError) as caught:
        EntraSettings.from_config(config)
    assert caught.value.code == "config.invalid_value"
    assert "[web] entra_authority_host (or [graph] authority_host)" in caught.value.message
