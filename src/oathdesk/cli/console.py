"""Where the CLI writes: results to stdout, messages and errors to stderr (Rich)."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from rich.console import Console
from rich.rule import Rule

PIPED_WIDTH = 1000  # a table piped to a file or a pager keeps its natural width
RULE_WIDTH = 100


def _out() -> Console:
    """Standard output: the terminal's width, or (piped, no ``COLUMNS``) wide enough that a
    table is never cut or wrapped at Rich's default of 80 columns."""
    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(soft_wrap=True, width=PIPED_WIDTH if piped else None)


out = _out()
err = Console(stderr=True, soft_wrap=True)


def rule(title: str) -> None:
    """A heading line on standard output, never wider than ``RULE_WIDTH``."""
    out.print(Rule(title), width=min(out.width, RULE_WIDTH))


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def reset_consoles() -> None:
    """Rebind to the current stdout/stderr (tests swap them)."""
    global out, err
    out = _out()
    err = Console(stderr=True, soft_wrap=True)
