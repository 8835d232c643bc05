"""How an audit entry looks to a SIEM: an RFC 5424 syslog message (with the entry's fields as
structured data and the whole entry as JSON in the message) or one JSON line.

Why both carry the hashes: a SIEM copy that keeps ``hash`` and ``prev_hash`` can be re-checked
against the chain (``oathdesk audit verify``) and proves that no entry was left out. Why a guard
here: audit details are secret-free by construction (``canonical_details`` refuses a
``Secret``), and this is the last place to make sure before a copy leaves the process.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

# RFC 5424 §6.2.1: facility codes by name; every audit entry is sent with severity notice (5).
FACILITIES = {
    "kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
    "uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11, "ntp": 12, "audit": 13, "alert": 14,
    "clock": 15, "local0": 16, "local1": 17, "local2": 18, "local3": 19, "local4": 20,
    "local5": 21, "local6": 22, "local7": 23,
}  # fmt: skip
NOTICE = 5
# Our SD-ID: a name@<private enterprise number>; 32473 is the number RFC 5612 sets aside for
# documentation and examples, fit until an organisation substitutes its own in its SIEM rules.
SD_ID = "oathdesk@32473"
SD_PARAMS = ("chain", "seq", "tenant", "actor", "action", "subject", "hash", "prev_hash")
BOM = b"\xef\xbb\xbf"
# Keys that would name a secret in audit details; none is ever written (see the module doc).
SECRET_KEY = re.compile(
    r"secret|password|passphrase|temporary_access|^seed$|^seeds$|^tap$|^otp$|^code$", re.I
)


class SecretInAudit(ValueError):
    """An audit record whose details name a secret; it is never sent."""


def check_secret_free(record: Mapping[str, Any]) -> None:
    """Raise :class:`SecretInAudit` when any key of the details (at any depth) names a secret."""

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                if SECRET_KEY.search(str(key)):
                    raise SecretInAudit(f"audit details name a secret ({key})")
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(record.get("details"))


def json_line(chain: str, record: Mapping[str, Any]) -> str:
    """The record as one JSON line (the export's fields plus ``chain``), newline included."""
    return json.dumps({"chain": chain, **record}, sort_keys=True, ensure_ascii=False) + "\n"


def _header_field(value: str | None, limit: int) -> str:
    """A header field: printable US-ASCII without spaces, at most ``limit`` characters; ``-``
    when empty (RFC 5424 §6: NILVALUE)."""
    text = "".join(c for c in (value or "") if 33 <= ord(c) <= 126)[:limit]
    return text or "-"


def sd_escape(value: str) -> str:
    """A PARAM-VALUE: ``"``, ``\\`` and ``]`` escaped with a backslash (RFC 5424 §6.3.3)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def syslog_message(
    chain: str,
    record: Mapping[str, Any],
    *,
    facility: int,
    hostname: str,
    app_name: str,
    procid: str,
) -> bytes:
    """``<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] BOM JSON`` (RFC 5424): MSGID is
    the action, the structured data carries the fields a SIEM rule filters on, the message the
    whole record."""
    pri = facility * 8 + NOTICE
    at = datetime.fromisoformat(str(record["at"]).replace("Z", "+00:00"))
    timestamp = at.isoformat(timespec="microseconds").replace("+00:00", "Z")
    params = " ".join(
        f'{name}="{sd_escape(str(value))}"'
        for name in SD_PARAMS
        if (value := (chain if name == "chain" else record.get(name))) is not None
    )
    header = " ".join(
        (
            f"<{pri}>1",
            timestamp,
            _header_field(hostname, 255),
            _header_field(app_name, 48),
            _header_field(procid, 128),
            _header_field(str(record.get("action", "")), 32),
            f"[{SD_ID} {params}]",
        )
    )
    body = json.dumps({"chain": chain, **record}, sort_keys=True, ensure_ascii=False)
    return header.encode("utf-8") + b" " + BOM + body.encode("utf-8")
