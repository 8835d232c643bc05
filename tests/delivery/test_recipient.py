"""The download link goes to the customer's address and nowhere else: hostile addresses through
the service and the web form, the envelope recipients seen by a real SMTP listener."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select, update

from oathdesk.delivery import (
    Delivery,
    DeliveryError,
    approve,
    find_order,
    get_request,
    parse_address,
)
from oathdesk.store import DeliveryAuditEntry, DeliveryRequest
from tests.backends import sqlite_only
from tests.delivery import support
from tests.delivery.helpers import ask
from tests.delivery.web_support import find

ADDRESS = "192.0.2.8"
# (typed address, why it must not reach a mailbox other than one at contoso.example)
HOSTILE = [
    ("attacker@evil.example (it@contoso.example", "comment trick"),
    ("attacker@evil.example (it@contoso.example)", "closed comment"),
    ("attacker@evil.example, it@contoso.example", "comma: two recipients"),
    ("attacker@evil.example,it@contoso.example", "comma without space"),
    ("it@contoso.example; attacker@evil.example", "semicolon list"),
    ('"it@contoso.example" attacker@evil.example', "display-name trick"),
    ('"attacker@evil.example" it@contoso.example', "quoted phrase before the address"),
    ("Attacker <attacker@evil.example> it@contoso.example", "angle brackets"),
    ("<it@contoso.example>", "angle brackets around the right address"),
    ("attacker@evil.example@contoso.example", "two @"),
    ('"attacker@evil.example"@contoso.example', "quoted local part holding an address"),
    ("it@contoso.example\r\nBcc: attacker@evil.example", "header injection"),
    ("it@cont\u043eso.example", "unicode look-alike domain (Cyrillic o)"),
    ("it@contoso.example.", "trailing dot"),
    ("it@[192.0.2.1]", "domain literal"),
    ("it@mail.contoso.example", "subdomain: refused, only the manifest's domain receives"),
    ("it@evilcontoso.example", "suffix without a dot"),
]


def _refused(dl: Delivery, typed: str) -> str:
    with pytest.raises(DeliveryError) as refused:
        find_order(dl, "PO-1001", typed, address=ADDRESS)
    return refused.value.code


@pytest.mark.parametrize(("typed", "why"), HOSTILE, ids=[why for _a, why in HOSTILE])
def test_hostile_addresses_open_no_visit(loaded: Delivery, typed: str, why: str) -> None:
    assert _refused(loaded, typed) in {"delivery.invalid_email", "delivery.order_not_found"}
    with loaded.uow(write=False) as uow:
        found = uow.session.scalars(
            select(DeliveryAuditEntry.action).where(
                DeliveryAuditEntry.action == "delivery.order_found"
            )
        ).all()
    assert found == [], why


def test_a_syntax_error_is_said_as_such_and_a_wrong_domain_looks_unknown(
    loaded: Delivery,
) -> None:
    assert _refused(loaded, "attacker@evil.example, it@contoso.example") == (
        "delivery.invalid_email"
    )
    assert _refused(loaded, "it@mail.contoso.example") == "delivery.order_not_found"
    assert _refused(loaded, "it@cont\u043eso.example") == "delivery.order_not_found"


def test_parse_address_gives_one_normalised_addr_spec() -> None:
    assert parse_address("  IT@Contoso.Example ") == "IT@contoso.example"
    with pytest.raises(DeliveryError) as bad:
        parse_address("a@b.example, c@d.example")
    assert bad.value.code == "delivery.invalid_email"


def test_the_link_is_mailed_to_the_normalised_address_alone(
    loaded: Delivery, mailbox: support.Mailbox
) -> None:
    _token, visit = find_order(loaded, "PO-1001", " IT@Contoso.EXAMPLE ", address=ADDRESS)
    assert visit.email == "IT@contoso.example"
    request_id = ask(loaded)  # the helper's visit typed it@contoso.example
    approve(loaded, request_id, actor="local:dora")
    (message,) = mailbox.messages
    assert message["X-Rcpt"] == "it@contoso.example"
    assert message["To"] == "it@contoso.example"
    assert get_request(loaded, request_id).email == "it@contoso.example"


def test_a_stored_hostile_address_is_never_mailed(
    loaded: Delivery, mailbox: support.Mailbox
) -> None:
    """A request kept from before addresses were parsed: approval refuses it, no mail leaves."""
    request_id = ask(loaded)
    hostile = "attacker@evil.example (it@contoso.example"
    with loaded.uow() as uow:
        uow.session.execute(
            update(DeliveryRequest).where(DeliveryRequest.id == request_id).values(email=hostile)
        )
    with pytest.raises(DeliveryError) as refused:
        approve(loaded, request_id, actor="local:dora")
    assert refused.value.code == "delivery.invalid_email"
    assert mailbox.messages == []
    assert get_request(loaded, request_id).state == "pending"
    assert support.stored(loaded) == 0


@sqlite_only
@pytest.mark.parametrize(("typed", "why"), HOSTILE, ids=[why for _a, why in HOSTILE])
def test_the_web_form_refuses_hostile_addresses(web: httpx.Client, typed: str, why: str) -> None:
    answer = find(web, email=typed)
    assert answer.status_code in (400, 404), why
    assert 'role="alert"' in answer.text
    assert web.get("/order/shipments").headers["location"] == "/order?expired=1"


@sqlite_only
def test_the_web_form_takes_a_plain_address(web: httpx.Client) -> None:
    answer = find(web, email="IT@Contoso.Example")
    assert answer.status_code == 303 and answer.headers["location"] == "/order/shipments"
