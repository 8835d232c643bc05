"""``oathdesk serve`` runs the configured console under uvicorn; settings come from ``[web]``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from oathdesk.bootstrap import database_url
from oathdesk.config import Config
from oathdesk.domain import ConfigError, OathdeskError
from oathdesk.store import upgrade
from oathdesk.web import WebSettings, create_app_from_config

RUN_SERVE = "import typer; from oathdesk.cli.serve_cmd import serve; typer.run(serve)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_serve_answers_on_the_configured_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    upgrade(database_url(Config(sections={"data": {"dir": str(data)}})))
    config = tmp_path / "oathdesk.toml"
    config.write_text(f'[data]\ndir = "{data}"\n[web]\nsecure_cookies = false\n')
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OATHDESK_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN_SERVE, "--port", str(port), "--config", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                signin = httpx.get(f"{url}/signin")
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                assert time.monotonic() < deadline, "oathdesk serve did not answer"
                time.sleep(0.2)
        assert signin.status_code == 200
        assert "server" not in signin.headers  # no banner
        assert 'name="csrf_token"' in signin.text
        spec = httpx.get(f"{url}/api/v1/openapi.json").json()
        assert "/api/v1/tokens" in spec["paths"]
        assert (data / "keys" / "web-secret.key").stat().st_mode & 0o777 == 0o600
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        if proc.stdout:
            proc.stdout.close()


def test_an_unmigrated_database_is_a_clear_error_before_serving(tmp_path: Path) -> None:
    config = Config(sections={"data": {"dir": str(tmp_path / "data")}})
    with pytest.raises(OathdeskError) as caught:
        create_app_from_config(config)
    assert caught.value.code == "service.not_migrated"
    assert "oathdesk db upgrade" in caught.value.message


def test_settings_from_config_and_the_key_file(tmp_path: Path) -> None:
    config = Config(
        sections={
            "data": {"dir": str(tmp_path)},
            "web": {"session_minutes": "60", "idle_minutes": 5, "signin_max_failures": 3},
        }
    )
    first = WebSettings.from_config(config)
    assert first.secure_cookies is True
    assert first.session_cookie == "__Host-oathdesk_session"
    assert first.session_lifetime == timedelta(hours=1)
    assert first.session_idle == timedelta(minutes=5)
    assert first.throttle.max_failures == 3
    key = tmp_path / "keys" / "web-secret.key"
    assert key.stat().st_mode & 0o777 == 0o600
    again = WebSettings.from_config(config)  # the same key across restarts: sessions survive
    assert again.secret_key.reveal() == first.secret_key.reveal()
    assert key.read_text().strip() not in repr(first)
    key.chmod(0o644)
    with pytest.raises(ConfigError) as loose:
        WebSettings.from_config(config)
    assert loose.value.code == "config.key_file_permissions"
    assert "chmod 600" in loose.value.message


@pytest.mark.parametrize(
    ("key", "value"), [("secure_cookies", "maybe"), ("idle_minutes", "0"), ("session_minutes", "x")]
)
def test_bad_web_settings_are_config_errors(tmp_path: Path, key: str, value: str) -> None:
    config = Config(sections={"data": {"dir": str(tmp_path)}, "web": {key: value}})
    with pytest.raises(ConfigError) as caught:
        WebSettings.from_config(config)
    assert key in caught.value.message
