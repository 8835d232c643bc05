"""The ``/me`` MFA re-prompt from the client's side, against the emulator over real HTTPS: a
claims challenge becomes :class:`GraphClaimsChallenge` carrying the claims (no blind retry), and
``MsalTokenSource.answer_challenge`` gets a token that satisfies it (the refresh token cannot,
so the user signs in again), after which the call succeeds."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from oathdesk.graph import (
    GraphClaimsChallenge,
    GraphClient,
    GraphSession,
    GraphSettings,
    MsalTokenSource,
    make_http_client,
)
from oathdesk.graph.errors import claims_challenge, from_response
from tests.graph.conftest import Emu
from tests.graph.support import PASSWORD, PUBLIC_APP, TENANT, upn


def test_the_challenge_is_typed_and_answered_by_a_new_sign_in(emu: Emu) -> None:
    sign_ins: list[str] = []

    def prompt(message: str) -> None:  # where a person would open the page and sign in
        code = re.search(r"enter the code (\w+)", message)
        assert code is not None
        r = emu.control.post(
            f"{emu.url}/devicelogin",
            data={"user_code": code.group(1), "username": upn("polly"), "password": PASSWORD},
        )
        assert r.status_code == 200
        sign_ins.append(code.group(1))

    settings = GraphSettings(
        TENANT, PUBLIC_APP, authority_host=emu.url, base_url=f"{emu.url}/beta", ca_file=emu.ca
    )
    tokens = MsalTokenSource(settings, device_code=True, prompt=prompt)
    with GraphClient(GraphSession(make_http_client(str(emu.ca)), tokens, settings.base_url)) as c:
        assert c.user_methods("me") == []
        emu.configure(clockOffsetSeconds=11 * 60)  # the sign-in is now 11 minutes old
        with pytest.raises(GraphClaimsChallenge) as caught:
            c.user_methods("me")
        assert caught.value.code == "graph.auth.claims_challenge" and caught.value.status == 401
        assert json.loads(caught.value.claims)["access_token"]["max_age"]["value"] == "600"
        assert caught.value.details["claims"] == caught.value.claims
        assert len(sign_ins) == 1  # raised, not retried with a new token of the same kind
        tokens.answer_challenge(caught.value.claims)
        assert c.user_methods("me") == []
    assert len(sign_ins) == 2  # the refresh token could not answer it: a second sign-in


def test_a_plain_401_is_not_a_claims_challenge() -> None:
    request = httpx.Request("GET", "https://graph.example/beta/me")
    plain = httpx.Response(
        401, headers={"WWW-Authenticate": 'Bearer realm=""'}, json={}, request=request
    )
    assert claims_challenge(plain) is None
    assert type(from_response(plain, "list")).__name__ == "GraphAuthError"
    garbled = httpx.Response(
        401,
        headers={"WWW-Authenticate": 'Bearer error="insufficient_claims", claims="%%%"'},
        request=request,
    )
    assert claims_challenge(garbled) is None
