"""Graph-shaped failures: each carries the HTTP status and Graph error code a real client would see.

The emulator's rules raise these from the state object, which knows nothing about HTTP; the app
turns them into Graph's ``{"error": {"code", "message", "innerError"}}`` envelope in one place.
"""

from __future__ import annotations

from oathdesk.domain import OathdeskError


class GraphError(OathdeskError):
    """A request the emulated service refuses; ``graph_code`` is the wire code, ``code`` ours."""

    as_sentence = False  # Graph's own wording, as Graph sends it

    code = "emulator.request_refused"

    def __init__(
        self,
        status: int,
        graph_code: str,
        message: str,
        *,
        inner_code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, code=f"emulator.{graph_code}")
        self.status = status
        self.graph_code = graph_code
        self.inner_code = inner_code
        self.headers = dict(headers or {})


def bad_request(message: str, *, inner_code: str | None = None) -> GraphError:
    return GraphError(400, "badRequest", message, inner_code=inner_code)


def not_found(message: str) -> GraphError:
    return GraphError(404, "itemNotFound", message)


def conflict(message: str) -> GraphError:
    return GraphError(409, "conflict", message)


def denied(message: str) -> GraphError:
    return GraphError(403, "Authorization_RequestDenied", message)


def unauthenticated(message: str) -> GraphError:
    challenge = 'Bearer realm="", client_id="00000003-0000-0000-c000-000000000000"'
    return GraphError(
        401, "InvalidAuthenticationToken", message, headers={"WWW-Authenticate": challenge}
    )


class OAuthError(OathdeskError):
    """A token-endpoint refusal, serialised as Entra's STS does (``error``, ``AADSTS`` codes)."""

    as_sentence = False  # Graph's own wording, as Graph sends it

    code = "emulator.oauth_refused"

    def __init__(self, status: int, error: str, aadsts: int, description: str) -> None:
        super().__init__(f"AADSTS{aadsts}: {description}", code=f"emulator.oauth.{error}")
        self.status = status
        self.error = error
        self.aadsts = aadsts
        self.description = description
