"""Delivery settings from ``[delivery]``: typed like every other key, with the console's cookie
and session rules (``secure_cookies = "on"`` keeps secure cookies on)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from oathdesk.config import Config, load_config
from oathdesk.delivery import DeliverySettings, SmtpSettings
from oathdesk.domain import ConfigError, Secret

KEY = Secret(b"k" * 32)


def _settings(tmp_path: Path, **delivery: object) -> DeliverySettings:
    sections: dict[str, dict[str, object]] = {"data": {"dir": str(tmp_path)}, "delivery": delivery}
    return DeliverySettings.from_config(Config(sections=sections), KEY)


def test_every_documented_key_has_its_default(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert settings.base_url == "https://localhost:8444"
    assert settings.link_lifetime == timedelta(hours=168)
    assert settings.downloads == 1
    assert settings.smtp == SmtpSettings(host="127.0.0.1", port=25, sender="seeds@localhost")
    assert settings.secure_cookies is True
    assert settings.session_lifetime == timedelta(hours=8)
    assert settings.session_idle == timedelta(minutes=30)


def test_every_key_is_read(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        base_url="https://seeds.vendor.example/",
        link_hours=0.5,
        downloads="3",
        smtp_host="mail.vendor.example",
        smtp_port="587",
        smtp_from="seeds@vendor.example",
        smtp_starttls="yes",
        smtp_user="robot",
        smtp_password="hunter2",
        secure_cookies=False,
        session_minutes=60,
        idle_minutes="5",
    )
    assert settings.base_url == "https://seeds.vendor.example"
    assert settings.link_lifetime == timedelta(minutes=30)
    assert settings.downloads == 3
    assert settings.smtp.host == "mail.vendor.example" and settings.smtp.port == 587
    assert settings.smtp.sender == "seeds@vendor.example" and settings.smtp.starttls is True
    assert settings.smtp.username == "robot" and settings.smtp.password == Secret(b"hunter2")
    assert "hunter2" not in repr(settings)
    assert settings.secure_cookies is False
    assert settings.session_lifetime == timedelta(hours=1)
    assert settings.session_idle == timedelta(minutes=5)


@pytest.mark.parametrize("value", ["on", "On", "yes", "1", "true", True])
def test_secure_cookies_on_is_on(tmp_path: Path, value: object) -> None:
    assert _settings(tmp_path, secure_cookies=value).secure_cookies is True


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("secure_cookies", "maybe", "must be true or false (true/false, 1/0, yes/no, on/off"),
        ("smtp_starttls", "sometimes", "must be true or false"),
        ("link_hours", "soon", "must be a positive number of hours"),
        ("link_hours", -1, "must be a positive number of hours"),
        ("smtp_port", "25.5", "must be a whole number of at least 1 and at most 65535"),
        ("smtp_port", 70000, "must be a whole number of at least 1 and at most 65535"),
        ("session_minutes", "0", "must be a positive number of minutes"),
        ("downloads", "0", "must be a whole number of at least 1 and at most 10"),
        ("downloads", "many", "must be a whole number of at least 1 and at most 10"),
    ],
)
def test_a_bad_value_names_its_key(tmp_path: Path, key: str, value: object, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _settings(tmp_path, **{key: value})
    assert caught.value.code == "config.invalid_value"
    assert caught.value.message.startswith(f"[delivery] {key} {problem}")


def test_variables_are_typed_the_same_way(tmp_path: Path) -> None:
    env = {
        "OATHDESK_DATA_DIR": str(tmp_path),
        "OATHDESK_DELIVERY_SECURE_COOKIES": "ON",
        "OATHDESK_DELIVERY_LINK_HOURS": "2",
    }
    settings = DeliverySettings.from_config(load_config(None, env=env), KEY)
    assert settings.secure_cookies is True and settings.link_lifetime == timedelta(hours=2)
    env["OATHDESK_DELIVERY_SECURE_COOKIES"] = "maybe"
    with pytest.raises(ConfigError) as caught:
        DeliverySettings.from_config(load_config(None, env=env), KEY)
    assert caught.value.message.startswith(
        "[delivery] secure_cookies (from OATHDESK_DELIVERY_SECURE_COOKIES) must be true or false"
    )
