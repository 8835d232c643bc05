"""The control plane: state snapshots without secrets, reseeding, live config, injected faults
(429 with fractional Retry-After, 503, 504, drops, delays; by count or probability), throttling."""

from __future__ import annotations

import time
from collections.abc import Mapping

import httpx
import pytest

from tests.emulator.helpers import (
    ALL_APP,
    B32,
    DEV,
    PASSWORD,
    SECRET,
    SEED,
    TENANT,
    Lab,
    device_body,
)


def faults(lab: Lab, *rules: Mapping[str, object]) -> httpx.Response:
    return lab.http.post(f"{lab.url}/_emulator/faults", json={"rules": list(rules)})


def test_state_snapshot_holds_no_secrets(lab: Lab) -> None:
    lab.call("POST", DEV, json=device_body("SNAP-1"))
    text = lab.http.get(f"{lab.url}/_emulator/state").text
    for secret in (SECRET, PASSWORD, B32):
        assert secret not in text
    state = lab.http.get(f"{lab.url}/_emulator/state").json()
    assert state["tenant"]["id"] == TENANT
    assert [d["serialNumber"] for d in state["devices"]] == ["SNAP-1"]
    assert state["devices"][0]["secretKey"] is None


def test_reset_empties_the_inventory_and_restores_config(lab: Lab) -> None:
    lab.call("POST", DEV, json=device_body("RST-1"))
    lab.http.patch(f"{lab.url}/_emulator/config", json={"pageSize": 2})
    assert lab.http.post(f"{lab.url}/_emulator/reset").status_code == 204
    assert lab.call("GET", f"{DEV}/$count").text == "0"
    assert lab.http.get(f"{lab.url}/_emulator/config").json()["pageSize"] == 100


def test_seed_replaces_the_tenant_and_validates(lab: Lab) -> None:
    seed = {
        "tenant": {"id": "aaaaaaaa-0000-0000-0000-000000000000", "domain": "other.test"},
        "apps": [{"clientId": "app-2", "clientSecret": "s2", "roles": ["Policy.Read.All"]}],
        "users": [
            {
                "id": "u1",
                "userPrincipalName": "u1@other.test",
                "displayName": "U1",
                "userType": "Member",
                "password": "p",
                "roles": [],
            }
        ],
    }
    r = lab.http.post(f"{lab.url}/_emulator/seed", json=seed)
    assert r.status_code == 200 and r.json()["tenant"]["domain"] == "other.test"
    r = lab.http.post(
        f"{lab.url}/aaaaaaaa-0000-0000-0000-000000000000/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "app-2",
            "client_secret": "s2",
            "scope": "https://graph.microsoft.com/.default",
        },
    )
    assert r.status_code == 200
    bad = {**SEED, "apps": [{"clientId": "x", "roles": ["Everything.All"]}]}
    r = lab.http.post(f"{lab.url}/_emulator/seed", json=bad)
    assert r.status_code == 400 and "Everything.All" in r.json()["error"]["message"]
    guest = {
        **SEED,
        "users": [{"userPrincipalName": "a@b", "displayName": "A", "userType": "Visitor"}],
    }
    assert lab.http.post(f"{lab.url}/_emulator/seed", json=guest).status_code == 400


def test_config_rejects_unknown_or_bad_settings(lab: Lab) -> None:
    for body in (
        {"pageSize": 0},
        {"colour": "red"},
        {"throttle": "fast"},
        {"bulkPartialStatus": 500},
        {"assignToStatus": "activated"},
        {"bulkResultOrder": "sorted"},
    ):
        assert lab.http.patch(f"{lab.url}/_emulator/config", json=body).status_code == 400
    assert lab.http.get(f"{lab.url}/_emulator/config").json()["pageSize"] == 100


def test_429_with_fractional_retry_after_for_a_count(lab: Lab) -> None:
    assert (
        faults(
            lab,
            {
                "method": "GET",
                "path": "hardwareOathDevices$",
                "status": 429,
                "retryAfter": 2.128,
                "count": 2,
            },
        ).status_code
        == 200
    )
    for _ in range(2):
        r = lab.call("GET", DEV)
        assert r.status_code == 429 and r.headers["Retry-After"] == "2.128"
        assert r.json()["error"]["code"] == "TooManyRequests"
    assert lab.call("GET", DEV).status_code == 200
    assert lab.call("POST", DEV, json=device_body("F-1")).status_code == 201  # method filter
    listed = lab.http.get(f"{lab.url}/_emulator/faults").json()["rules"]
    assert listed[0]["count"] == 0


@pytest.mark.parametrize(
    ("status", "code"),
    [(503, "serviceNotAvailable"), (504, "gatewayTimeout"), (500, "generalException")],
)
def test_transient_statuses(lab: Lab, status: int, code: str) -> None:
    faults(lab, {"path": "/users", "status": status, "retryAfter": 1})
    r = lab.call("GET", "/users")
    assert r.status_code == status and r.json()["error"]["code"] == code
    assert lab.http.delete(f"{lab.url}/_emulator/faults").status_code == 204
    assert lab.call("GET", "/users").status_code == 200


def test_probability_zero_never_fires_and_one_always_does(lab: Lab) -> None:
    faults(lab, {"path": "/users$", "status": 503, "probability": 0})
    assert all(lab.call("GET", "/users").status_code == 200 for _ in range(5))
    faults(lab, {"path": "/users$", "status": 503, "probability": 1})
    assert lab.call("GET", "/users").status_code == 503


def test_dropped_connection_and_slow_response(lab: Lab) -> None:
    faults(
        lab,
        {"path": "/users$", "drop": True, "count": 1},
        {"path": "/users/", "delayMs": 300, "count": 1},
    )
    with pytest.raises(httpx.RemoteProtocolError):
        lab.call("GET", "/users")
    assert lab.call("GET", "/users").status_code == 200
    started = time.monotonic()
    assert lab.call("GET", "/users/ada@lab.example.com").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_fault_rules_are_validated(lab: Lab) -> None:
    for rule in (
        {"path": "("},
        {"path": "x"},
        {"path": "x", "status": 200},
        {"path": "x", "status": 503, "probability": 2},
    ):
        assert faults(lab, rule).status_code == 400
    assert lab.http.post(f"{lab.url}/_emulator/faults", json=[]).status_code == 400


def test_throttle_budget_per_app(lab: Lab) -> None:
    lab.http.patch(f"{lab.url}/_emulator/config", json={"throttle": "3/60"})
    assert [lab.call("GET", "/users").status_code for _ in range(3)] == [200, 200, 200]
    r = lab.call("GET", "/users")
    assert r.status_code == 429 and 0 < float(r.headers["Retry-After"]) <= 60
    other = lab.user_token("admin")  # delegated tokens are issued to the same app id
    assert lab.call("GET", "/users", token=other).status_code == 429
    token = lab.http.post(
        f"{lab.url}/{TENANT}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": ALL_APP,
            "client_secret": SECRET,
            "scope": "https://graph.microsoft.com/.default",
        },
    )
    assert token.status_code == 200  # the identity endpoints are not budgeted


def test_clock_offset_moves_the_emulator_time(lab: Lab) -> None:
    before = lab.http.get(f"{lab.url}/_emulator/state").json()["now"]
    lab.http.patch(f"{lab.url}/_emulator/config", json={"clockOffsetSeconds": -600})
    after = lab.http.get(f"{lab.url}/_emulator/state").json()["now"]
    assert before - after == pytest.approx(600, abs=5)


def test_seed_rejects_bad_legacy_tokens_and_keeps_the_current_state(lab: Lab) -> None:
    for legacy in (
        [{"serialNumber": "X"}],
        [{"user": "nobody@x", **device_body("X")}],
        [{"user": "ada@lab.example.com", **device_body("X", secret="1")}],
    ):
        r = lab.http.post(f"{lab.url}/_emulator/seed", json={**SEED, "legacyTokens": legacy})
        assert r.status_code == 400 and "legacyTokens" in r.json()["error"]["message"]
    assert lab.http.get(f"{lab.url}/_emulator/state").json()["tenant"]["id"] == TENANT
    assert lab.http.post(f"{lab.url}/_emulator/reset").status_code == 204
    assert len(lab.http.get(f"{lab.url}/_emulator/state").json()["legacyTokens"]) == 1
