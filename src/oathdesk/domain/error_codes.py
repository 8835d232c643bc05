"""Every error code oathdesk answers with, its kind, and the one HTTP and exit status of each kind.

Why: the web console, the delivery app and the CLI used to derive statuses from code suffixes,
three times, and disagreed. Here a code names a kind (``inventory.serial_conflict`` is a
CONFLICT), a kind has exactly one HTTP status and one exit status, and everyone asks this module.
docs/errors.md lists the same codes; tests/domain/test_error_codes.py keeps the three in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from oathdesk.domain.error_registry import REGISTRY
from oathdesk.domain.errors import ErrorKind, OathdeskError


@dataclass(frozen=True)
class KindStatus:
    """The answers of one kind: HTTP status, CLI exit status (cli/exits.py ``Exit``), summary."""

    http: int
    exit: int
    summary: str


# THE table: one HTTP status and one exit status per kind. Exit numbers are cli.exits.Exit's.
KIND_STATUS: Mapping[ErrorKind, KindStatus] = MappingProxyType(
    {
        ErrorKind.INVALID_INPUT: KindStatus(400, 3, "the input breaks a rule; nothing was done"),
        ErrorKind.USAGE: KindStatus(400, 2, "options or arguments do not fit together"),
        ErrorKind.INVALID_REQUEST: KindStatus(422, 2, "request fields do not validate"),
        ErrorKind.METHOD_NOT_ALLOWED: KindStatus(405, 2, "this address does not take that method"),
        ErrorKind.FILE: KindStatus(400, 6, "a file could not be read or written"),
        ErrorKind.DECRYPTION: KindStatus(400, 4, "wrong or missing password, key or passphrase"),
        ErrorKind.ARCHIVE: KindStatus(400, 5, "a ZIP or PGP envelope cannot be opened or made"),
        ErrorKind.CONFIG: KindStatus(400, 7, "the configuration is wrong or incomplete"),
        ErrorKind.NOT_FOUND: KindStatus(404, 8, "the thing asked for does not exist"),
        ErrorKind.GONE: KindStatus(410, 8, "the thing asked for existed but is no longer usable"),
        ErrorKind.CONFLICT: KindStatus(409, 10, "the current state does not allow this now"),
        ErrorKind.UNAUTHENTICATED: KindStatus(401, 3, "sign-in needed, or the sign-in failed"),
        ErrorKind.FORBIDDEN: KindStatus(403, 3, "signed in, but not allowed to do this"),
        ErrorKind.THROTTLED: KindStatus(429, 9, "too many attempts or requests; wait, then retry"),
        ErrorKind.UNAVAILABLE: KindStatus(503, 9, "a service needed is not ready; try again"),
        ErrorKind.REMOTE: KindStatus(400, 9, "Entra or the mail server refused the request"),
        ErrorKind.INTEGRITY: KindStatus(500, 9, "stored data does not verify or cannot be opened"),
        ErrorKind.INTERNAL: KindStatus(500, 1, "a bug in oathdesk; report it"),
    }
)

# A code nobody registered (only possible outside src/, which a test checks) answers as the
# catch-all of old: 400 and exit 3.
FALLBACK = ErrorKind.INVALID_INPUT


@dataclass(frozen=True)
class CodeInfo:
    """One registered code: its kind and a line saying what it means and what to do."""

    kind: ErrorKind
    meaning: str


def _flatten() -> dict[str, CodeInfo]:
    codes: dict[str, CodeInfo] = {}
    for kind, block in REGISTRY.items():
        for code, meaning in block.items():
            if code in codes:
                raise ValueError(f"error code {code} is registered twice")
            codes[code] = CodeInfo(kind, meaning)
    return dict(sorted(codes.items()))


CODES: Mapping[str, CodeInfo] = MappingProxyType(_flatten())


def kind_of(code_or_error: str | OathdeskError) -> ErrorKind:
    """The kind of a code; for an error with an unregistered code, the kind of the nearest class
    default code (a ``ConfigError`` stays a CONFIG), else the fallback."""
    if isinstance(code_or_error, str):
        info = CODES.get(code_or_error)
        return info.kind if info else FALLBACK
    if code_or_error.code in CODES:
        return CODES[code_or_error.code].kind
    for klass in type(code_or_error).__mro__:
        default = klass.__dict__.get("code")
        if isinstance(default, str) and default in CODES:
            return CODES[default].kind
    return FALLBACK


def http_status(code_or_error: str | OathdeskError) -> int:
    """The HTTP status that answers this code (or error), in the console and the delivery app."""
    return KIND_STATUS[kind_of(code_or_error)].http


def exit_status(code_or_error: str | OathdeskError) -> int:
    """The CLI exit status for this code (or error): one of cli.exits.Exit's numbers."""
    return KIND_STATUS[kind_of(code_or_error)].exit
