"""The identity side: discovery, JWKS, the token endpoint's flows and errors, and the real MSAL
library completing client-credentials (secret and certificate) and device-code flows over TLS."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import jwt
import msal
import pytest
import requests

from tests.emulator.helpers import (
    ALL_APP,
    CERT_APP,
    CERT_KEY,
    CERT_SHA1,
    DOMAIN,
    PASSWORD,
    SECRET,
    TENANT,
    USERS,
    Lab,
    uid,
)

GRAPH_DEFAULT = ["https://graph.microsoft.com/.default"]


@pytest.fixture
def session(lab: Lab) -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.verify = lab.ca
        s.trust_env = False  # REQUESTS_CA_BUNDLE would override verify= otherwise
        yield s


def token_url(lab: Lab) -> str:
    return f"{lab.url}/{TENANT}/oauth2/v2.0/token"


def test_discovery_by_tenant_id_and_domain(lab: Lab) -> None:
    for alias in (TENANT, DOMAIN):
        doc = lab.http.get(f"{lab.url}/{alias}/v2.0/.well-known/openid-configuration").json()
        assert doc["issuer"] == f"{lab.url}/{TENANT}/v2.0"
        assert doc["token_endpoint"].startswith("https://")
        assert doc["device_authorization_endpoint"].endswith("/oauth2/v2.0/devicecode")
    r = lab.http.get(f"{lab.url}/contoso.example/v2.0/.well-known/openid-configuration")
    assert r.status_code == 400 and r.json()["error_codes"] == [90002]


def test_issued_tokens_verify_against_the_published_jwks(lab: Lab) -> None:
    doc = lab.http.get(f"{lab.url}/{TENANT}/v2.0/.well-known/openid-configuration").json()
    keys = lab.http.get(doc["jwks_uri"]).json()["keys"]
    token = lab.app_token()
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in keys if k["kid"] == kid)
    claims = jwt.decode(
        token, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience="https://graph.microsoft.com"
    )
    assert claims["tid"] == TENANT and claims["appid"] == ALL_APP


def test_msal_client_credentials_with_a_secret(lab: Lab, session: requests.Session) -> None:
    app = msal.ConfidentialClientApplication(
        ALL_APP,
        client_credential=SECRET,
        authority=lab.server.authority,
        http_client=session,
        instance_discovery=False,
    )
    result = app.acquire_token_for_client(scopes=GRAPH_DEFAULT)
    assert result.get("token_type") == "Bearer", result
    r = lab.call(
        "GET",
        "/directory/authenticationMethodDevices/hardwareOathDevices",
        token=result["access_token"],
    )
    assert r.status_code == 200
    bad = msal.ConfidentialClientApplication(
        ALL_APP,
        client_credential="wrong",
        authority=lab.server.authority,
        http_client=session,
        instance_discovery=False,
    )
    failed = bad.acquire_token_for_client(scopes=GRAPH_DEFAULT)
    assert failed["error"] == "invalid_client" and "AADSTS7000215" in failed["error_description"]


def test_msal_client_credentials_with_a_certificate(lab: Lab, session: requests.Session) -> None:
    app = msal.ConfidentialClientApplication(
        CERT_APP,
        client_credential={"private_key": CERT_KEY, "thumbprint": CERT_SHA1},
        authority=lab.server.authority,
        http_client=session,
        instance_discovery=False,
    )
    result = app.acquire_token_for_client(scopes=GRAPH_DEFAULT)
    assert "access_token" in result, result
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert claims["roles"] == ["Policy.Read.All"] and claims["appid"] == CERT_APP


def test_msal_device_code_flow(lab: Lab, session: requests.Session) -> None:
    app = msal.PublicClientApplication(
        ALL_APP, authority=lab.server.authority, http_client=session, instance_discovery=False
    )
    flow = app.initiate_device_flow(scopes=["UserAuthenticationMethod.ReadWrite"])
    assert flow["user_code"] in flow["message"]
    page = lab.http.get(flow["verification_uri"])
    assert page.status_code == 200 and "<form" in page.text
    r = lab.http.post(
        flow["verification_uri"],
        data={
            "user_code": flow["user_code"].lower(),
            "username": USERS["ada"]["userPrincipalName"],
            "password": PASSWORD,
            "action": "approve",
        },
    )
    assert r.status_code == 200 and "signed in" in r.text
    result = app.acquire_token_by_device_flow(flow)
    assert "access_token" in result, result
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert claims["oid"] == uid("ada") and "UserAuthenticationMethod.ReadWrite" in claims["scp"]
    assert result["id_token_claims"]["preferred_username"] == USERS["ada"]["userPrincipalName"]
    r = lab.call("GET", "/me/authentication/hardwareOathMethods", token=result["access_token"])
    assert r.status_code == 200


def test_device_code_pending_declined_and_wrong_password(lab: Lab) -> None:
    start = lab.http.post(
        f"{lab.url}/{TENANT}/oauth2/v2.0/devicecode",
        data={"client_id": ALL_APP, "scope": "User.Read"},
    ).json()
    poll = {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "client_id": ALL_APP,
        "device_code": start["device_code"],
    }
    assert lab.http.post(token_url(lab), data=poll).json()["error"] == "authorization_pending"
    form = {"user_code": start["user_code"], "username": USERS["ada"]["userPrincipalName"]}
    r = lab.http.post(f"{lab.url}/devicelogin", data={**form, "password": "nope"})
    assert "incorrect" in r.text
    assert lab.http.post(token_url(lab), data=poll).json()["error"] == "authorization_pending"
    lab.http.post(f"{lab.url}/devicelogin", data={**form, "action": "decline"})
    assert lab.http.post(token_url(lab), data=poll).json()["error"] == "authorization_declined"
    assert lab.http.post(token_url(lab), data=poll).json()["error"] == "bad_verification_code"


def test_authorization_code_with_pkce_checks_the_verifier(lab: Lab) -> None:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    params = {
        "client_id": ALL_APP,
        "redirect_uri": "http://localhost:9/cb",
        "scope": "openid offline_access User.Read",
        "response_type": "code",
        "code_challenge": challenge.decode().rstrip("="),
        "code_challenge_method": "S256",
    }
    page = lab.http.get(f"{lab.url}/{TENANT}/oauth2/v2.0/authorize", params=params)
    assert page.status_code == 200 and 'name="password"' in page.text
    signed = lab.http.post(
        f"{lab.url}/{TENANT}/oauth2/v2.0/authorize",
        data={**params, "username": USERS["grace"]["userPrincipalName"], "password": PASSWORD},
    )
    code = parse_qs(urlsplit(signed.headers["location"]).query)["code"][0]
    exchange = {
        "grant_type": "authorization_code",
        "client_id": ALL_APP,
        "code": code,
        "redirect_uri": params["redirect_uri"],
    }
    r = lab.http.post(token_url(lab), data={**exchange, "code_verifier": "wrong"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    # the code was spent by the failed attempt, as Entra does
    r = lab.http.post(token_url(lab), data={**exchange, "code_verifier": verifier})
    assert r.status_code == 400
    tokens = lab.sign_in(USERS["grace"]["userPrincipalName"], "offline_access User.Read")
    refreshed = lab.http.post(
        token_url(lab),
        data={
            "grant_type": "refresh_token",
            "client_id": ALL_APP,
            "refresh_token": tokens["refresh_token"],
        },
    )
    assert refreshed.status_code == 200 and "access_token" in refreshed.json()


def test_sign_in_page_rejects_a_wrong_password_and_foreign_redirects(lab: Lab) -> None:
    base = {"client_id": ALL_APP, "redirect_uri": "http://localhost:9/cb", "scope": "User.Read"}
    r = lab.http.post(
        f"{lab.url}/{TENANT}/oauth2/v2.0/authorize",
        data={**base, "username": USERS["ada"]["userPrincipalName"], "password": "wrong"},
    )
    assert r.status_code == 200 and "incorrect" in r.text
    r = lab.http.get(
        f"{lab.url}/{TENANT}/oauth2/v2.0/authorize",
        params={**base, "redirect_uri": "https://evil.example/cb"},
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"client_id": "nope", "client_secret": "x"}, 400, "unauthorized_client"),
        ({"client_id": ALL_APP}, 401, "invalid_client"),
        (
            {"client_id": ALL_APP, "client_secret": SECRET, "scope": "User.Read"},
            400,
            "invalid_scope",
        ),
        (
            {"client_id": ALL_APP, "client_secret": SECRET, "grant_type": "password"},
            400,
            "unsupported_grant_type",
        ),
        (
            {
                "client_id": CERT_APP,
                "client_assertion": "x.y.z",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            },
            401,
            "invalid_client",
        ),
    ],
)
def test_token_endpoint_errors_look_like_entra(
    lab: Lab, form: dict[str, str], status: int, error: str
) -> None:
    data = {"grant_type": "client_credentials", "scope": GRAPH_DEFAULT[0], **form}
    r = lab.http.post(token_url(lab), data=data)
    assert r.status_code == status
    body = r.json()
    assert body["error"] == error and body["error_description"].startswith("AADSTS")
    assert isinstance(body["error_codes"][0], int) and body["trace_id"]


def test_client_secret_basic_is_accepted(lab: Lab) -> None:
    r = lab.http.post(
        token_url(lab),
        auth=(ALL_APP, SECRET),
        data={"grant_type": "client_credentials", "scope": GRAPH_DEFAULT[0]},
    )
    assert r.status_code == 200 and r.json()["expires_in"] == 3600


def test_msal_authorization_code_flow_with_pkce(lab: Lab, session: requests.Session) -> None:
    app = msal.PublicClientApplication(
        ALL_APP, authority=lab.server.authority, http_client=session, instance_discovery=False
    )
    flow = app.initiate_auth_code_flow(
        scopes=["UserAuthenticationMethod.ReadWrite"],
        redirect_uri="http://localhost:8400/cb",
        response_mode="form_post",
    )
    sent = {k: v[0] for k, v in parse_qs(urlsplit(flow["auth_uri"]).query).items()}
    assert sent["code_challenge_method"] == "S256"
    page = lab.http.get(flow["auth_uri"])
    assert page.status_code == 200 and 'name="code_challenge"' in page.text
    signed = lab.http.post(
        flow["auth_uri"].split("?")[0],
        data={**sent, "username": USERS["grace"]["userPrincipalName"], "password": PASSWORD},
    )
    assert signed.status_code == 200 and 'action="http://localhost:8400/cb"' in signed.text
    reply = dict(re.findall(r'name="(code|state)" value="([^"]*)"', signed.text))
    assert set(reply) == {"code", "state"}
    result = app.acquire_token_by_auth_code_flow(flow, reply)
    assert "access_token" in result, result
    assert result["id_token_claims"]["oid"] == uid("grace")
    assert app.get_accounts()[0]["username"] == USERS["grace"]["userPrincipalName"]
