"""How a serving process logs: one line per record on standard error, as text for a terminal
or as JSON for a log shipper (``[log] format``, ``--log-format``), each with the id of the
request it belongs to.

Why our own formatter and uvicorn's loggers routed through it: a shipper (Vector, Fluent Bit,
Promtail, journald) needs one JSON object per line with the same fields from every logger; the
request id ties a line to the answer's ``X-Request-ID`` and to Graph's ``client-request-id``.
Uvicorn's own access log is off: our request line names the route template, never the path
(delivery paths carry download tokens).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Literal

from oathdesk.config import Config
from oathdesk.domain import ConfigError
from oathdesk.domain.request_context import current_request_id

LogFormat = Literal["text", "json"]
FORMATS: tuple[LogFormat, ...] = ("text", "json")
LEVELS = ("debug", "info", "warning", "error")
# the request fields the access line carries (oathdesk.http.observe) and JSON lines show
REQUEST_FIELDS = ("app", "method", "route", "status", "duration_ms")
TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request id (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, request_id,
    the request fields when the record has them, and the traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id and request_id != "-":
            line["request_id"] = request_id
        for name in REQUEST_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_format(config: Config, given: str | None) -> LogFormat:
    """``--log-format``, else ``[log] format``, else text."""
    value = (given or config.text("log", "format") or "text").strip().lower()
    for known in FORMATS:
        if value == known:
            return known
    where = "--log-format" if given else config.name("log", "format")
    raise ConfigError(
        f"{where} must be text or json, not {value!r}.",
        code="config.invalid_value",
        details={"section": "log", "key": "format", "accepted": list(FORMATS)},
    )


def log_level(config: Config) -> str:
    level = (config.text("log", "level") or "info").lower()
    if level not in LEVELS:
        raise ConfigError(
            f"{config.name('log', 'level')} must be one of {', '.join(LEVELS)}, not {level!r}.",
            code="config.invalid_value",
            details={"section": "log", "key": "level", "accepted": list(LEVELS)},
        )
    return level


def logging_config(fmt: LogFormat, level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` (uvicorn's ``log_config``): every logger, uvicorn's
    included, through one handler on standard error in ``fmt``."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter} if fmt == "json" else {"format": TEXT, "datefmt": None}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"line": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "line",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            name: {"handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }
