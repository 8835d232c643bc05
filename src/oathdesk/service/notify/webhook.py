"""The webhook call: the event as JSON, POSTed with an HMAC-SHA256 signature of the exact body.

Why sign the body: the receiver must know the call came from this oathdesk and was not changed
on the way; it recomputes ``HMAC-SHA256(secret, body)`` over the bytes it received and compares
(docs/notifications.md shows how). ``id`` is the outbox row, the same on every retry, so a
receiver that saw it already can ignore a repeat.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx

from oathdesk.domain import Secret

SIGNATURE = "X-Oathdesk-Signature"
EVENT = "X-Oathdesk-Event"
DELIVERY = "X-Oathdesk-Delivery"


def payload(row_id: int, tenant: str, event: str, fields: dict[str, Any]) -> dict[str, Any]:
    """What the receiver gets: the event, when, the token and the user (no seed, no code)."""
    return {
        "id": f"{tenant}-{row_id}",
        "event": event,
        "at": fields.get("at", ""),
        "tenant": tenant,
        "token": {
            "serial": fields.get("serial", ""),
            "model": fields.get("model", ""),
            "manufacturer": fields.get("manufacturer", ""),
            "state": fields.get("state", ""),
        },
        "user": {
            "upn": fields.get("upn", ""),
            "id": fields.get("user_id", ""),
            "display_name": fields.get("display_name", ""),
        },
        "old_serial": fields.get("old_serial", ""),
        "days": fields.get("days", 0),
    }


def body_of(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: Secret, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``body`` under ``secret``."""
    return "sha256=" + hmac.new(secret.reveal(), body, hashlib.sha256).hexdigest()


def post(url: str, secret: Secret, document: dict[str, Any], *, timeout: float) -> str | None:
    """POST ``document``; None when the receiver answered 2xx, else what went wrong (the status
    or the error type; never the receiver's text)."""
    body = body_of(document)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "oathdesk-notify",
        EVENT: str(document["event"]),
        DELIVERY: str(document["id"]),
        SIGNATURE: signature(secret, body),
    }
    try:
        with httpx.Client(timeout=timeout, trust_env=False, follow_redirects=False) as client:
            answer = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return f"the webhook could not be reached ({type(exc).__name__})"
    if 200 <= answer.status_code < 300:
        return None
    return f"the webhook answered HTTP {answer.status_code}"
