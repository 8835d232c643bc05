"""One Graph request with every safety rule: bearer token, correlation id, shared rate limit,
retries that honour ``Retry-After``, typed errors, and never a body in a log line.

Reads (GET, PUT, DELETE) are retried on 429, 5xx and network failures. Writes that create or
activate (POST, PATCH) are retried only when Graph certainly did not act (429, 503 with
``Retry-After``, a connection never made); otherwise :class:`GraphOutcomeUnknown` tells the
caller to look at the state before sending again.
"""

from __future__ import annotations

import json
import logging
import random
import ssl
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from oathdesk.domain import Clock, SystemClock
from oathdesk.domain.request_context import current_request_id
from oathdesk.graph.auth import TokenSource
from oathdesk.graph.errors import (
    GraphError,
    GraphOutcomeUnknown,
    GraphRequestError,
    GraphUnavailable,
    claims_challenge,
    from_response,
)
from oathdesk.graph.metrics import observe
from oathdesk.graph.retry import AdaptiveRateLimiter, RetryPolicy, parse_retry_after

log = logging.getLogger("oathdesk.graph")
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Failures where the request certainly never reached the server.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def make_http_client(
    ca_file: str | None = None, *, timeout: float = 60.0, connections: int = 16
) -> httpx.Client:
    """An ``httpx.Client`` that trusts the system CAs plus ``ca_file`` and ignores proxy and
    CA variables of the environment when a CA is given (the emulator is on loopback)."""
    verify: ssl.SSLContext | bool = True
    if ca_file:
        verify = ssl.create_default_context()
        verify.load_verify_locations(cafile=ca_file)
    return httpx.Client(
        verify=verify,
        trust_env=ca_file is None,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


def odata_query(params: Mapping[str, str | int]) -> str:
    """``$filter`` and friends, percent-encoded (``+`` and spaces in serials stay intact)."""
    return "&".join(
        f"{quote(str(k), safe='$')}={quote(str(v), safe=chr(39) + '$/,()')}"
        for k, v in params.items()
    )


class GraphSession:
    """Sends requests to ``base_url`` (``https://graph.microsoft.com/beta`` or an emulator)."""

    def __init__(
        self,
        http: httpx.Client,
        tokens: TokenSource,
        base_url: str,
        *,
        policy: RetryPolicy | None = None,
        limiter: AdaptiveRateLimiter | None = None,
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.http = http
        self.tokens = tokens
        self.base_url = base_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self.clock: Clock = clock or SystemClock()
        self._sleep = sleep or self.clock.sleep  # waits on the clock that measures them
        self.limiter = limiter or AdaptiveRateLimiter(clock=self.clock, sleep=self._sleep)
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        origin = urlsplit(self.base_url)
        self._origin = (origin.scheme, origin.netloc.lower())
        self.largest_page = 0  # the most items Graph has put in one page, to plan lookups

    def close(self) -> None:
        self.http.close()
        closer = getattr(self.tokens, "close", None)
        if callable(closer):
            closer()

    def url(self, path: str, params: Mapping[str, str | int] | None = None) -> str:
        if path.startswith("https://") or path.startswith("http://"):
            url = path
        else:
            url = f"{self.base_url}/{path.lstrip('/')}"
        return f"{url}?{odata_query(params)}" if params else url

    def check_same_origin(self, url: str) -> None:
        """Refuse to send our token to a ``nextLink`` on another host."""
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc.lower()) != self._origin:
            raise GraphRequestError(
                f"Graph returned a link to another host ({parts.netloc}); not following it.",
                code="graph.request.foreign_link",
            )

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
    ) -> httpx.Response:
        """Send with retries; return the 2xx response or raise the matching :class:`GraphError`."""
        method = method.upper()
        url = self.url(path, params)
        idempotent = method in IDEMPOTENT
        content = json.dumps(body).encode() if body is not None else None
        failures = throttles = 0
        refreshed = False
        while True:
            self.limiter.acquire()
            # the id of the web request being served (X-Request-ID), so one id follows a
            # click from our logs to Microsoft's; a fresh one outside a request
            request_id = current_request_id() or str(uuid.uuid4())
            headers = {
                "Authorization": f"Bearer {self.tokens.token()}",
                "client-request-id": request_id,
                "Accept": "application/json",
            }
            if content is not None:
                headers["Content-Type"] = "application/json"
            started = self.clock.monotonic()
            try:
                response = self.http.request(method, url, content=content, headers=headers)
            except NOT_SENT as exc:
                observe(method, url, None, self.clock.monotonic() - started)
                failures += 1
                log.info("graph: %s %s: %s (not sent)", method, _path(url), type(exc).__name__)
                if failures >= self.policy.attempts:
                    raise GraphUnavailable(
                        f"{what}: cannot connect to {self._origin[1]} ({type(exc).__name__}); "
                        "check the network and base_url."
                    ) from None
                self._sleep(self.policy.backoff(failures, self._rng))
                continue
            except httpx.TransportError as exc:
                observe(method, url, None, self.clock.monotonic() - started)
                failures += 1
                log.info("graph: %s %s: %s", method, _path(url), type(exc).__name__)
                if not idempotent:
                    raise GraphOutcomeUnknown(
                        f"{what}: the connection failed before Graph answered "
                        f"({type(exc).__name__}); the change may or may not have been made."
                    ) from None
                if failures >= self.policy.attempts:
                    raise GraphUnavailable(
                        f"{what}: the connection to {self._origin[1]} kept failing "
                        f"({type(exc).__name__}); try again later."
                    ) from None
                self._sleep(self.policy.backoff(failures, self._rng))
                continue
            status = response.status_code
            observe(method, url, status, self.clock.monotonic() - started)
            rid = response.headers.get("request-id", "-")
            log.debug(  # the client-request-id Graph echoes: proof it got ours
                "graph: %s %s -> %d in %.0f ms (request-id %s, client-request-id %s)",
                method,
                _path(url),
                status,
                (self.clock.monotonic() - started) * 1000,
                rid,
                response.headers.get("client-request-id", request_id),
            )
            if status < 400:
                self.limiter.on_success()
                return response
            # a claims challenge is not cured by another token of the same kind: it is raised
            # (GraphClaimsChallenge) for the caller to sign the user in again
            if status == 401 and not refreshed and claims_challenge(response) is None:
                refreshed = True
                self.tokens.invalidate()
                continue
            if status not in RETRY_STATUSES:
                raise from_response(response, what)
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self.clock.now())
            if retry_after is not None:
                retry_after = min(retry_after, self.policy.max_retry_after)
            certain_not_done = status == 429 or (status == 503 and retry_after is not None)
            if not idempotent and not certain_not_done:
                raise GraphOutcomeUnknown(
                    f"{what}: Graph answered {status}; the change may or may not have been "
                    f"made (request-id {rid}).",
                    status=status,
                    request_id=rid,
                )
            if status == 429 or retry_after is not None:
                self.limiter.on_throttle(retry_after)
            if status == 429:
                throttles += 1
                exhausted = throttles >= self.policy.throttle_attempts
            else:
                failures += 1
                exhausted = failures >= self.policy.attempts
            log.info(
                "graph: %s %s -> %d, retry-after %s (request-id %s)",
                method,
                _path(url),
                status,
                "-" if retry_after is None else f"{retry_after:g}",
                rid,
            )
            if exhausted:
                raise from_response(response, what, retry_after=retry_after)
            if retry_after is None:  # with Retry-After the shared limiter does the waiting
                self._sleep(self.policy.backoff(max(failures, throttles), self._rng))

    def json(self, method: str, path: str, *, what: str, **kw: Any) -> dict[str, Any]:
        response = self.request(method, path, what=what, **kw)
        if response.status_code == 204 or not response.content:
            return {}
        try:
            data = response.json()
        except ValueError:
            raise GraphRequestError(
                f"{what}: Graph answered {response.status_code} with a body that is not JSON.",
                code="graph.request.bad_reply",
            ) from None
        if not isinstance(data, dict):
            raise GraphRequestError(
                f"{what}: Graph answered with JSON that is not an object.",
                code="graph.request.bad_reply",
            )
        return data

    def pages(
        self, path: str, *, what: str, params: Mapping[str, str | int] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of a collection, following ``@odata.nextLink`` exactly until it stops."""
        url: str | None = self.url(path, params)
        seen: set[str] = set()
        while url:
            if url in seen:
                raise GraphError(
                    f"{what}: Graph returned the same page link twice; stopping.",
                    code="graph.request.paging_loop",
                )
            seen.add(url)
            data = self.json("GET", url, what=what)
            items = data.get("value")
            if not isinstance(items, list):
                raise GraphRequestError(
                    f"{what}: the reply has no 'value' list.", code="graph.request.bad_reply"
                )
            self.largest_page = max(self.largest_page, len(items))
            yield from (i for i in items if isinstance(i, dict))
            link = data.get("@odata.nextLink")
            url = str(link) if link else None
            if url:
                self.check_same_origin(url)


def _path(url: str) -> str:
    """The path of a URL for logs (the query may be long; it never holds a secret anyway)."""
    return urlsplit(url).path
