"""The operations endpoints of both web apps: ``/healthz`` (the process answers), ``/readyz``
(database, migrations at head, Graph reachable), ``/metrics`` (Prometheus), and the middleware
that gives every request an id, a log line and its metrics.

Why outside the apps' routers: a load balancer and a scraper must reach them without signing
in, without a throttle and without an audit entry, and both apps must answer them the same way;
the readiness answer names each check and a short reason, never a host or a secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, PlainTextResponse, Response

from oathdesk.config import Config
from oathdesk.domain import ConfigError, Secret
from oathdesk.http.metrics import (
    LOOPBACK,
    MetricsAccess,
    app_registry,
    exposition,
    parse_networks,
)
from oathdesk.http.observe import ObserveRequests
from oathdesk.service import Inventory
from oathdesk.service.health import liveness, readiness

METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class Operations:
    """``[metrics]`` (who may scrape) and ``[log] trust_request_id`` (take the proxy's
    ``X-Request-ID``) of one node; the defaults serve loopback scrapes only."""

    metrics: MetricsAccess = field(default_factory=MetricsAccess)
    trust_request_id: bool = True

    @classmethod
    def from_config(cls, config: Config) -> Operations:
        allow_text = config.text("metrics", "allow")
        try:
            allow = parse_networks(allow_text) if allow_text is not None else LOOPBACK
        except ValueError:
            raise ConfigError(
                f"{config.name('metrics', 'allow')} must be comma-separated addresses or "
                f"networks (127.0.0.1, 10.0.0.0/8, ::1) or any, not {allow_text!r}.",
                code="config.invalid_value",
                details={"section": "metrics", "key": "allow"},
            ) from None
        token = config.text("metrics", "token")
        access = MetricsAccess(
            enabled=config.boolean("metrics", "enabled", True),
            allow=allow,
            token=Secret(token.encode()) if token else None,
        )
        return cls(metrics=access, trust_request_id=config.boolean("log", "trust_request_id", True))


def install_operations(
    app: FastAPI, inventory: Inventory, *, name: str, operations: Operations | None = None
) -> None:
    """Put the probes, ``/metrics`` and the request middleware on ``app`` (call it after the
    kit's ``install``, so the middleware is the outermost and times everything)."""
    ops = operations or Operations()
    app.state.app_name = name
    registry = app_registry(inventory)
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    def healthz() -> JSONResponse:
        return JSONResponse(liveness())

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        checks = await run_in_threadpool(readiness, inventory)
        ready = all(check.ok for check in checks)
        body: dict[str, object] = {
            "status": "ok" if ready else "fail",
            "checks": {check.name: check.to_dict() for check in checks},
        }
        if not ready:
            body["failing"] = [check.name for check in checks if not check.ok]
        return JSONResponse(body, status_code=200 if ready else 503)

    @router.get("/metrics")
    async def metrics(request: Request) -> Response:
        access = ops.metrics
        if not access.enabled:
            return PlainTextResponse("metrics are turned off ([metrics] enabled)\n", 404)
        peer = request.client.host if request.client is not None else None
        if not access.allows_peer(peer):
            return PlainTextResponse("metrics are not served to this address\n", 403)
        if not access.allows_token(request.headers.get("authorization")):
            return PlainTextResponse(
                "metrics need the bearer token\n", 401, headers={"WWW-Authenticate": "Bearer"}
            )
        body = await run_in_threadpool(exposition, registry)
        return Response(body, media_type=METRICS_TYPE)

    app.include_router(router)
    app.add_middleware(
        ObserveRequests, name=name, clock=inventory.clock, trust_header=ops.trust_request_id
    )
