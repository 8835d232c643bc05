"""The REST API's interactive documentation, served entirely from files in the installed packages.

Why: FastAPI's default page loads Swagger UI from a CDN, so it is blank on an offline or
firewalled host (and needs a looser Content-Security-Policy). The Swagger UI build shipped in
``fastapi-offline``'s package data is served from ``/api/docs/assets``, and our own start script
(``static/api-docs.js``) replaces the inline one, so the page runs under a policy that allows
only this origin's scripts.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS = "/api/docs"
ASSETS = f"{DOCS}/assets"
SWAGGER = Path(fastapi_offline.__file__).parent / "static"
# Swagger UI sets style attributes and draws icons as data: URIs; scripts stay same-origin only.
CSP_DOCS = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} REST API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="stylesheet" href="/static/api-docs.css">
<link rel="icon" href="{assets}/favicon.png">
</head>
<body>
<p><a href="/dashboard">Back to the console</a></p>
<div id="swagger-ui" data-openapi="{openapi}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""


def install_api_docs(app: FastAPI, *, openapi_url: str, title: str) -> None:
    """Serve the Swagger UI page at ``/api/docs`` and its assets, no network needed."""
    app.mount(ASSETS, StaticFiles(directory=SWAGGER), name="api-docs-assets")
    page = PAGE.format(title=title, assets=ASSETS, openapi=openapi_url)

    @app.api_route(DOCS, methods=["GET", "HEAD"], include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return HTMLResponse(page)
