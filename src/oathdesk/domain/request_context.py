"""The id of the request being served, readable by any layer without passing it down.

Why: the web apps give each incoming request an id (``X-Request-ID``) that must reach the log
lines and the Graph calls made while serving it (as ``client-request-id``, so Microsoft support
can find our calls); a context variable carries it through use cases that know nothing of HTTP,
and the layers stay apart (the web sets it, the graph layer reads it).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# An id we accept from a trusted caller: short, printable, nothing that could split a log line
# or a header (letters, digits and - _ . : only).
WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")

_current: ContextVar[str | None] = ContextVar("oathdesk_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served here, or None outside a request."""
    return _current.get()


def new_request_id() -> str:
    return str(uuid.uuid4())


def well_formed(candidate: str | None) -> bool:
    return candidate is not None and WELL_FORMED.fullmatch(candidate) is not None


@contextmanager
def request_id_scope(request_id: str) -> Iterator[str]:
    """``request_id`` is the current id inside the block, the previous one after it."""
    token = _current.set(request_id)
    try:
        yield request_id
    finally:
        _current.reset(token)
