"""Configuration: ``oathdesk.toml`` plus ``OATHDESK_*`` variables (variables win), read through
typed accessors.

The file is found through ``--config``, then ``OATHDESK_CONFIG``, then ``./oathdesk.toml``. Each
section is a table (``[data]``, ``[graph]``, ...); a variable ``OATHDESK_<SECTION>_<KEY>`` overrides
``<key>`` in ``[<section>]``, and ``OATHDESK_DATA_DIR`` is the data folder.

Why typed accessors (``config.boolean``, ``integer``, ``number``, ``duration``, ``text``,
``path``): every app and command reads a key the same way, so a mistyped value stops with a
``config.invalid_value`` error naming ``[section] key`` and what is accepted, instead of quietly
becoming a default somewhere. Every key is declared in :data:`KEYS`; an undeclared key in the file
or a variable is ``config.unknown_key``.
"""

from __future__ import annotations

import contextlib
import difflib
import math
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, overload

from oathdesk.domain.errors import ConfigError

DEFAULT_FILE = "oathdesk.toml"
ENV_PREFIX = "OATHDESK_"
_SECRET_KEY = re.compile(r"secret|password|passphrase|token|key", re.IGNORECASE)
_WHOLE = re.compile(r"[+-]?[0-9]+")

# Every key oathdesk reads, by section (docs/cli.md "Configuration" and the pages it links).
KEYS: dict[str, tuple[str, ...]] = {
    "data": ("dir",),
    "seeds": ("gpg_home",),
    "graph": (
        "tenant_id",
        "client_id",
        "client_secret",
        "certificate_file",
        "authority_host",
        "base_url",
        "ca_file",
        "emulator",
    ),
    "store": (
        "url",
        "key_file",
        "tenant",
        "destroy_seeds_after_sync",
        "audit_key_file",
        "audit_checkpoint_file",
    ),
    "web": (
        "secure_cookies",
        "session_minutes",
        "idle_minutes",
        "signin_max_failures",
        "signin_address_failures",
        "signin_lockout_minutes",
        "secret_key_file",
        "entra_client_id",
        "entra_client_secret",
        "entra_client_secret_file",
        "entra_tenant",
        "entra_authority_host",
        "entra_ca_file",
        "entra_redirect_uri",
        "entra_admin_role",
        "entra_helpdesk_role",
        "entra_auditor_role",
        "entra_delivery_role",
        "alert_low_stock",
        "alert_unactivated_days",
    ),
    "emulator": (),
    "metrics": ("enabled", "allow", "token"),
    "log": ("format", "level", "trust_request_id"),
    "siem": (
        "syslog",
        "syslog_facility",
        "syslog_app_name",
        "syslog_hostname",
        "json_file",
        "json_max_bytes",
        "json_backups",
    ),
    "handout": ("activate_from_seed", "workers", "rate"),
    "delivery": (
        "base_url",
        "link_hours",
        "downloads",
        "smtp_host",
        "smtp_port",
        "smtp_from",
        "smtp_starttls",
        "smtp_user",
        "smtp_password",
        "mail_dir",
        "secure_cookies",
        "session_minutes",
        "idle_minutes",
        "secret_key_file",
    ),
    "notify": (
        "enabled",
        "smtp_host",
        "smtp_port",
        "smtp_security",
        "smtp_user",
        "smtp_password",
        "smtp_password_file",
        "smtp_from",
        "smtp_timeout_seconds",
        "smtp_ca_file",
        "mail_dir",
        "portal_url",
        "helpdesk_contact",
        "templates_dir",
        "webhook_url",
        "webhook_secret",
        "webhook_secret_file",
        "webhook_timeout_seconds",
        "max_attempts",
        "retry_seconds",
        "reminder_days",
        "reminder_interval_days",
    ),
}
KNOWN_SECTIONS = tuple(KEYS)
TRUE = ("true", "1", "yes", "on")
FALSE = ("false", "0", "no", "off")
BOOLEAN_SPELLINGS = "true/false, 1/0, yes/no, on/off, in any case"
Unit = Literal["seconds", "minutes", "hours", "days"]


@dataclass(frozen=True)
class Config:
    """Settings after merging the file and the environment; ``source`` says which file and
    ``from_env`` which ``(section, key)`` pairs a variable set (so errors name the variable).

    A value that is empty or only spaces counts as not set: the key's default applies.
    """

    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: Path | None = None
    from_env: frozenset[tuple[str, str]] = frozenset()

    def __repr__(self) -> str:
        """Keys and where they came from; values of secret-looking keys are never shown."""
        shown = {
            name: {
                key: "<redacted>" if _SECRET_KEY.search(key) else value
                for key, value in table.items()
            }
            for name, table in self.sections.items()
        }
        return f"Config(sections={shown!r}, source={self.source!r})"

    def get(self, section: str, key: str, default: Any = None) -> Any:
        """The raw value (TOML types from the file, text from variables); code reads the typed
        accessors below instead."""
        return self.sections.get(section, {}).get(key, default)

    # -- typed accessors -------------------------------------------------------------------

    @overload
    def text(self, section: str, key: str) -> str | None: ...
    @overload
    def text(self, section: str, key: str, default: str) -> str: ...
    def text(self, section: str, key: str, default: str | None = None) -> str | None:
        """The value as text with surrounding spaces removed."""
        value = self._raw(section, key)
        if value is None:
            return default
        if isinstance(value, bool | dict | list):
            raise self._invalid(section, key, value, "must be text")
        return str(value).strip()

    @overload
    def path(self, section: str, key: str) -> Path | None: ...
    @overload
    def path(self, section: str, key: str, default: Path) -> Path: ...
    def path(self, section: str, key: str, default: Path | None = None) -> Path | None:
        """A file or folder name (``~`` expanded)."""
        value = self.text(section, key)
        return Path(value).expanduser() if value is not None else default

    def boolean(self, section: str, key: str, default: bool) -> bool:
        """A TOML boolean or one of true/false, 1/0, yes/no, on/off in any case."""
        value = self._raw(section, key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
            return value.strip().lower() in TRUE
        problem = f"must be true or false ({BOOLEAN_SPELLINGS})"
        raise self._invalid(section, key, value, problem, TRUE + FALSE)

    def integer(
        self, section: str, key: str, default: int, *, minimum: int = 1, maximum: int | None = None
    ) -> int:
        """A whole number within ``minimum``..``maximum``."""
        value = self._raw(section, key)
        if value is None:
            return default
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
            number = int(value.strip())
        upper = f" and at most {maximum}" if maximum is not None else ""
        if number is None or number < minimum or (maximum is not None and number > maximum):
            raise self._invalid(
                section, key, value, f"must be a whole number of at least {minimum}{upper}"
            )
        return number

    def number(self, section: str, key: str, default: float) -> float:
        """A positive number (whole or decimal)."""
        value = self._raw(section, key)
        if value is None:
            return default
        number = _positive(value)
        if number is None:
            raise self._invalid(section, key, value, "must be a positive number")
        return number

    def duration(self, section: str, key: str, default: timedelta, *, unit: Unit) -> timedelta:
        """A positive number of ``unit`` (the key's name says which: ``session_minutes``)."""
        value = self._raw(section, key)
        if value is None:
            return default
        number = _positive(value)
        if number is None:
            raise self._invalid(section, key, value, f"must be a positive number of {unit}")
        try:
            return timedelta(**{unit: number})
        except OverflowError:
            raise self._invalid(section, key, value, f"is too many {unit}") from None

    # -- well-known places -----------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        """``[data] dir``, else ``$XDG_DATA_HOME/oathdesk`` (``~/.local/share/oathdesk``)."""
        folder = self.path("data", "dir")
        if folder is not None:
            return folder
        return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "oathdesk"

    @property
    def gpg_home(self) -> Path | None:
        return self.path("seeds", "gpg_home")

    # -- helpers ---------------------------------------------------------------------------

    def _raw(self, section: str, key: str) -> Any:
        if key not in KEYS.get(section, ()):
            # a programming mistake, not a user's: every key read must be declared in KEYS
            raise LookupError(f"[{section}] {key} is not declared in oathdesk.config.KEYS")
        value = self.sections.get(section, {}).get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return value

    def name(self, section: str, key: str) -> str:
        """``[section] key``, and the variable when one set it: how messages name a key."""
        named = f"[{section}] {key}"
        if (section, key) in self.from_env:
            named += f" (from {variable(section, key)})"
        return named

    def _invalid(
        self, section: str, key: str, value: Any, problem: str, accepted: Sequence[str] = ()
    ) -> ConfigError:
        shown = "<redacted>" if _SECRET_KEY.search(key) else _short(value)
        details: dict[str, Any] = {"section": section, "key": key}
        if accepted:
            details["accepted"] = list(accepted)
        if (section, key) in self.from_env:
            details["variable"] = variable(section, key)
        return ConfigError(
            f"{self.name(section, key)} {problem}, not {shown}.",
            code="config.invalid_value",
            details=details,
        )


def variable(section: str, key: str) -> str:
    """The variable that overrides ``[section] key``: ``OATHDESK_<SECTION>_<KEY>``."""
    return f"{ENV_PREFIX}{section.upper()}_{key.upper()}"


def _positive(value: Any) -> float | None:
    """``value`` as a finite number above zero, else None (booleans are not numbers)."""
    number = -1.0
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):
            number = float(value.strip())
    return number if math.isfinite(number) and number > 0 else None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


RETIRED = {
    ("delivery", "storage_dir"): "built files are kept sealed in the database now; remove it",
}


def _unknown_key(where: str, section: str, key: str) -> ConfigError:
    known = KEYS[section]
    close = difflib.get_close_matches(key, known, n=1)
    if (section, key) in RETIRED:
        hint = RETIRED[(section, key)]
    elif close:
        hint = f"did you mean {close[0]}"
    elif known:
        hint = f"known keys in [{section}]: {', '.join(known)}"
    else:
        hint = f"[{section}] takes no keys"
    return ConfigError(
        f"{where}: unknown key [{section}] {key}; {hint}" + ("?" if close else "."),
        code="config.unknown_key",
        details={"section": section, "key": key},
    )


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: configuration file not found.", code="config.not_found"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}).", code="config.invalid_toml") from None
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot be read ({exc.strerror}).", code="config.unreadable"
        ) from None
    for name, value in data.items():
        if name not in KNOWN_SECTIONS:
            raise ConfigError(
                f"{path}: unknown section [{name}]; known sections: {', '.join(KNOWN_SECTIONS)}.",
                code="config.unknown_section",
            )
        if not isinstance(value, dict):
            raise ConfigError(
                f"{path}: '{name}' must be a table ([{name}]).", code="config.invalid"
            )
        for key in value:
            if key not in KEYS[name]:
                raise _unknown_key(str(path), name, key)
    return data


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    env = os.environ if env is None else env
    source: Path | None = path
    if source is None and env.get(ENV_PREFIX + "CONFIG"):
        source = Path(env[ENV_PREFIX + "CONFIG"])
    if source is None and Path(DEFAULT_FILE).is_file():
        source = Path(DEFAULT_FILE)
    sections: dict[str, dict[str, Any]] = {}
    if source is not None:
        sections = {k: dict(v) for k, v in _read_file(source).items()}
    from_env: set[tuple[str, str]] = set()
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "CONFIG":
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        section, _, key = rest.partition("_")
        if section in KNOWN_SECTIONS and key:
            if key not in KEYS[section]:
                raise _unknown_key(name, section, key)
            sections.setdefault(section, {})[key] = value
            from_env.add((section, key))
    return Config(sections=sections, source=source, from_env=frozenset(from_env))
