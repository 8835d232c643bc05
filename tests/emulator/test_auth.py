"""Bearer-token checks and the permission table of graph-api.md §3 (apps and delegated users)."""

from __future__ import annotations

import jwt
import pytest

from oathdesk.emulator.tokens import SigningKey, access_token
from tests.emulator.helpers import (
    BARE_APP,
    DEV,
    READ_APP,
    TENANT,
    Lab,
    device_body,
    uid,
)

METHODS = "/authentication/hardwareOathMethods"


def test_missing_malformed_and_foreign_tokens_are_401(lab: Lab) -> None:
    r = lab.http.get(lab.graph(DEV))
    assert r.status_code == 401 and r.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert r.headers["WWW-Authenticate"].startswith("Bearer ")
    assert lab.call("GET", DEV, token="not-a-jwt").status_code == 401
    stranger = access_token(
        SigningKey.generate(),
        tenant_id=TENANT,
        app_id="x",
        now=lab.state.now(),
        object_id="x",
        roles=["Policy.Read.All"],
    )
    assert lab.call("GET", DEV, token=stranger).status_code == 401
    other_tenant = access_token(
        lab.state.signing_key,
        tenant_id="another",
        app_id="x",
        now=lab.state.now(),
        object_id="x",
        roles=["Policy.Read.All"],
    )
    assert lab.call("GET", DEV, token=other_tenant).status_code == 401


def test_expired_token_is_401_when_the_clock_moves_past_it(lab: Lab) -> None:
    token = lab.app_token()
    assert lab.call("GET", DEV, token=token).status_code == 200
    lab.http.patch(f"{lab.url}/_emulator/config", json={"clockOffsetSeconds": 7200})
    r = lab.call("GET", DEV, token=token)
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]


def test_app_token_shape(lab: Lab) -> None:
    claims = jwt.decode(lab.app_token(), options={"verify_signature": False})
    assert claims["idtyp"] == "app" and claims["tid"] == TENANT
    assert "Policy.ReadWrite.AuthenticationMethod" in claims["roles"]
    assert claims["aud"] == "https://graph.microsoft.com" and "scp" not in claims


def test_read_only_app_reads_but_cannot_write(lab: Lab) -> None:
    token = lab.app_token(READ_APP)
    assert lab.call("GET", DEV, token=token).status_code == 200
    assert lab.call("GET", f"/users/{uid('ada')}{METHODS}", token=token).status_code == 200
    r = lab.call("POST", DEV, token=token, json=device_body("P-1"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "Authorization_RequestDenied"
    assert "Policy.ReadWrite.AuthenticationMethod" in r.json()["error"]["message"]
    r = lab.call("POST", f"/users/{uid('ada')}{METHODS}", token=token, json={"device": {"id": "x"}})
    assert r.status_code == 403


def test_app_without_permissions_is_denied_everything(lab: Lab) -> None:
    token = lab.app_token(BARE_APP)
    for path in (DEV, f"/users/{uid('ada')}{METHODS}", "/users"):
        assert lab.call("GET", path, token=token).status_code == 403


def test_me_refuses_app_tokens(lab: Lab) -> None:
    for path in ("/me", f"/me{METHODS}"):
        r = lab.call("GET", path)
        assert r.status_code == 400 and r.json()["error"]["code"] == "BadRequest"


def test_create_with_assign_needs_the_user_method_permission(lab: Lab) -> None:
    token = lab.user_token("policyadmin", "Policy.ReadWrite.AuthenticationMethod")
    assert lab.call("POST", DEV, token=token, json=device_body("P-2")).status_code == 201
    r = lab.call("POST", DEV, token=token, json=device_body("P-3", assignTo={"id": uid("ada")}))
    assert r.status_code == 403 and "UserAuthenticationMethod.ReadWrite.All" in r.text


def test_delegated_inventory_needs_a_directory_role(lab: Lab) -> None:
    member = lab.user_token("ada")
    r = lab.call("GET", DEV, token=member)
    assert r.status_code == 403 and "Global Reader" in r.json()["error"]["message"]
    reader = lab.user_token("reader", "Policy.Read.All")
    assert lab.call("GET", DEV, token=reader).status_code == 200
    assert (
        lab.call("POST", DEV, token=lab.user_token("reader"), json=device_body("P-4")).status_code
        == 403
    )
    assert (
        lab.call("POST", DEV, token=lab.user_token("admin"), json=device_body("P-5")).status_code
        == 201
    )


@pytest.mark.parametrize(
    ("actor", "target", "allowed"),
    [
        ("authadmin", "ada", True),  # Authentication Administrator on a member
        ("authadmin", "admin", False),  # ... but not on an administrator
        ("admin", "authadmin", True),  # Global Administrator on anyone
        ("ada", "grace", False),  # a member on someone else
        ("reader", "ada", False),  # Global Reader cannot write
    ],
)
def test_delegated_writes_on_other_users(lab: Lab, actor: str, target: str, allowed: bool) -> None:
    device = lab.call("POST", DEV, json=device_body("W-1")).json()["id"]
    r = lab.call(
        "POST",
        f"/users/{uid(target)}{METHODS}",
        token=lab.user_token(actor),
        json={"device": {"id": device}},
    )
    assert r.status_code == (201 if allowed else 403), r.text


def test_global_reader_reads_other_users_methods(lab: Lab) -> None:
    token = lab.user_token("reader", "UserAuthenticationMethod.Read.All")
    assert lab.call("GET", f"/users/{uid('ada')}{METHODS}", token=token).status_code == 200
    plain = lab.user_token("grace", "UserAuthenticationMethod.Read.All")
    assert lab.call("GET", f"/users/{uid('ada')}{METHODS}", token=plain).status_code == 403
