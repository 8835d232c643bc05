"""Request plumbing shared by the route modules: the state, JSON bodies, the bearer check, and
Graph's error envelope (``{"error": {"code", "message", "innerError"}}``) with request ids.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from oathdesk.domain.clock import utc
from oathdesk.emulator.errors import GraphError, bad_request, unauthenticated
from oathdesk.emulator.permissions import me_refused
from oathdesk.emulator.state import EmulatorState
from oathdesk.emulator.tokens import Principal

DEVICES_PATH = "directory/authenticationMethodDevices/hardwareOathDevices"


def emu(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


def request_ids(request: Request) -> tuple[str, str]:
    rid = request.scope.setdefault("oathdesk.request_id", str(uuid.uuid4()))
    return rid, request.headers.get("client-request-id", rid)


def graph_base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/beta"


def context(request: Request, fragment: str) -> str:
    return f"{graph_base(request)}/$metadata#{fragment}"


def _is_json(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


async def body_json(request: Request) -> Any:
    """The JSON body. Graph (``/beta``) refuses a body sent without ``Content-Type:
    application/json`` with 400 ``BadRequest``; the control plane does not check the header."""
    raw = await request.body()
    if not raw:
        raise bad_request("a JSON body is required")
    if request.url.path.startswith("/beta/") and not _is_json(
        request.headers.get("content-type", "")
    ):
        raise GraphError(
            400,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set "
            "and payload is of valid JSON format.",
        )
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise bad_request("the body is not valid JSON") from None


def error_response(request: Request, exc: GraphError, now: float) -> JSONResponse:
    """Graph's error envelope; ``now`` is the emulator's time (its clock plus any offset)."""
    rid, crid = request_ids(request)
    inner: dict[str, Any] = {
        "date": utc(now).strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": rid,
        "client-request-id": crid,
    }
    if exc.inner_code:
        inner["code"] = exc.inner_code
    body = {"error": {"code": exc.graph_code, "message": exc.message, "innerError": inner}}
    headers = {"request-id": rid, "client-request-id": crid, **exc.headers}
    return JSONResponse(body, status_code=exc.status, headers=headers)


def ok(request: Request, data: Any, status: int = 200, location: str | None = None) -> Response:
    rid, crid = request_ids(request)
    headers = {"request-id": rid, "client-request-id": crid}
    if location is not None:
        headers["Location"] = location
    if status == 204:
        return Response(status_code=204, headers=headers)
    return JSONResponse(
        data,
        status_code=status,
        headers=headers,
        media_type="application/json;odata.metadata=minimal",
    )


def caller(request: Request) -> Principal:
    """Verify the bearer token against the tenant's key and the emulator's clock."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthenticated("Access token is empty.")
    state = emu(request)
    claims = state.signing_key.verify(token.strip(), state.now())
    principal = Principal.from_claims(claims)
    if principal.tenant_id != state.directory.tenant.id:
        raise unauthenticated("Access token was issued for another tenant.")
    return principal


def me(request: Request, principal: Principal) -> str:
    """The object id behind ``/me``; app tokens are refused the way Graph does."""
    if principal.is_app:
        raise me_refused()
    return principal.object_id
