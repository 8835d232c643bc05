"""App role assignments in the emulator: a user's ``appRoles`` reach the ID tokens of that app
only, the seed checks their shape and shows them back, registered redirect URIs are enforced,
and a cancelled sign-in answers ``access_denied`` the way Entra does."""

from __future__ import annotations

import base64
import copy
import hashlib
import html
import re
import secrets
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from tests.emulator.helpers import ALL_APP, DOMAIN, PASSWORD, SEED, TENANT, Lab

WEB = "22222222-bbbb-4bbb-8bbb-000000000001"
WEB_SECRET = "web-secret-value"
CALLBACK = "https://console.example/signin/entra/callback"
HIDDEN_RE = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@pytest.fixture
def roles_lab(lab: Lab) -> Iterator[Lab]:
    document: dict[str, Any] = copy.deepcopy(SEED)
    document["apps"].append(
        {
            "clientId": WEB,
            "clientSecret": WEB_SECRET,
            "roles": [],
            "redirectUris": [CALLBACK],
            "publicClient": False,
        }
    )
    document["users"].append(
        {
            "userPrincipalName": f"boss@{DOMAIN}",
            "displayName": "Boss",
            "password": PASSWORD,
            "appRoles": {WEB: ["oathdesk.admin", "oathdesk.auditor"], ALL_APP: ["Other.Role"]},
        }
    )
    assert lab.http.post(f"{lab.url}/_emulator/seed", json=document).status_code == 200
    yield lab
    assert lab.http.post(f"{lab.url}/_emulator/seed", json=SEED).status_code == 200


def _id_token(lab: Lab, client_id: str, secret: str, redirect: str, user: str) -> dict[str, Any]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    params = {
        "client_id": client_id,
        "redirect_uri": redirect,
        "scope": "openid profile",
        "response_type": "code",
        "response_mode": "form_post",
        "state": "s1",
        "nonce": "n1",
        "code_challenge": challenge.decode().rstrip("="),
        "code_challenge_method": "S256",
    }
    signed = lab.http.post(
        f"{lab.url}/{TENANT}/oauth2/v2.0/authorize",
        data={**params, "username": user, "password": PASSWORD},
    )
    fields = {k: html.unescape(v) for k, v in HIDDEN_RE.findall(signed.text)}
    assert fields["state"] == "s1", signed.text
    r = lab.http.post(
        f"{lab.url}/{TENANT}/oauth2/v2.0/token",
        data={
            "grant_type": "authorization_code",
            "client_id": client_id,
            "client_secret": secret,
            "code": fields["code"],
            "redirect_uri": redirect,
            "code_verifier": verifier,
        },
    )
    assert r.status_code == 200, r.text
    key = jwt.PyJWK(lab.state.signing_key.jwk()).key
    claims: dict[str, Any] = jwt.decode(
        r.json()["id_token"], key, algorithms=["RS256"], audience=client_id
    )
    assert claims["nonce"] == "n1"
    return claims


def test_id_tokens_carry_the_app_roles_of_that_app_only(roles_lab: Lab) -> None:
    boss = f"boss@{DOMAIN}"
    claims = _id_token(roles_lab, WEB, WEB_SECRET, CALLBACK, boss)
    assert claims["roles"] == ["oathdesk.admin", "oathdesk.auditor"]
    assert claims["preferred_username"] == boss
    other = _id_token(roles_lab, ALL_APP, "all-app-secret-value", "http://localhost:9/cb", boss)
    assert other["roles"] == ["Other.Role"]
    plain = _id_token(roles_lab, WEB, WEB_SECRET, CALLBACK, f"ada@{DOMAIN}")
    assert "roles" not in plain  # no assignment: no claim, as Entra does


def test_the_seed_shows_app_roles_and_refuses_a_bad_shape(roles_lab: Lab) -> None:
    snapshot = roles_lab.http.get(f"{roles_lab.url}/_emulator/state").json()
    boss = next(u for u in snapshot["users"] if u["userPrincipalName"].startswith("boss@"))
    assert boss["appRoles"][WEB] == ["oathdesk.admin", "oathdesk.auditor"]
    assert "password" not in boss
    bad = copy.deepcopy(SEED)
    bad["users"][0]["appRoles"] = {WEB: "oathdesk.admin"}
    r = roles_lab.http.post(f"{roles_lab.url}/_emulator/seed", json=bad)
    assert r.status_code == 400 and "appRoles" in r.text


def test_an_unregistered_redirect_uri_is_refused(roles_lab: Lab) -> None:
    r = roles_lab.http.get(
        f"{roles_lab.url}/{TENANT}/oauth2/v2.0/authorize",
        params={"client_id": WEB, "redirect_uri": "https://evil.example/cb", "scope": "openid"},
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


def test_cancelling_the_sign_in_answers_access_denied(roles_lab: Lab) -> None:
    base = {"client_id": WEB, "redirect_uri": CALLBACK, "scope": "openid", "state": "s9"}
    page = roles_lab.http.get(f"{roles_lab.url}/{TENANT}/oauth2/v2.0/authorize", params=base)
    assert 'value="decline"' in page.text
    r = roles_lab.http.post(
        f"{roles_lab.url}/{TENANT}/oauth2/v2.0/authorize", data={**base, "action": "decline"}
    )
    assert r.status_code == 302
    location = r.headers["location"]
    assert location.startswith(CALLBACK + "?") and "error=access_denied" in location
    assert "state=s9" in location and "code=" not in location
