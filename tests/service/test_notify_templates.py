"""Notification templates and settings: shipped templates overridden from a folder by file name,
only the documented fields reachable (Jinja2's sandbox, unknown names refused), and no seed or
code in any message of any event for a token whose seed is known; passwords never shown."""

from __future__ import annotations

import email
import re
from pathlib import Path
from typing import Any

import pytest

from oathdesk.config import Config
from oathdesk.domain import ConfigError
from oathdesk.service import (
    Inventory,
    NotifySettings,
    ServiceError,
    activate,
    import_seeds,
    mark_lost,
    push,
    replace,
    send_pending,
)
from oathdesk.service.lifecycle import found
from oathdesk.service.notify import EVENTS, FIELDS, check_templates, render, settings_view
from oathdesk.service.notify.templates import EVENTS as TEMPLATES
from oathdesk.service.notify.webhook import body_of, payload
from oathdesk.store import OutboxRow
from tests.service.notify_support import open_inventory, with_notify
from tests.service.support import entra_csv, leak_forms, secret_for, serial, totp, upn

WHO: dict[str, Any] = {"actor": "helpdesk:bob", "reason": "ticket 42"}
SAMPLE: dict[str, Any] = {"upn": "ada@example.com", "serial": "SN-1", "event_time": "now"}


def test_a_template_in_the_folder_overrides_the_shipped_one(tmp_path: Path) -> None:
    (tmp_path / "assign.txt").write_text(
        "Subject: Token {{ serial }} for {{ display_name }}\n\nPick it up at desk 4. "
        "{{ helpdesk }}\n"
    )
    settings = NotifySettings(templates_dir=tmp_path, helpdesk_contact="ext. 4242")
    mine = render(settings, "assign", SAMPLE | {"display_name": "Ada"})
    assert mine.subject == "Token SN-1 for Ada"
    assert mine.body == "Pick it up at desk 4. ext. 4242\n"
    shipped = render(settings, "lost", SAMPLE)  # not overridden: the package's own
    assert shipped.subject == "Your sign-in token SN-1 was reported lost"
    assert "Hello ada@example.com," in shipped.body  # no display name: the UPN stands in
    assert check_templates(settings) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Subject: {{ seed }}\n\nx\n", "UndefinedError"),
        ("Subject: x\n\n{{ serial.__class__.__mro__ }}\n", "unsafe"),
        ("Subject: x\n\n{{ ''.__class__.__subclasses__() }}\n", "unsafe"),
        ("Subject: x\n\n{% for %}\n", "TemplateSyntaxError"),
        ("Hello {{ upn }}\n", "the first line must be 'Subject: ...'"),
    ],
)
def test_a_template_reaches_only_the_documented_fields(
    tmp_path: Path, text: str, problem: str
) -> None:
    (tmp_path / "found.txt").write_text(text)
    settings = NotifySettings(templates_dir=tmp_path)
    with pytest.raises(ServiceError) as caught:
        render(settings, "found", SAMPLE)
    assert caught.value.code == "notify.template_invalid"
    assert problem in caught.value.message
    assert "found.txt" in check_templates(settings)[0]


def test_a_subject_stays_one_line(tmp_path: Path) -> None:
    (tmp_path / "lost.txt").write_text("Subject: lost {{ display_name }}\n\nbody\n")
    rendered = render(
        NotifySettings(templates_dir=tmp_path),
        "lost",
        SAMPLE | {"display_name": "Ada\nBcc: all@example.com"},
    )
    assert rendered.subject == "lost Ada Bcc: all@example.com"


def test_every_documented_field_is_given_to_every_template() -> None:
    settings = NotifySettings()
    for event in TEMPLATES:
        assert render(settings, event, SAMPLE).subject
    assert set(FIELDS) >= {"display_name", "upn", "serial", "model", "event_time", "portal_url"}


def _codes_around(prefix: str, n: int) -> set[str]:
    """The codes the token shows from two steps before now to two after."""
    return {totp(secret_for(prefix, n), step_offset=k) for k in range(-2, 3)}


def test_no_message_of_any_event_holds_the_seed_or_a_code(cfg: Config, tmp_path: Path) -> None:
    """Real actions on tokens whose seeds are known, mails into the pickup folder: neither the
    seed (hex, base32, base64) nor a current code is in any mail, in any template rendered for
    any event with those tokens' fields, or in any webhook body."""
    mailbox = tmp_path / "mailbox"
    settings = with_notify(
        cfg, mail_dir=str(mailbox), webhook_url="http://127.0.0.1:9/none", webhook_secret="s3"
    )
    with open_inventory(settings) as inv:
        import_seeds(inv, entra_csv("S", 2), "s.csv", actor="admin:ann")
        push(inv, actor="admin:ann")
        one, two = serial("S", 0), serial("S", 1)
        activate(inv, one, totp(secret_for("S", 0)), user=upn("ada"), **WHO)
        replace(inv, one, totp(secret_for("S", 1)), why="lost", new_serial=two, **WHO)
        mark_lost(inv, two, **WHO)
        found(inv, two, **WHO)
        send_pending(inv, limit=100)
        texts = _all_texts(inv, mailbox)
    forms = set().union(*(leak_forms(secret_for("S", n).reveal()) for n in (0, 1)))
    codes = _codes_around("S", 0) | _codes_around("S", 1)
    assert len(texts) > 2 * len(TEMPLATES)
    for text in texts:
        assert not [f for f in forms if f in text]
        assert not [c for c in codes if re.search(rf"(?<!\d){c}(?!\d)", text)]


def _all_texts(inv: Inventory, mailbox: Path) -> list[str]:
    mails = [
        email.message_from_bytes(p.read_bytes()).as_string() for p in sorted(mailbox.glob("*.eml"))
    ]
    assert len(mails) == 4  # assign, replace, lost, found
    with inv.uow(write=False) as uow:
        rows = list(uow.session.query(OutboxRow))
        fields = [dict(r.fields) for r in rows]
        bodies = [body_of(payload(r.id, r.tenant, r.event, dict(r.fields))).decode() for r in rows]
    rendered = []
    for each in fields:
        for event in TEMPLATES:
            message = render(inv.notify or NotifySettings(), event, each)
            rendered.append(f"{message.subject}\n{message.body}")
    return mails + bodies + rendered


def test_settings_keep_secrets_out_of_sight(tmp_path: Path) -> None:
    secret_file = tmp_path / "smtp-password"
    secret_file.write_text("relay-Pa55word\n")
    cfg = Config(
        sections={
            "notify": {
                "enabled": "true",
                "smtp_host": "mail.example.com",
                "smtp_security": "starttls",
                "smtp_user": "oathdesk",
                "smtp_password_file": str(secret_file),
                "smtp_ca_file": str(tmp_path / "relay-ca.pem"),
                "webhook_url": "https://hooks.example.com/x",
                "webhook_secret": "hook-Secret-99",
            }
        }
    )
    settings = NotifySettings.from_config(cfg)
    assert settings.smtp.port == 587 and settings.smtp.starttls and not settings.smtp.tls
    assert settings.smtp.ca_file == tmp_path / "relay-ca.pem"
    assert settings.smtp.password is not None
    assert settings.smtp.password.reveal() == b"relay-Pa55word"
    shown = f"{settings!r} {settings_view(settings)} {cfg!r}"
    assert "relay-Pa55word" not in shown and "hook-Secret-99" not in shown
    assert settings_view(settings)["smtp_login"] is True
    assert (
        NotifySettings.from_config(Config(sections={"notify": {"smtp_security": "tls"}})).smtp.port
        == 465
    )
    for bad in (
        {"smtp_security": "ssl3"},
        {"webhook_url": "https://x.example.com"},  # no secret to sign with
        {"smtp_user": "oathdesk"},  # a login over a plain connection
    ):
        with pytest.raises(ConfigError) as caught:
            NotifySettings.from_config(Config(sections={"notify": bad}))
        assert caught.value.code == "config.invalid_value"
    assert NotifySettings.from_config(Config()).enabled is False
    assert set(EVENTS) < set(TEMPLATES)
