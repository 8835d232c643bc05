"""Build a ready :class:`GraphClient` from settings: the one place MSAL, httpx and the CA meet."""

from __future__ import annotations

from collections.abc import Callable

from oathdesk.domain import Clock
from oathdesk.graph.auth import MsalTokenSource
from oathdesk.graph.client import GraphClient
from oathdesk.graph.retry import RetryPolicy
from oathdesk.graph.session import GraphSession, make_http_client
from oathdesk.graph.settings import GraphSettings


def connect(
    settings: GraphSettings,
    *,
    device_code: bool = False,
    prompt: Callable[[str], None] | None = None,
    timeout: float = 60.0,
    connections: int = 16,
    policy: RetryPolicy | None = None,
    clock: Clock | None = None,
) -> GraphClient:
    """A client for real Entra or the emulator (only URLs and the trusted CA differ); token
    lifetimes, Retry-After dates, the rate limit and latencies are read from ``clock``."""
    http = make_http_client(
        str(settings.ca_file) if settings.ca_file else None,
        timeout=timeout,
        connections=connections,
    )
    tokens = MsalTokenSource(settings, device_code=device_code, prompt=prompt, clock=clock)
    return GraphClient(GraphSession(http, tokens, settings.base_url, policy=policy, clock=clock))
