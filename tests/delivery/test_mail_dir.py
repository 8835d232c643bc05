"""``[delivery] mail_dir``: approval writes the mail into a pickup folder instead of SMTP (the
demo's mailbox reads it), numbered in the order sent, owner-only, with its one recipient."""

from __future__ import annotations

import email
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from oathdesk.config import Config
from oathdesk.delivery import Delivery, DeliveryError, DeliverySettings, approve
from oathdesk.delivery.mail import ENVELOPE
from oathdesk.domain import Secret
from oathdesk.store import RequestState
from tests.delivery import support
from tests.delivery.helpers import ask


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
