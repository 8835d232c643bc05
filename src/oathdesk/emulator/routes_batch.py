"""JSON batching (``POST /beta/$batch``): up to 20 requests, each run through the full emulator
(faults and throttling included) with the caller's token; ``dependsOn`` failures give 424."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message

from oathdesk.emulator.common import body_json, caller, ok
from oathdesk.emulator.errors import bad_request

MAX_REQUESTS = 20


def _check(entry: Any, seen: set[str]) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise bad_request("each batch request must be an object")
    rid, method, url = entry.get("id"), entry.get("method"), entry.get("url")
    if not isinstance(rid, str) or not rid or rid in seen:
        raise bad_request("each batch request needs a unique string 'id'")
    if not isinstance(method, str) or not isinstance(url, str) or not url:
        raise bad_request(f"batch request {rid}: 'method' and 'url' are required")
    headers = entry.get("headers") or {}
    if not isinstance(headers, dict):
        raise bad_request(f"batch request {rid}: 'headers' must be an object")
    lowered = {str(k).lower() for k in headers}
    if entry.get("body") is not None and "content-type" not in lowered:
        raise bad_request(f"batch request {rid}: a body needs a Content-Type header")
    depends = entry.get("dependsOn") or []
    if not isinstance(depends, list) or any(d not in seen for d in depends):
        raise bad_request(f"batch request {rid}: dependsOn must name earlier request ids")
    return entry


async def _run(gate: ASGIApp, outer: Request, entry: dict[str, Any]) -> dict[str, Any]:
    parts = urlsplit(entry["url"])
    path = parts.path if parts.path.startswith("/") else f"/{parts.path}"
    path = path.removeprefix("/beta")
    body = b""
    headers = [(b"authorization", outer.headers.get("authorization", "").encode())]
    for key, value in (entry.get("headers") or {}).items():
        headers.append((str(key).lower().encode(), str(value).encode()))
    if entry.get("body") is not None:
        body = json.dumps(entry["body"]).encode()
        headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        **outer.scope,
        "path": f"/beta{path}",
        "raw_path": f"/beta{path}".encode(),
        "query_string": parts.query.encode(),
        "method": entry["method"].upper(),
        "headers": headers,
    }
    scope.pop("router", None)
    scope.pop("endpoint", None)
    scope.pop("path_params", None)
    sent = False
    replies: list[Message] = []

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        replies.append(message)

    await gate(scope, receive, send)
    start = next((m for m in replies if m["type"] == "http.response.start"), None)
    done = any(m["type"] == "http.response.body" and not m.get("more_body") for m in replies)
    if start is None or not done:
        return {"id": entry["id"], "status": 503, "headers": {}, "body": None}
    raw = b"".join(m.get("body", b"") for m in replies if m["type"] == "http.response.body")
    reply_headers = {k.decode(): v.decode() for k, v in start.get("headers", [])}
    content = reply_headers.get("content-type", "")
    parsed: Any = None
    if raw:
        parsed = json.loads(raw) if "json" in content else raw.decode()
    keep = {
        k: v
        for k, v in reply_headers.items()
        if k.lower()
        in ("content-type", "retry-after", "location", "request-id", "client-request-id")
    }
    return {"id": entry["id"], "status": start["status"], "headers": keep, "body": parsed}


async def batch(request: Request) -> Response:
    caller(request)
    body = await body_json(request)
    entries = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(entries, list) or not entries:
        raise bad_request("a batch needs a non-empty 'requests' array")
    if len(entries) > MAX_REQUESTS:
        raise bad_request(f"a batch holds at most {MAX_REQUESTS} requests, not {len(entries)}")
    seen: set[str] = set()
    checked = []
    for entry in entries:
        checked.append(_check(entry, seen))
        seen.add(entry["id"])
    gate: ASGIApp = request.app.state.gate
    failed: set[str] = set()
    responses = []
    for entry in checked:
        if any(d in failed for d in entry.get("dependsOn") or []):
            result = {
                "id": entry["id"],
                "status": 424,
                "headers": {},
                "body": {
                    "error": {
                        "code": "failedDependency",
                        "message": "A request this one depends on failed.",
                    }
                },
            }
        else:
            result = await _run(gate, request, entry)
        if result["status"] >= 400:
            failed.add(entry["id"])
        responses.append(result)
    return ok(request, {"responses": responses})


routes = [Route("/beta/$batch", batch, methods=["POST"])]
