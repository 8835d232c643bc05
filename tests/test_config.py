"""Configuration: file found by flag, variable or folder; variables win; mistakes are named."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from pathlib import Path

import pytest

from oathdesk.config import FALSE, KEYS, TRUE, Config, load_config
from oathdesk.domain import ConfigError


def test_file_then_environment_override(tmp_path: Path) -> None:
    path = tmp_path / "oathdesk.toml"
    path.write_text('[data]\ndir = "/srv/oathdesk"\n[seeds]\ngpg_home = "/keys"\n')
    config = load_config(path, env={})
    assert config.source == path
    assert config.data_dir == Path("/srv/oathdesk")
    assert config.gpg_home == Path("/keys")
    config = load_config(
        path, env={"OATHDESK_DATA_DIR": "/elsewhere", "OATHDESK_SEEDS_GPG_HOME": "/other-keys"}
    )
    assert config.data_dir == Path("/elsewhere")
    assert config.gpg_home == Path("/other-keys")


def test_config_variable_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "custom.toml"
    path.write_text('[graph]\ntenant_id = "contoso"\n')
    config = load_config(None, env={"OATHDESK_CONFIG": str(path)})
    assert config.get("graph", "tenant_id") == "contoso"


def test_current_folder_file_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "oathdesk.toml").write_text('[graph]\nclient_id = "abc"\n')
    monkeypatch.chdir(tmp_path)
    assert load_config(None, env={}).get("graph", "client_id") == "abc"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ("[data\n", "config.invalid_toml"),
        ("[nonsense]\nx = 1\n", "config.unknown_section"),
        ("data = 1\n", "config.invalid"),
    ],
)
def test_mistakes_are_config_errors(tmp_path: Path, content: str, code: str) -> None:
    path = tmp_path / "oathdesk.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert info.value.code == code
    assert str(path) in info.value.message


def test_missing_named_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "absent.toml", env={})
    assert info.value.code == "config.not_found"


def test_repr_never_shows_secret_values(tmp_path: Path) -> None:
    path = tmp_path / "oathdesk.toml"
    path.write_text('[graph]\ntenant_id = "contoso"\nclient_secret = "s3cr3t-value"\n')
    config = load_config(path, env={"OATHDESK_STORE_KEY_FILE": "/k/keys.json"})
    shown = repr(config)
    assert "s3cr3t-value" not in shown and "/k/keys.json" not in shown
    assert "contoso" in shown and "client_secret" in shown
    assert config.get("graph", "client_secret") == "s3cr3t-value"


# -- typed accessors -----------------------------------------------------------------------


def _file(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Config:
    path = tmp_path / "oathdesk.toml"
    path.write_text(text)
    return load_config(path, env=env or {})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True), ("TRUE", True), ("1", True), ("yes", True), ("On", True), (" on ", True),
        ("false", False), ("False", False), ("0", False), ("no", False), ("OFF", False),
        (True, True), (False, False), (1, True), (0, False),
    ],
)  # fmt: skip
def test_booleans_take_every_accepted_spelling(value: object, expected: bool) -> None:
    config = Config(sections={"store": {"destroy_seeds_after_sync": value}})
    assert config.boolean("store", "destroy_seeds_after_sync", not expected) is expected


@pytest.mark.parametrize("value", ["maybe", "enabled", "2", 2, "t", 1.0, ["on"]])
def test_a_bad_boolean_names_the_key_and_the_spellings(value: object) -> None:
    config = Config(sections={"delivery": {"secure_cookies": value}})
    with pytest.raises(ConfigError) as caught:
        config.boolean("delivery", "secure_cookies", True)
    assert caught.value.code == "config.invalid_value"
    assert caught.value.message.startswith("[delivery] secure_cookies must be true or false")
    assert "(true/false, 1/0, yes/no, on/off, in any case)" in caught.value.message
    assert caught.value.details["accepted"] == list(TRUE + FALSE)


def test_toml_booleans_and_strings_from_a_file(tmp_path: Path) -> None:
    config = _file(tmp_path, '[web]\nsecure_cookies = false\n[delivery]\nsecure_cookies = "on"\n')
    assert config.boolean("web", "secure_cookies", True) is False
    assert config.boolean("delivery", "secure_cookies", False) is True


def test_a_variable_is_typed_the_same_way_and_named_in_errors(tmp_path: Path) -> None:
    env = {"OATHDESK_DELIVERY_SECURE_COOKIES": "Off", "OATHDESK_WEB_SESSION_MINUTES": "90"}
    config = _file(tmp_path, "[delivery]\nsecure_cookies = true\n", env)
    assert config.boolean("delivery", "secure_cookies", True) is False
    assert config.duration("web", "session_minutes", timedelta(hours=8), unit="minutes") == (
        timedelta(minutes=90)
    )
    bad = load_config(None, env={"OATHDESK_WEB_SESSION_MINUTES": "soon"})
    with pytest.raises(ConfigError) as caught:
        bad.duration("web", "session_minutes", timedelta(hours=8), unit="minutes")
    assert caught.value.message == (
        "[web] session_minutes (from OATHDESK_WEB_SESSION_MINUTES) must be a positive number "
        "of minutes, not 'soon'."
    )
    assert caught.value.details["variable"] == "OATHDESK_WEB_SESSION_MINUTES"


def test_a_blank_value_is_not_set(tmp_path: Path) -> None:
    config = load_config(None, env={"OATHDESK_STORE_DESTROY_SEEDS_AFTER_SYNC": " "})
    assert config.boolean("store", "destroy_seeds_after_sync", False) is False
    assert config.text("store", "tenant", "default") == "default"
    assert config.integer("web", "signin_max_failures", 5) == 5


@pytest.mark.parametrize(
    ("value", "expected"), [(480, 480.0), ("60", 60.0), (" 0.5 ", 0.5), (2.5, 2.5), ("1e2", 100.0)]
)
def test_numbers_are_positive_and_finite(value: object, expected: float) -> None:
    config = Config(sections={"delivery": {"link_hours": value}})
    assert config.number("delivery", "link_hours", 168) == expected


@pytest.mark.parametrize("value", ["soon", "-1", -1, 0, "0", "nan", "inf", True, ""])
def test_a_bad_number_names_its_key(value: object) -> None:
    config = Config(sections={"delivery": {"link_hours": value}})
    if value == "":  # blank: not set, the default applies
        assert config.number("delivery", "link_hours", 168) == 168
        return
    with pytest.raises(ConfigError) as caught:
        config.number("delivery", "link_hours", 168)
    assert caught.value.code == "config.invalid_value"
    assert caught.value.message.startswith("[delivery] link_hours must be a positive number")


def test_durations_are_in_the_unit_the_key_names() -> None:
    config = Config(sections={"web": {"session_minutes": -1, "idle_minutes": 1e300}})
    default = timedelta(hours=8)
    assert config.duration("web", "signin_lockout_minutes", default, unit="minutes") == default
    with pytest.raises(ConfigError) as negative:
        config.duration("web", "session_minutes", default, unit="minutes")
    assert negative.value.message == (
        "[web] session_minutes must be a positive number of minutes, not -1."
    )
    with pytest.raises(ConfigError) as huge:
        config.duration("web", "idle_minutes", default, unit="minutes")
    assert huge.value.message.startswith("[web] idle_minutes is too many minutes")


@pytest.mark.parametrize(
    ("value", "expected"), [(25, 25), ("587", 587), (" 2525 ", 2525), ("+25", 25)]
)
def test_whole_numbers(value: object, expected: int) -> None:
    config = Config(sections={"delivery": {"smtp_port": value}})
    assert config.integer("delivery", "smtp_port", 25, maximum=65535) == expected


@pytest.mark.parametrize("value", ["25.5", 25.0, "twenty", 0, "70000", True])
def test_a_bad_whole_number_names_its_key_and_range(value: object) -> None:
    config = Config(sections={"delivery": {"smtp_port": value}})
    with pytest.raises(ConfigError) as caught:
        config.integer("delivery", "smtp_port", 25, maximum=65535)
    assert caught.value.code == "config.invalid_value"
    assert "[delivery] smtp_port must be a whole number of at least 1 and at most 65535" in (
        caught.value.message
    )


def test_text_and_paths(tmp_path: Path) -> None:
    config = Config(
        sections={"store": {"tenant": "  contoso  ", "key_file": "~/k.json"}, "data": {"dir": 7}}
    )
    assert config.text("store", "tenant") == "contoso"
    assert config.text("store", "url") is None
    assert config.path("store", "key_file") == Path.home() / "k.json"
    assert config.path("seeds", "gpg_home") is None
    assert config.path("seeds", "gpg_home", tmp_path) == tmp_path
    assert config.text("data", "dir") == "7"
    with pytest.raises(ConfigError) as caught:
        Config(sections={"store": {"tenant": True}}).text("store", "tenant")
    assert caught.value.message == "[store] tenant must be text, not True."


def test_a_secret_looking_value_is_never_echoed() -> None:
    config = Config(sections={"delivery": {"smtp_password": ["hunter2"]}})
    with pytest.raises(ConfigError) as caught:
        config.text("delivery", "smtp_password")
    assert "hunter2" not in caught.value.message and "<redacted>" in caught.value.message


def test_reading_an_undeclared_key_is_a_programming_error() -> None:
    with pytest.raises(LookupError):
        Config().boolean("web", "secure_cookie", True)


# -- unknown keys --------------------------------------------------------------------------


def test_an_unknown_key_in_the_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _file(tmp_path, "[web]\nsecure_cookie = false\n")
    assert caught.value.code == "config.unknown_key"
    assert caught.value.message == (
        f"{tmp_path / 'oathdesk.toml'}: unknown key [web] secure_cookie; "
        "did you mean secure_cookies?"
    )
    with pytest.raises(ConfigError) as listed:
        _file(tmp_path, "[store]\nwhatever = 1\n")
    assert "known keys in [store]: url, key_file, tenant, destroy_seeds_after_sync" in (
        listed.value.message
    )


def test_a_retired_key_says_what_replaced_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _file(tmp_path, '[delivery]\nstorage_dir = "/srv/files"\n')
    assert caught.value.code == "config.unknown_key"
    assert caught.value.message.endswith(
        "unknown key [delivery] storage_dir; built files are kept sealed in the database now; "
        "remove it."
    )


def test_an_unknown_key_in_a_variable_is_named() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, env={"OATHDESK_DELIVERY_LINK_HOUR": "2"})
    assert caught.value.code == "config.unknown_key"
    assert caught.value.message.startswith("OATHDESK_DELIVERY_LINK_HOUR: unknown key [delivery]")
    # variables of no known section are not configuration (OATHDESK_DEBUG, test settings)
    assert load_config(None, env={"OATHDESK_DEBUG": "1", "OATHDESK_TEST_X": "y"}).sections == {}


# -- the documentation lists exactly the declared keys -------------------------------------

DOCS = Path(__file__).parent.parent / "docs"
KEY_TABLES = {  # page -> section whose "| key | default | meaning |" table it holds
    "web.md": "web",
    "web-identity.md": "web",
    "delivery.md": "delivery",
    "notifications.md": "notify",
}


def test_every_declared_key_is_documented() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in DOCS.glob("*.md"))
    for section, keys in KEYS.items():
        for key in keys:
            pattern = rf"`{key}`|`\[{section}\] {key}`|^#? ?{key} = |OATHDESK_{section}_{key}\b"
            assert re.search(pattern, text, re.MULTILINE | re.IGNORECASE), (section, key)


@pytest.mark.parametrize(("page", "section"), KEY_TABLES.items())
def test_every_documented_key_is_declared(page: str, section: str) -> None:
    lines = (DOCS / page).read_text(encoding="utf-8").splitlines()
    start = lines.index("| key | default | meaning |")
    rows = list(itertools.takewhile(lambda line: line.startswith("|"), lines[start + 2 :]))
    documented = {name for row in rows for name in re.findall(r"`([a-z_]+)`", row.split("|")[1])}
    assert documented and documented <= set(KEYS[section])
