"""Prometheus metrics of a web app: requests by route template, method and status, their
latency, our own 429s by limiter, and the inventory's tokens and jobs by state read from the
database at scrape time; ``/metrics`` answers only who may read them.

Why route templates (``/tokens/{serial}``) and not paths: a path holds serials, user names and
delivery link tokens; as label values they would leak them and grow without bound. Why counts
at scrape time: a gauge kept in memory would be wrong on every node but the one that changed a
token; two indexed ``GROUP BY`` queries per scrape are cheap and right on every node.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from oathdesk.domain import OathdeskError, Secret
from oathdesk.service import Inventory
from oathdesk.service.health import state_counts_of

HTTP_REQUESTS = Counter(
    "oathdesk_http_requests",
    "HTTP requests answered, by app, method, route template and status.",
    ["app", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "oathdesk_http_request_duration_seconds",
    "Time to answer an HTTP request, by app, method and route template.",
    ["app", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
THROTTLED = Counter(
    "oathdesk_throttled_requests",
    "Requests we refused with 429, by app and limiter (the error code that refused them).",
    ["app", "limiter"],
)
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class MetricsAccess:
    """Who may read ``/metrics``: off entirely, or a peer in ``allow`` that (when ``token`` is
    set) also sends ``Authorization: Bearer <token>``; by default loopback only."""

    enabled: bool = True
    allow: tuple[Network, ...] = LOOPBACK
    token: Secret | None = field(default=None, repr=False)

    def allows_peer(self, address: str | None) -> bool:
        try:
            ip = ipaddress.ip_address((address or "").split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.allow)

    def allows_token(self, authorization: str | None) -> bool:
        if self.token is None:
            return True
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(given.strip().encode(), self.token.reveal())


def parse_networks(text: str) -> tuple[Network, ...]:
    """``"127.0.0.1, 10.0.0.0/8"`` as networks; ``any`` is every address. Raises ValueError."""
    if text.strip().lower() == "any":
        return (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))
    parts = [p.strip() for p in text.split(",") if p.strip()]
    return tuple(ipaddress.ip_network(p, strict=False) for p in parts)


class InventoryCollector(Collector):
    """Tokens by state and jobs by kind and state, asked of the database on each scrape;
    ``oathdesk_database_up`` is 0 (and the counts absent) when it does not answer."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "oathdesk_database_up", "1 when the database answered the metrics scrape."
        )
        try:
            counts = state_counts_of(self.inventory)
        except (SQLAlchemyError, OathdeskError):
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        tokens = GaugeMetricFamily(
            "oathdesk_tokens", "Tokens of the inventory by state.", labels=["state"]
        )
        for state, count in sorted(counts.tokens.items()):
            tokens.add_metric([state], count)
        yield tokens
        jobs = GaugeMetricFamily(
            "oathdesk_jobs", "Jobs by kind (sync, import, ...) and state.", labels=["kind", "state"]
        )
        for (kind, state), count in sorted(counts.jobs.items()):
            jobs.add_metric([kind, state], count)
        yield jobs


def app_registry(inventory: Inventory) -> CollectorRegistry:
    """The registry of one app's own collectors (the process-wide ones are on ``REGISTRY``)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(InventoryCollector(inventory))
    return registry


def exposition(own: CollectorRegistry) -> bytes:
    """The process's metrics (HTTP, Graph, SIEM, Python's) followed by the app's own."""
    return b"".join(_parts(own))


def _parts(own: CollectorRegistry) -> Iterator[bytes]:
    yield generate_latest(REGISTRY)
    yield generate_latest(own)
