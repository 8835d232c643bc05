"""Sign-in through MSAL against the emulator (secret, certificate, device code), the token
cache, and the settings that say where Entra is."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from oathdesk.config import load_config
from oathdesk.domain import ConfigError, FixedClock, Secret
from oathdesk.graph import (
    GraphAuthError,
    GraphClient,
    GraphSession,
    GraphSettings,
    MsalTokenSource,
    make_http_client,
)
from tests.graph.conftest import Emu
from tests.graph.support import CERT_APP, CERT_BUNDLE, PASSWORD, PUBLIC_APP, TENANT, upn


def _client(emu: Emu, settings: GraphSettings, **kw: Any) -> GraphClient:
    tokens = MsalTokenSource(settings, **kw)
    return GraphClient(GraphSession(make_http_client(str(emu.ca)), tokens, settings.base_url))


def test_certificate_credential_signs_in(emu: Emu, tmp_path: Path) -> None:
    bundle = tmp_path / "app.pem"
    bundle.write_text(CERT_BUNDLE)
    settings = GraphSettings(
        TENANT,
        CERT_APP,
        certificate_file=bundle,
        authority_host=emu.url,
        base_url=f"{emu.url}/beta",
        ca_file=emu.ca,
    )
    with _client(emu, settings) as client:
        assert client.count_devices() == 0


def test_a_certificate_file_without_a_key_is_a_clear_error(emu: Emu, tmp_path: Path) -> None:
    bundle = tmp_path / "cert-only.pem"
    bundle.write_text(CERT_BUNDLE.split("-----END PRIVATE KEY-----\n")[1])
    settings = GraphSettings(
        TENANT,
        CERT_APP,
        certificate_file=bundle,
        authority_host=emu.url,
        base_url=f"{emu.url}/beta",
        ca_file=emu.ca,
    )
    with _client(emu, settings) as client, pytest.raises(GraphAuthError) as info:
        client.count_devices()
    assert info.value.code == "graph.auth.bad_certificate"


def test_device_code_signs_a_user_in_with_delegated_scopes(emu: Emu) -> None:
    """The prompt is where a person would open the page; here the test signs in for them."""
    shown: list[str] = []

    def prompt(message: str) -> None:
        shown.append(message)
        code = re.search(r"enter the code (\w+)", message)
        assert code is not None
        r = emu.control.post(
            f"{emu.url}/devicelogin",
            data={"user_code": code.group(1), "username": upn("polly"), "password": PASSWORD},
        )
        assert r.status_code == 200 and "signed in" in r.text

    settings = GraphSettings(
        TENANT, PUBLIC_APP, authority_host=emu.url, base_url=f"{emu.url}/beta", ca_file=emu.ca
    )
    with _client(emu, settings, device_code=True, prompt=prompt) as client:
        assert list(client.list_devices()) == []
        assert client.get_user("me").user_principal_name == upn("polly")
        client.count_devices()
    assert len(shown) == 1 and "/devicelogin" in shown[0]


class FakeMsal:
    """Stands in for msal.ConfidentialClientApplication (third-party), counting sign-ins."""

    def __init__(self, lifetime: int = 3600) -> None:
        self.calls = 0
        self.lifetime = lifetime
        self.lock = threading.Lock()

    def acquire_token_for_client(self, scopes: list[str]) -> dict[str, Any]:
        self.calls += 1
        return {"access_token": f"token-{self.calls}", "expires_in": self.lifetime}


def test_tokens_are_cached_until_five_minutes_before_expiry() -> None:
    clock = FixedClock(1000.0)
    source = MsalTokenSource(
        GraphSettings(TENANT, "x", client_secret=Secret(b"sekrit-value")), clock=clock
    )
    fake = FakeMsal()
    source._app = fake
    assert source.token() == "token-1"
    clock.advance(3600 - 301)
    assert source.token() == "token-1" and fake.calls == 1
    clock.advance(2)
    assert source.token() == "token-2" and fake.calls == 2
    source.invalidate()
    assert source.token() == "token-3"
    assert "sekrit-value" not in repr(source) + repr(source.settings)


def test_msal_error_results_become_auth_errors_without_the_secret() -> None:
    source = MsalTokenSource(GraphSettings(TENANT, "x", client_secret=Secret(b"hunter2")))

    class Refusing:
        def acquire_token_for_client(self, scopes: list[str]) -> dict[str, Any]:
            return {"error": "invalid_client", "error_description": "AADSTS7000215: bad\nmore"}

    source._app = Refusing()
    with pytest.raises(GraphAuthError) as info:
        source.token()
    assert info.value.graph_code == "invalid_client" and "AADSTS7000215" in info.value.message
    assert "hunter2" not in info.value.message and "more" not in info.value.message


def _config(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Any:
    path = tmp_path / "oathdesk.toml"
    path.write_text(text)
    return load_config(path, env=env or {})


def test_settings_from_file_environment_and_the_emulator_shortcut(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    config = _config(
        tmp_path,
        '[graph]\ntenant_id = "t"\nclient_id = "c"\nclient_secret = "file-secret"\n',
        {
            "OATHDESK_GRAPH_CLIENT_SECRET": "env-secret",
            "OATHDESK_GRAPH_BASE_URL": "https://graph.microsoft.us/beta",
        },
    )
    settings = GraphSettings.from_config(config)
    assert settings.client_secret == Secret(b"env-secret")
    assert "env-secret" not in repr(settings)
    assert settings.authority == "https://login.microsoftonline.com/t"
    assert settings.app_scopes == ["https://graph.microsoft.us/.default"]
    emulated = GraphSettings.from_config(config, emulator="https://127.0.0.1:9443/", ca_file=ca)
    assert emulated.authority == "https://127.0.0.1:9443/t"
    assert emulated.base_url == "https://127.0.0.1:9443/beta"
    assert emulated.app_scopes == ["https://graph.microsoft.com/.default"]
    assert emulated.ca_file == ca


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('[graph]\nclient_id = "c"\nclient_secret = "s"\n', "config.graph_missing"),
        ('[graph]\ntenant_id = "t"\nclient_id = "c"\n', "config.graph_credential_missing"),
        (
            '[graph]\ntenant_id = "t"\nclient_id = "c"\nclient_secret = "s"\n'
            'base_url = "http://graph.example/beta"\n',
            "config.graph_not_https",
        ),
        (
            '[graph]\ntenant_id = "t"\nclient_id = "c"\nclient_secret = "s"\n'
            'ca_file = "/nonexistent/ca.pem"\n',
            "config.ca_file_missing",
        ),
    ],
)
def test_settings_problems_are_config_errors(tmp_path: Path, text: str, code: str) -> None:
    with pytest.raises(ConfigError) as info:
        GraphSettings.from_config(_config(tmp_path, text))
    assert info.value.code == code


def test_unreachable_graph_is_graph_unavailable_not_a_traceback() -> None:
    from oathdesk.graph import GraphUnavailable, RetryPolicy, StaticToken

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    session = GraphSession(
        httpx.Client(transport=httpx.MockTransport(refuse)),
        StaticToken("t"),
        "https://graph.test/beta",
        policy=RetryPolicy(attempts=3, base_delay=0.001),
        sleep=lambda s: None,
    )
    with pytest.raises(GraphUnavailable) as info:
        GraphClient(session).count_devices()
    assert "graph.test" in info.value.message
