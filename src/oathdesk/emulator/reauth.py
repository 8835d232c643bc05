"""The MFA re-prompt on ``/me``: a claims challenge when the user's last sign-in is too old.

Why: Microsoft documents that self-service ``/me`` hardware OATH operations ask for MFA again when
the user's last authentication is older than 10 minutes (graph-api.md §3 and its 2026-12
update). Graph says so the way its claims challenges do (Microsoft Learn, "Claims challenges,
claims requests and client capabilities"): 401 with ``WWW-Authenticate: Bearer realm="",
authorization_uri="…", error="insufficient_claims", claims="<base64 JSON>"``. Which claims Graph
asks for here is not documented; the emulator asks for ``{"access_token": {"max_age":
{"essential": true, "value": "600"}}}`` (our choice, docs/emulator.md), which its authorize
endpoint honours by signing the user in again, so the next token carries a fresh ``auth_time``.
The age is measured on the emulator's clock, so a test moves time instead of waiting.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from starlette.requests import Request

from oathdesk.emulator.common import emu
from oathdesk.emulator.errors import GraphError
from oathdesk.emulator.tokens import Principal

MAX_AGE = 600  # seconds since the last sign-in (with MFA) a /me operation accepts
CLAIMS: dict[str, Any] = {"access_token": {"max_age": {"essential": True, "value": str(MAX_AGE)}}}


def challenge_claims() -> str:
    """The ``claims`` value of the challenge: base64 (padded, as Entra sends it) of the JSON."""
    return base64.b64encode(json.dumps(CLAIMS, separators=(",", ":")).encode()).decode()


def require_recent_sign_in(request: Request, principal: Principal) -> None:
    """On a ``/me`` path, refuse a user token whose sign-in with MFA is older than
    :data:`MAX_AGE` on the emulator's clock (or unknown) with a claims challenge; other paths
    (``/users/{id}``) and app tokens are left to the permission checks."""
    if "/me/" not in request.url.path or principal.is_app:
        return
    state = emu(request)
    fresh = (
        principal.auth_time is not None
        and "mfa" in principal.amr
        and state.now() - principal.auth_time <= MAX_AGE
    )
    if fresh:
        return
    authorize = (
        f"{str(request.base_url).rstrip('/')}/{state.directory.tenant.id}/oauth2/v2.0/authorize"
    )
    header = (
        f'Bearer realm="", authorization_uri="{authorize}", error="insufficient_claims", '
        f'claims="{challenge_claims()}"'
    )
    raise GraphError(
        401,
        "InvalidAuthenticationToken",
        "Your last sign-in is older than 10 minutes: sign in again (with multifactor "
        "authentication) to manage your authentication methods.",
        headers={"WWW-Authenticate": header},
    )
