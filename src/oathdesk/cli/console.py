"""Where the CLI writes: results to stdout, messages and errors to stderr (Rich)."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def reset_consoles() -> None:
    """Rebind to the current stdout/stderr (tests swap them)."""
    global out, err
    out = Console(soft_wrap=True)
    err = Console(stderr=True, soft_wrap=True)
