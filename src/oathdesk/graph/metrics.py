"""Prometheus counters of our Graph calls: how many by method, endpoint template and status,
and how long they took.

Why here: every Graph request passes through ``GraphSession.request``, so counting there sees
them all (retries included, each attempt counted); the endpoint is reduced to a template
(``users/{id}/authentication/hardwareOathMethods/{id}``) so user names and device ids never
become label values (they would be personal data and an unbounded number of series).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from prometheus_client import Counter, Histogram

GRAPH_REQUESTS = Counter(
    "oathdesk_graph_requests",
    "Graph requests sent (each attempt), by method, endpoint template and HTTP status "
    "(error: no answer).",
    ["method", "endpoint", "status"],
)
GRAPH_LATENCY = Histogram(
    "oathdesk_graph_request_duration_seconds",
    "Time from sending a Graph request to its answer (or failure).",
    ["method", "endpoint"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)

# Segments that name a collection: the segment after one is an id, a UPN or a serial.
COLLECTIONS = frozenset(
    {
        "users",
        "hardwareOathDevices",
        "hardwareOathMethods",
        "methods",
        "groups",
        "devices",
        "organization",
        "applications",
        "servicePrincipals",
    }
)
_PLAIN = re.compile(r"[A-Za-z$]+")
_VERSION = re.compile(r"v[0-9.]+|beta")


def endpoint_template(url: str) -> str:
    """The path of ``url`` without the API version, ids replaced by ``{id}``."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    versions = [i for i, s in enumerate(segments) if _VERSION.fullmatch(s)]
    if versions:  # what comes before the version (a proxy's prefix) is not the endpoint
        segments = segments[versions[0] + 1 :]
    out: list[str] = []
    for segment in segments:
        after_collection = bool(out) and out[-1] in COLLECTIONS
        plain = _PLAIN.fullmatch(segment) is not None and segment != "me"
        out.append("{id}" if (after_collection or not plain) and segment != "me" else segment)
    return "/".join(out) or "/"


def observe(method: str, url: str, status: int | None, seconds: float) -> None:
    endpoint = endpoint_template(url)
    GRAPH_REQUESTS.labels(method, endpoint, str(status) if status else "error").inc()
    GRAPH_LATENCY.labels(method, endpoint).observe(seconds)
