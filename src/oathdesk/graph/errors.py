"""Typed Graph failures, so callers branch on a class and a stable code, never on a message.

Every error carries Graph's own ``error.code`` and the ``request-id`` to quote to Microsoft
support; each code's kind (domain/error_registry.py) gives its exit and HTTP status (most are
exit 9; ``graph.not_found`` 8, ``graph.conflict`` 10). Messages never contain request bodies, so
no seed can leak through them.

    GraphError                  graph.error
    ├── GraphAuthError          graph.auth           (sign-in failed, 401, 403)
    │   └── GraphClaimsChallenge graph.auth.claims_challenge (401 insufficient_claims: sign in
    │                                                        again with ``claims``)
    ├── GraphNotFound           graph.not_found      (404, unknown serial or user)
    ├── GraphConflict           graph.conflict       (409: already assigned, duplicate serial)
    ├── GraphThrottled          graph.throttled      (429 after every retry; ``retry_after``)
    ├── GraphRequestError       graph.request        (400 and other refusals)
    ├── GraphUnavailable        graph.unavailable    (5xx or network failure after every retry)
    └── GraphOutcomeUnknown     graph.outcome_unknown (a write whose result we cannot know)
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

import httpx

from oathdesk.domain import OathdeskError
from oathdesk.domain.wording import clause

_MAX_MESSAGE = 300
_CLAIMS_RE = re.compile(r'claims="([^"]*)"')


class GraphError(OathdeskError):
    """A Graph call failed; ``graph_code`` and ``request_id`` come from Graph's reply."""

    code = "graph.error"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        graph_code: str | None = None,
        request_id: str | None = None,
        code: str | None = None,
    ) -> None:
        details = {"status": status, "graph_code": graph_code, "request_id": request_id}
        super().__init__(message, code=code, details=details)
        self.status = status
        self.graph_code = graph_code
        self.request_id = request_id


class GraphAuthError(GraphError):
    code = "graph.auth"


class GraphClaimsChallenge(GraphAuthError):
    """Graph wants a token with more claims (``WWW-Authenticate: Bearer ...
    error="insufficient_claims", claims="<base64 JSON>"``): for self-service ``/me`` calls, a
    sign-in (with MFA) fresher than 10 minutes. ``claims`` is the decoded JSON to send as the
    ``claims`` request parameter (MSAL's ``claims_challenge``) when signing the user in again;
    it names requirements, never a secret."""

    code = "graph.auth.claims_challenge"

    def __init__(self, message: str, *, claims: str, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.claims = claims
        self.details["claims"] = claims


def claims_challenge(response: httpx.Response) -> str | None:
    """The decoded ``claims`` of a 401 claims challenge (RFC 6750 header, ``error=
    "insufficient_claims"``), or None when the 401 is something else."""
    if response.status_code != 401:
        return None
    header = response.headers.get("www-authenticate", "")
    if 'error="insufficient_claims"' not in header:
        return None
    found = _CLAIMS_RE.search(header)
    if found is None:
        return None
    raw = found.group(1).strip()
    try:
        decoded = base64.b64decode(raw + "=" * (-len(raw) % 4), altchars=b"-_")
        text = decoded.decode()
        json.loads(text)
    except (binascii.Error, ValueError):
        return None
    return text


class GraphNotFound(GraphError):
    code = "graph.not_found"


class GraphConflict(GraphError):
    code = "graph.conflict"


class GraphRequestError(GraphError):
    code = "graph.request"


class GraphUnavailable(GraphError):
    code = "graph.unavailable"


class GraphOutcomeUnknown(GraphError):
    """A create, bulk or activate got no definite answer: look at the state before retrying."""

    code = "graph.outcome_unknown"


class GraphThrottled(GraphError):
    code = "graph.throttled"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after
        self.details["retry_after"] = retry_after


def error_body(response: httpx.Response) -> tuple[str | None, str, str | None]:
    """(Graph code, Graph message, request id) from Graph's envelope and headers, tolerantly."""
    code: str | None = None
    message = ""
    request_id = response.headers.get("request-id")
    try:
        data = json.loads(response.content) if response.content else None
    except ValueError:
        data = None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        code = str(error["code"]) if error.get("code") is not None else None
        message = str(error.get("message") or "")
        inner = error.get("innerError") or error.get("innererror")
        if isinstance(inner, dict) and not request_id:
            found = inner.get("request-id") or inner.get("requestId")
            request_id = str(found) if found else None
    elif isinstance(error, str):  # OAuth-style {"error": "...", "error_description": "..."}
        code = error
        message = str(data.get("error_description") or "") if isinstance(data, dict) else ""
    return code, message[:_MAX_MESSAGE], request_id


def from_response(
    response: httpx.Response, what: str, *, retry_after: float | None = None
) -> GraphError:
    """The most specific :class:`GraphError` for a failed response to ``what`` (an action)."""
    status = response.status_code
    graph_code, graph_message, request_id = error_body(response)
    shown = f": {clause(graph_message)}" if graph_message else ""
    rid = f" (request-id {request_id})" if request_id else ""
    kw: dict[str, Any] = {"status": status, "graph_code": graph_code, "request_id": request_id}
    claims = claims_challenge(response)
    if claims is not None:
        return GraphClaimsChallenge(
            f"{what} needs a fresh sign-in: Graph asks the user to sign in again (with "
            f"multifactor authentication){shown}{rid}.",
            claims=claims,
            **kw,
        )
    if status in (401, 403):
        hint = (
            "the app's credentials or token were refused"
            if status == 401
            else "the app or user lacks the permission or role (see docs/entra.md)"
        )
        return GraphAuthError(f"{what} refused with {status}: {hint}{shown}{rid}.", **kw)
    if status == 404:
        return GraphNotFound(f"{what}: not found{shown}{rid}.", **kw)
    if status == 409:
        return GraphConflict(f"{what}: conflict{shown}{rid}.", **kw)
    if status == 429:
        return GraphThrottled(
            f"{what}: still throttled by Graph after every retry; try again later{rid}.",
            retry_after=retry_after,
            **kw,
        )
    if status >= 500:
        return GraphUnavailable(
            f"{what}: Graph answered {status} after every retry; try again later{shown}{rid}.",
            **kw,
        )
    return GraphRequestError(f"{what} refused with {status}{shown}{rid}.", **kw)
