"""The small pieces of the operations work on their own: Graph endpoint templates (no ids in
labels), the JSON log formatter and its settings, the request id's shape, and JSON lines on
standard output."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from oathdesk.cli.logs import JsonFormatter, RequestIdFilter, log_format, log_level, logging_config
from oathdesk.config import Config
from oathdesk.domain import ConfigError
from oathdesk.domain.request_context import current_request_id, request_id_scope, well_formed
from oathdesk.graph.metrics import endpoint_template
from oathdesk.store.siem import AuditStream, JsonLinesOutput, SiemSettings

BASE = "https://graph.microsoft.com/beta"


@pytest.mark.parametrize(
    ("url", "template"),
    [
        (f"{BASE}/users/alice@contoso.com", "users/{id}"),
        (
            f"{BASE}/users/0b6c5f1e-1111-2222-3333-444455556666/authentication/"
            "hardwareOathMethods/abc123",
            "users/{id}/authentication/hardwareOathMethods/{id}",
        ),
        (
            f"{BASE}/directory/authenticationMethodDevices/hardwareOathDevices?$filter=x",
            "directory/authenticationMethodDevices/hardwareOathDevices",
        ),
        (
            f"{BASE}/directory/authenticationMethodDevices/hardwareOathDevices/SN-0001",
            "directory/authenticationMethodDevices/hardwareOathDevices/{id}",
        ),
        (f"{BASE}/me/authentication/methods", "me/authentication/methods"),
        ("https://127.0.0.1:8443/beta/organization", "organization"),
        ("https://graph.microsoft.com/v1.0/$batch", "$batch"),
        (BASE, "/"),
    ],
)
def test_graph_endpoints_become_templates(url: str, template: str) -> None:
    assert endpoint_template(url) == template


def record(message: str, **extra: Any) -> logging.LogRecord:
    made = logging.LogRecord("oathdesk.test", logging.WARNING, __file__, 1, message, (), None)
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def test_json_lines_carry_the_request_id_and_request_fields() -> None:
    formatter, stamp = JsonFormatter(), RequestIdFilter()
    with request_id_scope("req-abcdef-01"):
        inside = record("GET %s", route="/tokens/{serial}", status=200, duration_ms=1.5)
        stamp.filter(inside)
    line = json.loads(formatter.format(inside))
    assert line["request_id"] == "req-abcdef-01" and line["level"] == "warning"
    assert (line["route"], line["status"], line["duration_ms"]) == ("/tokens/{serial}", 200, 1.5)
    assert line["logger"] == "oathdesk.test" and line["time"].endswith("+00:00")
    outside = record("no request")
    stamp.filter(outside)
    assert "request_id" not in json.loads(formatter.format(outside))
    assert current_request_id() is None


def test_log_settings() -> None:
    assert log_format(Config(sections={}), None) == "text"
    assert log_format(Config(sections={"log": {"format": "JSON"}}), None) == "json"
    assert log_format(Config(sections={"log": {"format": "json"}}), "text") == "text"
    with pytest.raises(ConfigError) as bad:
        log_format(Config(sections={"log": {"format": "xml"}}), None)
    assert "[log] format" in bad.value.message
    with pytest.raises(ConfigError):
        log_level(Config(sections={"log": {"level": "loud"}}))
    config = logging_config("json", "debug")
    assert config["root"]["level"] == "DEBUG"
    assert config["formatters"]["line"]["()"] is JsonFormatter


def test_request_ids_we_accept() -> None:
    assert well_formed("7f0c4a8e-2b1d-4c7e-9a55-0d1f2e3c4b5a")
    assert well_formed("nginx.req:42_abc")
    for bad in (None, "", "short", "a b c d e f g h", "x" * 129, "-leading-dash", "new\nline-123"):
        assert not well_formed(bad)


def test_json_lines_to_standard_output(capsys: pytest.CaptureFixture[str]) -> None:
    stream = AuditStream([JsonLinesOutput(SiemSettings(json_file="-"))])
    entry = {"seq": 7, "action": "token.assign", "details": {"serial": "SN7"}}
    stream.publish([("inventory", entry)])
    stream.close()
    line = json.loads(capsys.readouterr().out)
    assert line == {"chain": "inventory", **entry}


def test_metrics_settings_from_config() -> None:
    import ipaddress

    from oathdesk.http.metrics import LOOPBACK
    from oathdesk.http.operations import Operations

    default = Operations.from_config(Config(sections={}))
    assert default.metrics.enabled and default.metrics.allow == LOOPBACK
    assert default.metrics.token is None and default.trust_request_id
    assert default.metrics.allows_peer("127.0.0.1") and default.metrics.allows_peer("::1")
    assert default.metrics.allows_peer("::ffff:127.0.0.1")
    assert not default.metrics.allows_peer("192.0.2.1") and not default.metrics.allows_peer("x")
    sections: dict[str, dict[str, Any]] = {
        "metrics": {"allow": "10.0.0.0/8, 2001:db8::/32", "token": "t0ken-value", "enabled": "on"},
        "log": {"trust_request_id": False},
    }
    ops = Operations.from_config(Config(sections=sections))
    assert ops.metrics.allow == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("2001:db8::/32"),
    )
    assert ops.metrics.allows_token("Bearer t0ken-value")
    assert not ops.metrics.allows_token("Basic t0ken-value") and not ops.metrics.allows_token(None)
    assert "t0ken-value" not in repr(ops)
    assert not ops.trust_request_id
    every = Operations.from_config(Config(sections={"metrics": {"allow": "any"}}))
    assert every.metrics.allows_peer("198.51.100.7") and every.metrics.allows_peer("2001:db8::1")
    with pytest.raises(ConfigError) as bad:
        Operations.from_config(Config(sections={"metrics": {"allow": "10.0.0.0/33"}}))
    assert "[metrics] allow" in bad.value.message
