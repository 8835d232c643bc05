"""The delivery web app over real TLS uvicorn: the customer's wizard, the team's review queue,
the mailed link (real loopback SMTP), download, confirmation; roles, CSRF and throttling."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest
import pyzipper

from oathdesk.delivery import Delivery, get_request
from oathdesk.formats import read_seeds
from oathdesk.otp import totp
from tests.backends import sqlite_only
from tests.delivery import support
from tests.delivery.helpers import ask as service_ask
from tests.delivery.web_support import (
    ask,
    find,
    session_csrf,
    session_csrf_of,
    team_sign_in,
    token_of,
    verify_all,
)
from tests.web.conftest import CSRF_RE, Server, new_client

NAMES = ("dora", "ada", "hal", "aud", "joe")
# (method, concrete path, names allowed, "page"|"api") for every GET route of the team
ROLE_ROUTES: list[tuple[str, str, set[str], str]] = [
    ("GET", "/review", {"dora"}, "page"),
    ("GET", "/review/1", {"dora"}, "page"),
    ("GET", "/api/v1/delivery/requests", {"dora"}, "api"),
    ("GET", "/api/v1/delivery/requests/1", {"dora"}, "api"),
]
# every (method, route template) the delivery app registers; public ones are the customer's
COVERED: set[tuple[str, str]] = {
    ("GET", "/"),
    ("GET", "/order"),
    ("POST", "/order"),
    ("GET", "/order/shipments"),
    ("POST", "/order/shipments"),
    ("GET", "/order/options"),
    ("POST", "/order/options"),
    ("GET", "/order/done/{request_id}"),
    ("GET", "/d/{token}"),
    ("POST", "/d/{token}"),
    ("POST", "/d/{token}/confirm"),
    ("GET", "/signin"),
    ("POST", "/signin"),
    ("POST", "/signout"),
    ("GET", "/review"),
    ("GET", "/review/{request_id}"),
    ("POST", "/review/{request_id}/approve"),
    ("POST", "/review/{request_id}/reject"),
    ("GET", "/api/v1/delivery/requests"),
    ("GET", "/api/v1/delivery/requests/{request_id}"),
    ("POST", "/api/v1/delivery/requests/{request_id}/approve"),
    ("POST", "/api/v1/delivery/requests/{request_id}/reject"),
}


@pytest.fixture
def clients(web_url: str, server: Server) -> Iterator[dict[str, httpx.Client]]:
    made = {name: team_sign_in(new_client(web_url, server), name) for name in NAMES}
    made["anonymous"] = new_client(web_url, server)
    yield made
    for client in made.values():
        client.close()


def test_routes_registered_are_the_covered_ones() -> None:
    from fastapi.routing import APIRoute

    from oathdesk.delivery import web_customer, web_review

    found = {
        (method, route.path)
        for module in (web_customer, web_review)
        for router in (module.pages, module.router)
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in (route.methods or set()) - {"HEAD"}
    }
    assert found == COVERED


@sqlite_only  # the web tests run on SQLite (the service tests cover PostgreSQL)
def test_every_role_against_every_team_route(
    loaded: Delivery, clients: dict[str, httpx.Client]
) -> None:
    service_ask(loaded)
    for method, path, allowed, kind in ROLE_ROUTES:
        for name in (*NAMES, "anonymous"):
            answer = clients[name].request(method, path)
            if name in allowed:
                assert answer.status_code == 200, (name, path, answer.text)
            elif name == "anonymous" and kind == "page":
                assert answer.status_code == 303, (name, path)
                assert answer.headers["location"].startswith("/signin?next=")
            else:
                expected = 401 if name == "anonymous" else 403
                assert answer.status_code == expected, (name, path, answer.status_code)
                if kind == "api":
                    assert answer.json()["error"]["code"] in {"auth.required", "auth.forbidden"}


@sqlite_only
def test_team_writes_refuse_wrong_roles_and_missing_csrf(
    loaded: Delivery, clients: dict[str, httpx.Client]
) -> None:
    request_id = service_ask(loaded)
    ada, dora, anonymous = clients["ada"], clients["dora"], clients["anonymous"]
    ada_csrf = CSRF_RE.search(ada.get("/order").text)  # ada has a session but not the role
    assert ada_csrf is not None
    writes = [
        f"/review/{request_id}/approve",
        f"/review/{request_id}/reject",
        f"/api/v1/delivery/requests/{request_id}/approve",
        f"/api/v1/delivery/requests/{request_id}/reject",
    ]
    for path in writes:
        assert ada.post(path, data={"reason": "x"}).status_code == 403
        assert dora.post(path, data={"reason": "x"}).status_code == 403  # no CSRF token
        refused = anonymous.post(path, json={"reason": "x"})
        assert refused.status_code in (303, 401)
    assert get_request(loaded, request_id).state == "pending"
    signout = anonymous.post("/signout")
    assert signout.status_code == 303 and signout.headers["location"].startswith("/signin")
    assert ada.post("/signout").status_code == 403  # no CSRF token
    assert ada.post("/signout", data={"csrf_token": session_csrf_of(ada)}).status_code == 303
    assert ada.get("/review").status_code == 303  # signed out
    # the API with the session's CSRF header: reject needs a reason, then works once
    headers = {"X-CSRF-Token": session_csrf(dora)}
    empty = dora.post(
        f"/api/v1/delivery/requests/{request_id}/reject", json={"reason": ""}, headers=headers
    )
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "request.invalid"
    done = dora.post(
        f"/api/v1/delivery/requests/{request_id}/reject", json={"reason": "unpaid"}, headers=headers
    )
    assert done.status_code == 200 and done.json()["state"] == "rejected"
    again = dora.post(f"/api/v1/delivery/requests/{request_id}/approve", headers=headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "delivery.state_conflict"
    listed = dora.get("/api/v1/delivery/requests", params={"state": "rejected"}).json()
    assert [i["id"] for i in listed["items"]] == [request_id]
    assert dora.get("/api/v1/delivery/requests/999").status_code == 404
    out = dora.post("/signout", data={"csrf_token": headers["X-CSRF-Token"]})
    assert out.status_code == 303
    assert dora.get("/review").status_code == 303


@sqlite_only
def test_customer_wizard_review_mail_download_confirm(
    loaded: Delivery, clients: dict[str, httpx.Client], mailbox: support.Mailbox
) -> None:
    customer, dora = clients["anonymous"], clients["dora"]
    assert customer.get("/").headers["location"] == "/order"
    assert customer.get("/order/shipments").headers["location"] == "/order?expired=1"
    found = find(customer)
    assert found.status_code == 303 and found.headers["location"] == "/order/shipments"
    assert customer.get("/order/options").headers["location"] == "/order/shipments"
    verify_all(customer)
    weak = ask(customer, password="weakpass", password_again="weakpass")
    assert weak.status_code == 400 and 'role="alert"' in weak.text and "stronger" in weak.text
    differ = ask(customer, password_again=support.STRONG + "x")
    assert differ.status_code == 400 and "differ" in differ.text
    asked = ask(customer, packaging="per_shipment", format="duo-csv")
    assert asked.status_code == 303, asked.text
    request_id = int(asked.headers["location"].rsplit("/", 1)[1])
    done = customer.get(asked.headers["location"])
    assert done.status_code == 200 and f">{request_id}<" in done.text
    assert customer.get("/order/shipments").status_code == 303  # the visit ended

    queue = dora.get("/review")
    assert queue.status_code == 200 and f'href="/review/{request_id}"' in queue.text
    detail = dora.get(f"/review/{request_id}")
    assert "duo-csv" in detail.text and "it@contoso.example" in detail.text
    approved = dora.post(f"/review/{request_id}/approve", data={"csrf_token": session_csrf(dora)})
    assert approved.status_code == 303
    assert "sent" in dora.get(approved.headers["location"]).text

    tokens = mailbox.links()
    assert len(tokens) == 2
    path = f"/d/{tokens[0]}"
    page = customer.get(path)
    assert page.status_code == 200 and 'type="password"' in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    csrf = token_of(customer, path)
    wrong = customer.post(path, data={"csrf_token": csrf, "password": "Nope-Nope-123"})
    assert wrong.status_code == 400 and 'role="alert"' in wrong.text
    got = customer.post(path, data={"csrf_token": csrf, "password": support.STRONG})
    assert got.status_code == 200
    assert got.headers["content-disposition"].startswith('attachment; filename="seeds-SH-1')
    with pyzipper.AESZipFile(io.BytesIO(got.content)) as archive:
        archive.setpassword(support.STRONG.encode())
        (member,) = archive.namelist()
        result = read_seeds(archive.read(member), member, "duo-csv")
    assert not result.errors and [r.serial for r in result.records] == support.SHIPMENTS["SH-1"]
    for record in result.records:
        assert totp(record.secret, 1_790_000_000) == totp(
            support.secret_of(record.serial), 1_790_000_000
        )

    assert customer.post(f"{path}/confirm", data={}).status_code == 403  # no CSRF token
    asked = customer.post(f"{path}/confirm", data={"csrf_token": csrf})
    assert asked.status_code == 200 and "cannot be undone" in asked.text
    confirmed = customer.post(f"{path}/confirm", data={"csrf_token": csrf, "sure": "yes"})
    assert confirmed.status_code == 200 and "deleted" in confirmed.text
    assert support.stored(loaded) == 1  # SH-2's file is still there
    for replay in (
        customer.get(path),
        customer.post(path, data={"csrf_token": csrf, "password": support.STRONG}),
        customer.post(f"{path}/confirm", data={"csrf_token": csrf}),
        customer.post(f"{path}/confirm", data={"csrf_token": csrf, "sure": "yes"}),
    ):
        assert replay.status_code == 410 and "no longer valid" in replay.text


@sqlite_only
def test_order_lookup_answers_alike_and_enumeration_is_throttled(
    loaded: Delivery, web_url: str, server: Server
) -> None:
    with new_client(web_url, server, **{"X-Forwarded-For": "203.0.113.9"}) as prober:
        unknown = find(prober, "PO-9999")
        mismatch = find(prober, "PO-1001", "it@fabrikam.example")
        assert unknown.status_code == mismatch.status_code == 404
        assert "No order matches" in unknown.text and "No order matches" in mismatch.text
        for n in range(loaded.settings.find.address_failures - 2):
            assert find(prober, f"INV-{3000 + n}").status_code == 404
        locked = find(prober)  # even the right number and e-mail now
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
        assert "Too many attempts" in locked.text
    with new_client(web_url, server, **{"X-Forwarded-For": "203.0.113.10"}) as other:
        assert find(other).status_code == 303


@sqlite_only
def test_forms_need_csrf_and_pages_carry_strict_headers(web: httpx.Client) -> None:
    refused = web.post("/order", data={"number": "PO-1001", "email": "it@contoso.example"})
    assert refused.status_code == 403
    page = web.get("/order")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"
    assert web.get("/static/delivery.js").status_code == 200
    assert '/static/kit/oathdesk.css"' in page.text  # the console's design system, shared
    assert "--accent" in web.get("/static/kit/oathdesk.css").text
    assert web.get("/d/not-a-real-token").status_code == 410
    assert web.get("/nowhere").status_code == 404


@sqlite_only
def test_team_rejects_in_pages_and_sign_in_refuses_wrong_password(
    loaded: Delivery, clients: dict[str, httpx.Client], web_url: str, server: Server
) -> None:
    request_id = service_ask(loaded)
    dora = clients["dora"]
    csrf = session_csrf(dora)
    bare = dora.post(f"/review/{request_id}/reject", data={"csrf_token": csrf, "reason": " "})
    assert bare.status_code == 400 and 'role="alert"' in bare.text and "Say why" in bare.text
    asked = dora.post(
        f"/review/{request_id}/reject", data={"csrf_token": csrf, "reason": "not paid"}
    )  # the first POST asks: nothing is rejected yet
    assert asked.status_code == 200 and f"Reject request {request_id}?" in asked.text
    assert "they must ask again" in asked.text and "This cannot be undone." in asked.text
    assert 'name="confirmed" value="yes"' in asked.text and 'class="danger"' in asked.text
    assert f'href="/review/{request_id}" id="cancel">Cancel: nothing is done' in asked.text
    assert get_request(loaded, request_id).state == "pending"
    done = dora.post(
        f"/review/{request_id}/reject",
        data={"csrf_token": csrf, "reason": "not paid", "confirmed": "yes"},
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?done=rejected")
    page = dora.get(done.headers["location"])
    assert "Request rejected." in page.text and "not paid" in page.text
    assert 'action="/review/' not in page.text  # no more buttons for a decided request
    late = dora.post(f"/review/{request_id}/approve", data={"csrf_token": csrf})
    assert late.status_code == 409 and "only pending requests are approved" in late.text
    assert get_request(loaded, request_id).state == "rejected"
    with new_client(web_url, server) as stranger:
        token = token_of(stranger, "/signin")
        wrong = stranger.post(
            "/signin", data={"name": "dora", "password": "nope", "csrf_token": token}
        )
        assert wrong.status_code == 401 and 'role="alert"' in wrong.text
        assert stranger.post("/signin", data={"name": "dora", "password": "x"}).status_code == 403
