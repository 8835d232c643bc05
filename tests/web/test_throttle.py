"""Sign-in throttling per account and per client address, enforced before the password check."""

from __future__ import annotations

import httpx

from oathdesk.domain import FixedClock
from oathdesk.service import Inventory
from oathdesk.web import WebSettings
from tests.web.conftest import PASSWORD, Server, new_client, sign_in


def test_an_account_is_locked_after_repeated_failures_even_for_the_right_password(
    client: httpx.Client,
    accounts: dict[str, list[str]],
    clock: FixedClock,
    settings: WebSettings,
) -> None:
    policy = settings.throttle
    for _ in range(policy.max_failures):
        assert sign_in(client, "ada", "wrong password here").status_code == 401
    locked = sign_in(client, "ada", PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.text
    retry = int(locked.headers["retry-after"])
    assert 0 < retry <= policy.lockout.total_seconds()
    assert "__Host-oathdesk_session" not in locked.headers.get("set-cookie", "")
    assert sign_in(client, "hal", PASSWORD).status_code == 303  # other accounts unaffected
    client.cookies.clear()
    clock.advance(policy.lockout.total_seconds() + 1)
    assert sign_in(client, "ada", PASSWORD).status_code == 303


def test_one_address_trying_many_accounts_is_locked_out_but_not_others(
    app_url: str, server: Server, accounts: dict[str, list[str]], settings: WebSettings
) -> None:
    limit = settings.throttle.address_failures
    with new_client(app_url, server, **{"x-forwarded-for": "203.0.113.7"}) as attacker:
        for i in range(limit):
            assert sign_in(attacker, f"guess{i}", "wrong password here").status_code == 401
        assert sign_in(attacker, "aud", PASSWORD).status_code == 429
    with new_client(app_url, server, **{"x-forwarded-for": "198.51.100.20"}) as colleague:
        assert sign_in(colleague, "aud", PASSWORD).status_code == 303


def test_failures_are_audited_without_the_typed_name_of_an_unknown_account(
    client: httpx.Client, accounts: dict[str, list[str]], inv: Inventory
) -> None:
    sign_in(client, "ada", "wrong password here")
    sign_in(client, "MyPassword-typed-as-name", "x" * 12)
    sign_in(client, "ada")
    with inv.uow(write=False) as uow:
        entries = [(e.action, e.subject) for e in uow.audit.entries()]
        text = "\n".join(e.details + e.subject + e.actor for e in uow.audit.entries() if e.subject)
    assert ("auth.signin_failed", "account:ada") in entries
    assert ("auth.signin_failed", "account:(unknown)") in entries
    assert ("auth.signin", "account:ada") in entries
    assert "MyPassword-typed-as-name" not in text
    assert PASSWORD not in text


def test_wrong_passwords_from_one_network_do_not_lock_the_owner_out(
    app_url: str,
    server: Server,
    accounts: dict[str, list[str]],
    clock: FixedClock,
    settings: WebSettings,
) -> None:
    """Wrong passwords for ``ada`` from one IPv6 /64 (a new address each time) lock that /64
    only, first for one minute, then for two after one more failure; ``ada`` signs in from her
    own network all along."""
    policy = settings.throttle
    assert policy.first_lockout.total_seconds() == 60
    for i in range(policy.max_failures):
        with new_client(app_url, server, **{"x-forwarded-for": f"2001:db8:bad:1::{i + 1}"}) as c:
            assert sign_in(c, "ada", "wrong password here").status_code == 401
    with new_client(app_url, server, **{"x-forwarded-for": "2001:db8:bad:1:ff::1"}) as attacker:
        locked = sign_in(attacker, "ada", PASSWORD)
        assert locked.status_code == 429
        assert 0 < int(locked.headers["retry-after"]) <= 60
        with new_client(app_url, server, **{"x-forwarded-for": "198.51.100.20"}) as owner:
            assert sign_in(owner, "ada", PASSWORD).status_code == 303
        clock.advance(61)
        assert sign_in(attacker, "ada", "wrong password again").status_code == 401
        longer = sign_in(attacker, "ada", PASSWORD)
        assert longer.status_code == 429
        assert 60 < int(longer.headers["retry-after"]) <= 120
