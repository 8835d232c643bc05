"""Configuration: ``oathdesk.toml`` plus ``OATHDESK_*`` variables (variables win).

The file is found through ``--config``, then ``OATHDESK_CONFIG``, then ``./oathdesk.toml``. Each
section is a table (``[data]``, ``[graph]``, ...); a variable ``OATHDESK_<SECTION>_<KEY>`` overrides
``<key>`` in ``[<section>]``, and ``OATHDESK_DATA_DIR`` is the data folder.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oathdesk.domain.errors import ConfigError

DEFAULT_FILE = "oathdesk.toml"
ENV_PREFIX = "OATHDESK_"
_SECRET_KEY = re.compile(r"secret|password|passphrase|token|key", re.IGNORECASE)
KNOWN_SECTIONS = ("data", "seeds", "graph", "store", "web", "emulator", "delivery")


@dataclass(frozen=True)
class Config:
    """Settings after merging the file and the environment; ``source`` says which file."""

    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: Path | None = None

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

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.sections.get(name, {}))

    def get(self, section: str, key: str, default: Any = None) -> Any:
        return self.sections.get(section, {}).get(key, default)

    @property
    def data_dir(self) -> Path:
        raw = self.get("data", "dir")
        if raw:
            return Path(str(raw)).expanduser()
        return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "oathdesk"

    @property
    def gpg_home(self) -> Path | None:
        raw = self.get("seeds", "gpg_home")
        return Path(str(raw)).expanduser() if raw else None


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: configuration file not found", code="config.not_found"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})", code="config.invalid_toml") from None
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot be read ({exc.strerror})", code="config.unreadable"
        ) from None
    for name, value in data.items():
        if name not in KNOWN_SECTIONS:
            raise ConfigError(
                f"{path}: unknown section [{name}]; known sections: {', '.join(KNOWN_SECTIONS)}",
                code="config.unknown_section",
            )
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: '{name}' must be a table ([{name}])", code="config.invalid")
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
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "CONFIG":
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        section, _, key = rest.partition("_")
        if section in KNOWN_SECTIONS and key:
            sections.setdefault(section, {})[key] = value
    return Config(sections=sections, source=source)
