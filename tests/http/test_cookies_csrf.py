"""The kit's signed cookies (name prefix, flags, signature, age) and CSRF tokens (accepted only
when bound to this browser's nonce or session)."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from oathdesk.domain import Secret
from oathdesk.http import CookiePolicy, csrf_token, read_cookie, set_cookie
from oathdesk.http.cookies import clear_cookie, read_text_cookie
from oathdesk.web import WebSettings
from tests.http.conftest import KEY, PREFIX, set_cookies, sign_in, token_in
from tests.web.conftest import Server, new_client

POLICY = CookiePolicy(secret_key=KEY, prefix=PREFIX, lifetime=timedelta(hours=2))


def request_with(cookies: dict[str, str]) -> Request:
    header = "; ".join(f"{k}={v}" for k, v in cookies.items()).encode()
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [(b"cookie", header)]})


def cookie_value(response: Response, name: str) -> str:
    line = response.headers["set-cookie"]
    assert line.startswith(f"{name}="), line
    return line.split(";", 1)[0].split("=", 1)[1]


def test_names_carry_the_prefix_and_host_only_marker_when_secure() -> None:
    assert POLICY.name("session") == "__Host-kit_test_session"
    plain = CookiePolicy(secret_key=KEY, prefix="oathdesk.delivery", secure=False)
    assert plain.name("visit") == "oathdesk_delivery_visit"


def test_a_cookie_is_signed_httponly_secure_and_lives_the_session_lifetime() -> None:
    response = Response()
    set_cookie(response, POLICY, "session", "abc")
    line = response.headers["set-cookie"].lower()
    flags = [f.strip() for f in line.split(";")]
    assert {"httponly", "secure", "path=/", "samesite=lax", "max-age=7200"} <= set(flags)
    assert not any(f.startswith("domain=") for f in flags)
    value = cookie_value(response, "__Host-kit_test_session")
    assert value != "abc"  # signed, not plain
    assert read_text_cookie(request_with({POLICY.name("session"): value}), POLICY, "session") == (
        "abc"
    )


def test_a_forged_altered_or_foreign_cookie_reads_as_nothing() -> None:
    response = Response()
    set_cookie(response, POLICY, "session", "abc")
    value = cookie_value(response, "__Host-kit_test_session")
    name = POLICY.name("session")
    tampered = value[:-1] + ("A" if value[-1] != "A" else "B")
    assert read_cookie(request_with({name: tampered}), POLICY, "session") is None
    assert read_cookie(request_with({name: "abc"}), POLICY, "session") is None
    # signed for another purpose, another app (prefix) or with another key: not valid here
    assert read_cookie(request_with({POLICY.name("pre"): value}), POLICY, "pre") is None
    other_app = CookiePolicy(secret_key=KEY, prefix="kit.other")
    assert (
        read_cookie(request_with({other_app.name("session"): value}), other_app, "session") is None
    )
    other_key = CookiePolicy(secret_key=Secret(b"x" * 32), prefix=PREFIX)
    assert read_cookie(request_with({name: value}), other_key, "session") is None


def test_a_timed_cookie_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    response = Response()
    set_cookie(response, POLICY, "flow", {"state": "s1"}, age=600, samesite="none", timed=True)
    assert "samesite=none" in response.headers["set-cookie"].lower()
    request = request_with({POLICY.name("flow"): cookie_value(response, POLICY.name("flow"))})
    assert read_cookie(request, POLICY, "flow", max_age=600) == {"state": "s1"}
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 601)
    assert read_cookie(request, POLICY, "flow", max_age=600) is None


def test_clearing_expires_the_cookie_now() -> None:
    response = Response()
    clear_cookie(response, POLICY, "session")
    line = response.headers["set-cookie"].lower()
    assert line.startswith("__host-kit_test_session=") and "max-age=0" in line


def test_the_console_policy_keeps_the_console_cookie_names() -> None:
    """The console builds its policy from its settings; the names must stay the ones its
    settings (and browsers holding a session) know."""
    from oathdesk.web.security import cookie_policy

    for secure in (True, False):
        settings = WebSettings(secret_key=KEY, secure_cookies=secure)
        policy = cookie_policy(settings)
        assert policy.name("session") == settings.session_cookie
        assert policy.name("pre") == settings.presession_cookie
        assert policy.name("oidc") == settings.oidc_cookie
        assert policy.lifetime == settings.session_lifetime and policy.idle == settings.session_idle


def test_csrf_tokens_depend_on_key_and_binding() -> None:
    token = csrf_token(POLICY, "pre:n1")
    assert len(token) == 64 and token == csrf_token(POLICY, "pre:n1")
    assert token != csrf_token(POLICY, "pre:n2")
    assert token != csrf_token(CookiePolicy(secret_key=Secret(b"y" * 32)), "pre:n1")


def test_a_form_posted_with_its_token_and_nonce_cookie_is_accepted(
    client: httpx.Client,
) -> None:
    page = client.get("/form")
    cookies = set_cookies(page)
    assert (
        "__Host-kit_test_pre" in cookies
        and "max-age=3600" in cookies["__Host-kit_test_pre"].lower()
    )
    token = token_in(page)
    assert client.get("/form").headers.get("set-cookie") is None  # the nonce is kept
    assert token_in(client.get("/form")) == token
    accepted = client.post("/form", data={"csrf_token": token})
    assert accepted.status_code == 200 and accepted.text == "accepted"
    by_header = client.post("/form", headers={"X-CSRF-Token": token})
    assert by_header.status_code == 200


def test_a_form_without_token_with_a_wrong_one_or_from_another_browser_is_refused(
    client: httpx.Client, url: str, server: Server
) -> None:
    token = token_in(client.get("/form"))
    for data in ({}, {"csrf_token": ""}, {"csrf_token": "0" * 64}):
        refused = client.post("/form", data=data)
        assert refused.status_code == 403 and "auth.csrf" in refused.text
    with new_client(url, server) as stranger:  # no nonce cookie: a cross-site post
        assert stranger.post("/form", data={"csrf_token": token}).status_code == 403
        token_in(stranger.get("/form"))  # its own nonce: the other browser's token still fails
        assert stranger.post("/form", data={"csrf_token": token}).status_code == 403


def test_a_session_write_needs_the_session_token_not_the_form_one(client: httpx.Client) -> None:
    assert sign_in(client, "ada").status_code == 303
    form_token = token_in(client.get("/form"))
    assert client.post("/admin", data={"csrf_token": form_token}).status_code == 403
    assert client.post("/admin").status_code == 403
    session_token = token_in(client.get("/home"))  # the sign-out form's
    assert session_token != form_token
    written = client.post("/admin", headers={"X-CSRF-Token": session_token})
    assert written.status_code == 200 and written.text == "written by local:ada"


def test_a_non_ascii_token_is_refused_not_a_crash(client: httpx.Client) -> None:
    """A token of non-ASCII characters, in the form field or the header, is a plain 403
    ``auth.csrf`` before and after sign-in (``hmac.compare_digest`` refuses to compare such
    strings with a ``TypeError``, which was a 500)."""
    token_in(client.get("/form"))
    sent: list[dict[str, object]] = [
        {"data": {"csrf_token": "é" * 64}},
        {"headers": {"X-CSRF-Token": "é".encode() * 32}},
        {"headers": {"X-CSRF-Token": b"\xff" * 64}},
    ]
    for path in ("/form", "/admin"):
        if path == "/admin":
            assert sign_in(client, "ada").status_code == 303
        for kwargs in sent:
            refused = client.post(path, **kwargs)  # type: ignore[arg-type]
            assert refused.status_code == 403, (path, kwargs, refused.status_code)
            assert "auth.csrf" in refused.text
