"""The ``/me`` MFA re-prompt over real HTTPS: user tokens carry ``auth_time`` and ``amr``; a
``/me`` hardware OATH call with a sign-in older than 10 minutes on the emulator's clock gets a
claims challenge; a refresh does not satisfy it, a sign-in with the ``claims`` parameter does."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import jwt

from tests.emulator.helpers import ALL_APP, TENANT, USERS, Lab, uid

BASE = "/me/authentication/hardwareOathMethods"
SCOPES = "offline_access UserAuthenticationMethod.ReadWrite"
CHALLENGE_RE = re.compile(r'error="insufficient_claims", claims="([^"]+)"')


def older(lab: Lab, seconds: int) -> None:
    """Move the emulator's clock: the last sign-in is now ``seconds`` old."""
    r = lab.http.patch(f"{lab.url}/_emulator/config", json={"clockOffsetSeconds": seconds})
    assert r.status_code == 200


def claims_of(response: Any) -> dict[str, Any]:
    header = response.headers["www-authenticate"]
    assert header.startswith("Bearer ") and 'authorization_uri="https://' in header
    found = CHALLENGE_RE.search(header)
    assert found is not None, header
    decoded: dict[str, Any] = json.loads(base64.b64decode(found.group(1)))
    return decoded


def test_user_tokens_say_when_and_how_the_user_signed_in(lab: Lab) -> None:
    result = lab.sign_in(USERS["ada"]["userPrincipalName"], SCOPES)
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert abs(claims["auth_time"] - lab.state.now()) < 5 and claims["amr"] == ["pwd", "mfa"]
    identity = jwt.decode(result["id_token"], options={"verify_signature": False})
    assert identity["auth_time"] == claims["auth_time"]


def test_an_old_sign_in_gets_a_claims_challenge_on_me_reads_and_writes(lab: Lab) -> None:
    assert lab.call("GET", BASE).status_code == 400  # an app token on /me: refused as before
    token = lab.sign_in(USERS["ada"]["userPrincipalName"], SCOPES)["access_token"]
    assert lab.call("GET", BASE, token).status_code == 200
    # (no app token is made below: the lab caches it, and it must not carry a moved clock)
    older(lab, 9 * 60)
    assert lab.call("GET", BASE, token).status_code == 200  # 9 minutes: still fresh
    older(lab, 11 * 60)
    for method, path, body in (("GET", BASE, None), ("POST", BASE, {"device": {"id": "x"}})):
        refused = lab.call(method, path, token, json=body)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "InvalidAuthenticationToken"
        assert claims_of(refused) == {
            "access_token": {"max_age": {"essential": True, "value": "600"}}
        }
    # the same user token on /users/{id}: no re-prompt there (permissions decide)
    users = f"/users/{uid('ada')}/authentication/hardwareOathMethods"
    assert lab.call("GET", users, token).status_code == 200


def test_a_refresh_does_not_satisfy_the_challenge_a_new_sign_in_does(lab: Lab) -> None:
    first = lab.sign_in(USERS["ada"]["userPrincipalName"], SCOPES)
    older(lab, 11 * 60)
    refresh = {
        "grant_type": "refresh_token",
        "client_id": ALL_APP,
        "refresh_token": first["refresh_token"],
        "scope": SCOPES,
    }
    token_url = f"{lab.url}/{TENANT}/oauth2/v2.0/token"
    renewed = lab.http.post(token_url, data=refresh)
    assert renewed.status_code == 200  # a plain refresh works, but keeps the old auth_time
    refused = lab.call("GET", BASE, renewed.json()["access_token"])
    assert refused.status_code == 401
    claims = json.dumps(claims_of(refused))
    with_claims = {**refresh, "refresh_token": renewed.json()["refresh_token"], "claims": claims}
    again = lab.http.post(token_url, data=with_claims)
    assert again.status_code == 400 and again.json()["error"] == "interaction_required"
    fresh = lab.sign_in(USERS["ada"]["userPrincipalName"], SCOPES, claims=claims)
    assert lab.call("GET", BASE, fresh["access_token"]).status_code == 200


def test_the_authorize_endpoint_refuses_malformed_claims(lab: Lab) -> None:
    r = lab.http.get(
        f"{lab.url}/{TENANT}/oauth2/v2.0/authorize",
        params={
            "client_id": ALL_APP,
            "redirect_uri": "http://localhost:8400/callback",
            "response_type": "code",
            "claims": "not json",
        },
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    page = lab.http.get(
        f"{lab.url}/{TENANT}/oauth2/v2.0/authorize",
        params={
            "client_id": ALL_APP,
            "redirect_uri": "http://localhost:8400/callback",
            "response_type": "code",
            "claims": '{"access_token":{"max_age":{"essential":true,"value":"600"}}}',
        },
    )
    assert page.status_code == 200 and 'name="claims"' in page.text  # kept for the POST
