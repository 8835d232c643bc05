"""``HEAD`` gets ``GET``'s status and headers and no body, on pages, redirects, the API and
static files (it was 405 on every FastAPI route declared with ``GET``)."""

from __future__ import annotations

import httpx

from tests.http.conftest import sign_in


def test_head_answers_like_get_without_a_body(client: httpx.Client) -> None:
    for path in ("/signin?next=/staff", "/static/t.css"):
        got, head = client.get(path), client.head(path)
        assert head.status_code == got.status_code == 200, path
        assert head.content == b"", path
        assert head.headers["content-type"] == got.headers["content-type"]
        assert head.headers["content-length"] == got.headers["content-length"]
        assert head.headers["content-security-policy"] == got.headers["content-security-policy"]


def test_head_follows_the_same_guards(client: httpx.Client) -> None:
    signed_out = client.head("/staff")
    assert signed_out.status_code == client.get("/staff").status_code
    sign_in(client, "hal")
    head = client.head("/staff")
    assert head.status_code == 200 and head.content == b""
    assert client.get("/staff").text == "staff hal"  # the same page GET shows
    assert client.head("/nothing-here").status_code == 404
