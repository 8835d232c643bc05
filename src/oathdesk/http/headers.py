"""Headers on every answer that keep pages from being framed, sniffed, cached or leaking their
address, with a strict Content-Security-Policy (our own scripts and styles only).

Why parameters: the apps differ only in what they may relax (the console's API docs page loads
Swagger UI from a CDN) and in the referrer policy (delivery links carry their token).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from starlette.responses import Response

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


@dataclass(frozen=True)
class SecurityHeaders:
    """``csp`` for every path but those in ``csp_by_path``; ``hsts`` when served over HTTPS
    (the apps turn it on with secure cookies); static files may be cached, nothing else."""

    csp: str = CSP
    csp_by_path: Mapping[str, str] = field(default_factory=dict)
    referrer: str = "same-origin"
    hsts: bool = True
    static_prefix: str = "/static/"


def install_security_headers(app: FastAPI, policy: SecurityHeaders) -> None:
    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        csp = policy.csp_by_path.get(request.url.path, policy.csp)
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = policy.referrer
        if not request.url.path.startswith(policy.static_prefix):
            response.headers["Cache-Control"] = "no-store"
        if policy.hsts:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response
