"""A link serves ``[delivery] downloads`` downloads (default 1), then answers
``delivery.link_forbidden`` (403); deleting needs a download in the same visit (its receipt) and
a confirmation step; two downloads racing for a one-time link serve exactly one."""

from __future__ import annotations

import threading
from dataclasses import replace

import httpx
import pytest

from oathdesk.delivery import (
    Delivery,
    DeliveryError,
    approve,
    confirm,
    download,
    get_request,
    list_requests,
    open_link,
)
from oathdesk.domain import FixedClock, Secret
from tests.backends import sqlite_only
from tests.delivery import support
from tests.delivery.helpers import ask
from tests.delivery.web_support import token_of
from tests.web.conftest import Server, new_client

ADDRESS = "192.0.2.9"
RIGHT = Secret(support.STRONG.encode())


def _links(dl: Delivery, mailbox: support.Mailbox, packaging: str = "combined") -> list[str]:
    approve(dl, ask(dl, packaging=packaging), actor="local:dora")
    return mailbox.links()


def _code(call: object) -> str:
    assert callable(call)
    with pytest.raises(DeliveryError) as refused:
        call()
    return refused.value.code


def test_a_link_serves_one_download_then_is_forbidden(
    loaded: Delivery, mailbox: support.Mailbox
) -> None:
    (token,) = _links(loaded, mailbox)
    got = download(loaded, token, RIGHT, address=ADDRESS)
    assert got.data.startswith(b"PK\x03\x04")
    assert _code(lambda: download(loaded, token, RIGHT, address=ADDRESS)) == (
        "delivery.link_forbidden"
    )
    link = open_link(loaded, token)  # the page still opens: the customer may confirm
    assert link.downloads == 1 and link.used_up
    assert support.stored(loaded) == 1


def test_the_download_count_follows_the_setting(loaded: Delivery, mailbox: support.Mailbox) -> None:
    twice = Delivery(loaded.inv, replace(loaded.settings, downloads=2))
    (token,) = _links(twice, mailbox)
    for _ in range(2):
        download(twice, token, RIGHT, address=ADDRESS)
    assert _code(lambda: download(twice, token, RIGHT, address=ADDRESS)) == (
        "delivery.link_forbidden"
    )


def test_confirm_needs_a_receipt_of_a_download_of_this_link(
    loaded: Delivery, mailbox: support.Mailbox
) -> None:
    first, second = _links(loaded, mailbox, packaging="per_shipment")
    refused = "delivery.not_downloaded"
    assert _code(lambda: confirm(loaded, first, receipt=None, address=ADDRESS)) == refused
    assert _code(lambda: confirm(loaded, first, receipt="1.2.3", address=ADDRESS)) == refused
    got = download(loaded, second, RIGHT, address=ADDRESS)
    other = got.receipt
    assert _code(lambda: confirm(loaded, first, receipt=other, address=ADDRESS)) == refused
    forged = other[:-2] + ("AA" if not other.endswith("AA") else "BB")
    assert _code(lambda: confirm(loaded, second, receipt=forged, address=ADDRESS)) == refused
    assert support.stored(loaded) == 2  # nothing deleted
    assert confirm(loaded, second, receipt=other, address=ADDRESS) == got.file_name
    assert support.stored(loaded) == 1


def test_a_receipt_lasts_one_visit(loaded: Delivery, mailbox: support.Mailbox) -> None:
    (token,) = _links(loaded, mailbox)
    got = download(loaded, token, RIGHT, address=ADDRESS)
    assert isinstance(loaded.inv.clock, FixedClock)
    loaded.inv.clock.advance(loaded.settings.visit_lifetime.total_seconds() + 1)
    assert _code(lambda: confirm(loaded, token, receipt=got.receipt, address=ADDRESS)) == (
        "delivery.not_downloaded"
    )


# -- over the real app server ------------------------------------------------------------------


def _approved_link(dl: Delivery, mailbox: support.Mailbox) -> str:
    (token,) = _links(dl, mailbox)
    return f"/d/{token}"


def _download(client: httpx.Client, path: str) -> httpx.Response:
    csrf = token_of(client, path)
    return client.post(path, data={"csrf_token": csrf, "password": support.STRONG})


@sqlite_only
def test_pages_refuse_a_second_download_with_403(
    loaded: Delivery, web_url: str, server: Server, mailbox: support.Mailbox
) -> None:
    path = _approved_link(loaded, mailbox)
    with new_client(web_url, server) as customer:
        assert _download(customer, path).status_code == 200
        page = customer.get(path)
        assert page.status_code == 200 and 'type="password"' not in page.text
        again = _download(customer, path)
        assert again.status_code == 403 and "delivery.link_forbidden" in again.text
        assert "PK\x03\x04" not in again.text


@sqlite_only
def test_delete_needs_a_download_in_this_visit_and_a_confirmation(
    loaded: Delivery, web_url: str, server: Server, mailbox: support.Mailbox
) -> None:
    path = _approved_link(loaded, mailbox)
    with new_client(web_url, server) as customer, new_client(web_url, server) as stranger:
        early = customer.post(f"{path}/confirm", data={"csrf_token": token_of(customer, path)})
        assert early.status_code == 403 and "delivery.not_downloaded" in early.text
        assert _download(customer, path).status_code == 200
        csrf = token_of(stranger, path)
        for data in ({"csrf_token": csrf}, {"csrf_token": csrf, "sure": "yes"}):
            other = stranger.post(f"{path}/confirm", data=data)
            assert other.status_code == 403 and "delivery.not_downloaded" in other.text
        assert support.stored(loaded) == 1
        csrf = token_of(customer, path)
        asked = customer.post(f"{path}/confirm", data={"csrf_token": csrf})
        assert asked.status_code == 200 and 'name="sure" value="yes"' in asked.text
        assert support.stored(loaded) == 1  # asked, not yet deleted
        done = customer.post(f"{path}/confirm", data={"csrf_token": csrf, "sure": "yes"})
        assert done.status_code == 200 and "deleted" in done.text
        assert support.stored(loaded) == 0
    (request,) = list_requests(loaded, "confirmed")
    assert all(f.confirmed for f in get_request(loaded, request.id).files)


def test_parallel_downloads_of_a_one_time_link_serve_exactly_one(
    loaded: Delivery, web_url: str, server: Server, mailbox: support.Mailbox
) -> None:
    """Real parallel requests against the app server, on SQLite and on PostgreSQL."""
    path = _approved_link(loaded, mailbox)
    racers = 4
    clients = [new_client(web_url, server) for _ in range(racers)]
    forms = [{"csrf_token": token_of(c, path), "password": support.STRONG} for c in clients]
    start = threading.Barrier(racers)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def race(index: int) -> None:
        start.wait(timeout=30)
        answer = clients[index].post(path, data=forms[index])
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for client in clients:
        client.close()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [403] * (racers - 1), statuses
    served = [a for a in answers if a.status_code == 200]
    assert served[0].content.startswith(b"PK\x03\x04")
    assert all("delivery.link_forbidden" in a.text for a in answers if a.status_code == 403)
    assert open_link(loaded, path.rsplit("/", 1)[1]).downloads == 1
