"""The console pages for what was CLI-only, and the readable audit page, over real HTTPS: the API
tokens page (administrators only, CSRF on every write, the value shown once and never again,
never logged), the ``delivery`` role on the accounts page, and the audit page's one-line
summaries, details, filters and keyset paging for an auditor."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from html import unescape

import httpx
import pytest

from oathdesk.http.dates import utc_text
from oathdesk.service import Inventory
from oathdesk.service.accounts import list_accounts
from oathdesk.service.api_tokens import list_api_tokens
from tests.web.conftest import Server, add_tokens, form_token, new_client, signed_in

VALUE_RE = re.compile(r"odk_[A-Za-z0-9_-]{43}")
PAGE = "/settings/api-tokens"


@pytest.fixture
def clients(
    app_url: str, server: Server, accounts: dict[str, list[str]]
) -> Iterator[dict[str, httpx.Client]]:
    made = {name: signed_in(new_client(app_url, server), name) for name in accounts}
    made["anonymous"] = new_client(app_url, server)
    yield made
    for client in made.values():
        client.close()


def create(client: httpx.Client, name: str, roles: list[str], days: int = 30) -> httpx.Response:
    token = form_token(client, "/me")
    return client.post(
        PAGE, data={"name": name, "roles": roles, "days": str(days), "csrf_token": token}
    )


def shown_value(page: httpx.Response) -> str:
    found: list[str] = VALUE_RE.findall(page.text)
    assert len(found) == 1, found
    return found[0]


# -- API tokens page ----------------------------------------------------------------------------
def test_only_administrators_reach_the_api_tokens_page(clients: dict[str, httpx.Client]) -> None:
    page = clients["ada"].get(PAGE)
    assert page.status_code == 200 and 'value="auditor"' in page.text
    assert 'value="delivery"' not in page.text  # no console route takes it: not offered
    for who in ("hal", "aud", "joe"):
        client = clients[who]
        assert client.get(PAGE).status_code == 403, who
        refused = create(client, "sneaky", ["admin"])
        assert refused.status_code == 403, who
        revoke = client.post(f"{PAGE}/1/revoke", data={"csrf_token": form_token(client, "/me")})
        assert revoke.status_code == 403, who
    anonymous = clients["anonymous"].get(PAGE)
    assert anonymous.status_code == 303 and "/signin" in anonymous.headers["location"]
    assert clients["anonymous"].post(PAGE, data={"name": "x", "roles": ["admin"]}).status_code in (
        303,
        401,
        403,
    )
    nav = clients["ada"].get("/dashboard").text
    assert 'href="/settings/api-tokens"' in nav
    assert 'href="/settings/api-tokens"' not in clients["hal"].get("/dashboard").text


def test_writes_need_the_csrf_token(clients: dict[str, httpx.Client], inv: Inventory) -> None:
    ada = clients["ada"]
    forged = ada.post(PAGE, data={"name": "forged", "roles": ["auditor"], "days": "7"})
    assert forged.status_code == 403
    wrong = ada.post(
        PAGE, data={"name": "forged", "roles": ["auditor"], "csrf_token": "0" * 64, "days": "7"}
    )
    assert wrong.status_code == 403
    assert list_api_tokens(inv) == []
    made = create(ada, "kept", ["auditor"])
    assert made.status_code == 200
    token_id = list_api_tokens(inv)[0].id
    assert ada.post(f"{PAGE}/{token_id}/revoke", data={"reason": "x"}).status_code == 403
    assert list_api_tokens(inv)[0].revoked_at is None


def test_the_value_is_shown_once_works_and_never_appears_again(
    clients: dict[str, httpx.Client],
    inv: Inventory,
    app_url: str,
    server: Server,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    ada = clients["ada"]
    made = create(ada, "nightly-report", ["auditor", "helpdesk"], days=7)
    assert made.status_code == 200, made.text
    assert made.headers["cache-control"] == "no-store"
    value = shown_value(made)
    assert "API token nightly-report was created." in made.text
    assert "it is not shown again" in made.text
    with new_client(app_url, server, authorization=f"Bearer {value}") as bot:
        me = bot.get("/api/v1/me").json()
        assert me["name"] == "nightly-report" and me["roles"] == ["auditor", "helpdesk"]
    listing = ada.get(PAGE)
    assert listing.status_code == 200 and VALUE_RE.search(listing.text) is None
    assert value not in listing.text and value[4:20] not in listing.text
    row = re.search(r'<tr id="api-token-nightly-report">.*?</tr>', listing.text, re.S)
    assert row and "helpdesk, auditor" in row.group(0) and "active" in row.group(0)
    again = create(ada, "nightly-report", ["auditor"])  # a reload re-posts the form
    assert again.status_code == 409 and VALUE_RE.search(again.text) is None
    assert "An API token named &#39;nightly-report&#39; already exists" in again.text
    assert "api_token.exists" in again.text.split("<details>", 1)[1]  # the code only in details
    api = ada.get("/api/v1/api-tokens").json()
    assert value not in json.dumps(api)
    audit = ada.get("/api/v1/audit", params={"action": "api_token."}).json()["items"]
    assert value not in json.dumps(audit) and audit[0]["subject"] == "api_token:nightly-report"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert caplog.records and value not in logged and value[4:20] not in logged


def test_revoking_from_the_page_cuts_the_token_off_and_is_audited(
    clients: dict[str, httpx.Client], inv: Inventory, app_url: str, server: Server
) -> None:
    ada = clients["ada"]
    value = shown_value(create(ada, "ci", ["auditor"]))
    token_id = list_api_tokens(inv)[0].id
    gone = ada.post(
        f"{PAGE}/{token_id}/revoke",
        data={"reason": "ticket 7", "csrf_token": form_token(ada, PAGE)},
    )
    assert gone.status_code == 200
    assert "API token ci is revoked; a call made with it is now refused." in gone.text
    assert list_api_tokens(inv)[0].revoked_at is not None
    assert f'action="{PAGE}/{token_id}/revoke"' not in gone.text  # nothing left to revoke
    with new_client(app_url, server, authorization=f"Bearer {value}") as bot:
        assert bot.get("/api/v1/me").status_code == 401
    audit = ada.get("/api/v1/audit", params={"action": "api_token.revoke"}).json()["items"]
    assert [(e["actor"], e["reason"]) for e in audit] == [("local:ada", "ticket 7")]
    missing = ada.post(f"{PAGE}/999/revoke", data={"csrf_token": form_token(ada, PAGE)})
    assert missing.status_code == 404 and "There is no API token with id 999." in missing.text


@pytest.mark.parametrize(
    ("name", "roles", "days", "status", "message"),
    [
        ("ok-name", [], 30, 400, "An API token needs at least one role among"),
        ("bad name", ["auditor"], 30, 400, "An API token name is 1 to 100 letters"),
        ("ok-name", ["superuser"], 30, 400, "(unknown: superuser)."),
    ],
)
def test_a_refused_form_says_why_and_keeps_what_was_typed(
    clients: dict[str, httpx.Client],
    inv: Inventory,
    name: str,
    roles: list[str],
    days: int,
    status: int,
    message: str,
) -> None:
    answer = create(clients["ada"], name, roles, days)
    assert answer.status_code == status
    assert message in unescape(answer.text) and 'role="alert"' in answer.text
    assert f'value="{name}"' in answer.text  # the name is kept in the form
    assert list_api_tokens(inv) == []


def test_a_lifetime_out_of_range_is_refused(clients: dict[str, httpx.Client]) -> None:
    assert create(clients["ada"], "long", ["auditor"], days=4000).status_code == 422


# -- the delivery role on the accounts page ---------------------------------------------------
def test_an_administrator_gives_an_account_the_delivery_role(
    clients: dict[str, httpx.Client], inv: Inventory
) -> None:
    ada = clients["ada"]
    page = ada.get("/settings/accounts")
    assert 'name="roles" value="delivery"' in page.text
    changed = ada.post(
        "/settings/accounts/hal/roles",
        data={
            "roles": ["helpdesk", "delivery"],
            "csrf_token": form_token(ada, "/settings/accounts"),
        },
    )
    assert changed.status_code == 200 and "hal now has: helpdesk, delivery." in changed.text
    made = ada.post(
        "/settings/accounts",
        data={
            "name": "dora",
            "roles": ["delivery"],
            "password": "correct horse battery staple",
            "password2": "correct horse battery staple",
            "csrf_token": form_token(ada, "/settings/accounts"),
        },
    )
    assert made.status_code == 200 and "Account dora was created." in made.text
    roles = {a.name: a.roles for a in list_accounts(inv)}
    assert roles["hal"] == ("helpdesk", "delivery") and roles["dora"] == ("delivery",)
    hal_row = re.search(r'<tr id="account-hal">.*?</tr>', made.text, re.S)
    assert hal_row and re.search(r'value="delivery" checked', hal_row.group(0))


# -- the audit page ---------------------------------------------------------------------------
def test_an_auditor_reads_one_line_per_entry_with_its_details(
    clients: dict[str, httpx.Client], inv: Inventory
) -> None:
    add_tokens(inv, ["AUD-1", "AUD-2"], states={"assigned": ["AUD-1"]})
    aud = clients["aud"]
    assert clients["hal"].get("/audit").status_code == 403
    page = aud.get("/audit", params={"action": "account.create"})
    assert page.status_code == 200
    text = unescape(page.text)
    assert "test created account ada with role(s) admin." in text
    assert "test created account joe with role(s) none." in text
    assert text.count('<details class="audit-entry">') == 4  # ada, hal, aud, joe
    assert "<dt>Actor</dt>" in text and 'href="/audit?subject=account%3Aada"' in text
    batch = unescape(aud.get("/audit", params={"action": "batch."}).text)
    assert "test imported 2 token(s) from stock.csv into batch" in batch
    signin = unescape(aud.get("/audit", params={"actor": "local:aud"}).text)
    assert "aud signed in from" in signin
    assert '<option value="token.assign">' in page.text  # the action filter suggests actions
    assert '<option value="local:hal">' in page.text  # and the actor filter the accounts


def test_the_audit_page_filters_by_token_and_date_and_pages_by_keyset(
    clients: dict[str, httpx.Client], inv: Inventory
) -> None:
    ada = clients["ada"]
    for name in ("t1", "t2", "t3"):
        create(ada, name, ["auditor"])
    first = ada.get("/audit", params={"action": "api_token.", "limit": 25})
    assert unescape(first.text).count("ada created API token t") == 3
    one = unescape(ada.get("/audit", params={"subject": "api_token:t2"}).text)
    assert "ada created API token t2 with role(s) auditor" in one and "token t1" not in one
    future = ada.get("/audit", params={"action": "api_token.", "since": "2999-01-01T00:00"})
    assert 'id="no-entries"' in future.text
    paged = ada.get("/audit", params={"action": "api_token.", "limit": 25}).text
    assert 'rel="next"' not in paged
    api = ada.get("/api/v1/audit", params={"action": "api_token.", "limit": 2}).json()
    assert len(api["items"]) == 2 and api["next_before"]
    assert api["items"][0]["summary"] == "ada created API token t3 with role(s) auditor, " + (
        f"valid until {utc_text(api['items'][0]['details']['expires_at'])}."
    )
    older = ada.get(
        "/audit", params={"action": "api_token.", "limit": 25, "before": api["next_before"]}
    )
    assert unescape(older.text).count("ada created API token t1") == 1
    assert "a later page" in older.text and "Newest entries" in older.text
    export = ada.get("/audit/export", params={"action": "api_token."})
    assert export.status_code == 200 and len(export.text.splitlines()) == 3
