"""``[delivery] mail_dir``: approval writes the mail into a pickup folder instead of SMTP (the
demo's mailbox reads it), numbered in the order sent, owner-only, with its one recipient; the
demo's mailbox page lists those mails with their links, and only the demo's app has it."""

from __future__ import annotations

import email
import re
import stat
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from oathdesk.config import Config
from oathdesk.delivery import Delivery, DeliveryError, DeliverySettings, approve
from oathdesk.delivery.mail import ENVELOPE
from oathdesk.domain import Secret
from oathdesk.store import RequestState
from tests.backends import sqlite_only
from tests.delivery import support
from tests.delivery.helpers import ask
from tests.web.conftest import Server, new_client


def _to_folder(dl: Delivery, folder: Path) -> Delivery:
    smtp = replace(dl.settings.smtp, port=1, mail_dir=folder)  # port 1: SMTP would fail
    return Delivery(dl.inv, replace(dl.settings, smtp=smtp))


def test_approval_writes_the_mail_into_the_folder(
    loaded: Delivery, tmp_path: Path, mailbox: support.Mailbox
) -> None:
    folder = tmp_path / "mailbox"
    dl = _to_folder(loaded, folder)
    first = approve(dl, ask(dl), actor="local:dora")
    second = approve(dl, ask(dl, shipments=("SH-1",)), actor="local:dora")
    assert first.state == second.state == RequestState.SENT.value
    assert not mailbox.messages  # nothing went over SMTP
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == ["000001.eml", "000002.eml"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    message = email.message_from_bytes(files[0].read_bytes())
    assert message[ENVELOPE] == "it@contoso.example" == message["To"]
    assert message["Subject"] == "Your token seed file(s) for order PO-1001"
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert support.LINK_RE.findall(body.decode())


def test_an_unwritable_folder_is_a_mail_failure(loaded: Delivery, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    dl = _to_folder(loaded, blocker)
    request_id = ask(dl)
    with pytest.raises(DeliveryError) as caught:
        approve(dl, request_id, actor="local:dora")
    assert caught.value.code == "delivery.mail_failed"
    assert str(blocker) in caught.value.message


def test_mail_dir_setting(tmp_path: Path) -> None:
    config = Config(sections={"data": {"dir": str(tmp_path)}, "delivery": {"mail_dir": "~/box"}})
    settings = DeliverySettings.from_config(config, Secret(b"k" * 32))
    assert settings.smtp.mail_dir == Path("~/box").expanduser()
    plain = DeliverySettings.from_config(Config(sections={}), Secret(b"k" * 32))
    assert plain.smtp.mail_dir is None


@sqlite_only
def test_the_mailbox_page_lists_mails_with_their_links(
    loaded: Delivery, tmp_path: Path, server: Server
) -> None:
    from oathdesk.delivery.web_app import create_delivery_app
    from oathdesk.delivery.web_mailbox import pages

    dl = _to_folder(loaded, tmp_path / "mailbox")
    plain = create_delivery_app(dl)
    server.holder.app = plain
    try:
        with new_client(server.url, server) as client:
            assert client.get("/demo/mailbox").status_code == 404  # not in the product's app
        demo = create_delivery_app(dl)
        demo.include_router(pages)
        server.holder.app = demo
        with new_client(server.url, server) as client:
            empty = client.get("/demo/mailbox")
            assert empty.status_code == 200 and "No mail yet." in empty.text
            approve(dl, ask(dl), actor="local:dora")
            approve(dl, ask(dl, shipments=("SH-2",)), actor="local:dora")
            page = client.get("/demo/mailbox")
    finally:
        server.holder.app = None
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    links = re.findall(
        r'<a href="(https://delivery\.test/d/[^"]+)">Download ([^<]+)</a>', page.text
    )
    assert [name for _url, name in links] == ["seeds-PO-1001.zip", "seeds-PO-1001.zip"]
    newest = email.message_from_bytes((tmp_path / "mailbox" / "000002.eml").read_bytes())
    body = newest.get_payload(decode=True)
    assert isinstance(body, bytes) and links[0][0] in body.decode()  # newest first
    assert page.text.index('id="mail-2"') < page.text.index('id="mail-1"')
    assert httpx.URL(links[1][0]).path.startswith("/d/")
