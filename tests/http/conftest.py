"""A small app built only with the HTTP kit, served by the suite's real TLS uvicorn
(tests/web/conftest.py's server), over a migrated SQLite inventory with three accounts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import PlainTextResponse, Response

from oathdesk.bootstrap import build_inventory, database_url
from oathdesk.config import Config
from oathdesk.domain import FixedClock, OathdeskError, Secret
from oathdesk.http import (
    CookiePolicy,
    FormCsrf,
    Principal,
    SecurityHeaders,
    Site,
    install,
    make_templates,
    render_form,
    require,
    signin_routes,
)
from oathdesk.service import Inventory
from oathdesk.service.accounts import create_account
from oathdesk.store import upgrade
from tests.web.conftest import CSRF_RE, PASSWORD, Server, new_client, server, tls

__all__ = ["server", "tls"]
KEY = Secret(bytes(range(32)))
PREFIX = "kit.test"  # cookies __Host-kit_test_*
ROLES = {"ada": ["admin"], "hal": ["helpdesk"], "joe": []}
ROBOT_KEY = "robot-key"  # the test app's stand-in for an API token
TEMPLATES = {
    "base.html": '{% extends "kit/layout.html" %}{% block nav %}<nav>menu</nav>{% endblock %}',
    "form.html": """{% extends "base.html" %}{% from "kit/forms.html" import form_error %}
{% block content %}{{ form_error(error) }}
<form method="post" action="/form"><input type="hidden" name="csrf_token" value="{{ csrf_token }}">
</form>{% endblock %}""",
    "home.html": '{% extends "base.html" %}{% block content %}<p>hello {{ principal.name }}'
    "</p>{% endblock %}",
    "signin.html": """{% extends "base.html" %}
{% from "kit/forms.html" import form_error, signin_form %}
{% block content %}{{ form_error(error, "Sign-in refused.") }}
{{ signin_form(csrf_token, next, name, error) }}{% endblock %}""",
}

Admin = Annotated[Principal, Depends(require("admin"))]
Staff = Annotated[Principal, Depends(require("admin", "helpdesk"))]
AdminNoCsrf = Annotated[Principal, Depends(require("admin", csrf=False))]
Anyone = Annotated[Principal, Depends(require())]


def robot(request: Request) -> Principal | None:
    """An ``authenticate`` hook: a request with ``X-Robot: robot-key`` is an API client."""
    if request.headers.get("x-robot") != ROBOT_KEY:
        return None
    return Principal("robot", frozenset({"admin"}), session_id="", csrf_token="", source="api")


def signin_page(
    request: Request, *, name: str = "", next_path: str, error: OathdeskError | None = None
) -> Response:
    context = {"title": "Sign in", "name": name, "next": next_path, "error": error}
    return render_form(request, "signin.html", context)


def routes() -> APIRouter:
    router = APIRouter()
    signin_routes(router, signin_page, home="/home")

    @router.get("/form")
    def form(request: Request, code: str | None = None, retry: int | None = None) -> Response:
        """The form, or with ``code`` the form showing that error (``retry``: its wait)."""
        details = {} if retry is None else {"retry_after": retry}
        error = (
            OathdeskError("It went wrong on purpose.", code=code, details=details) if code else None
        )
        return render_form(request, "form.html", {"title": "Form", "error": error})

    @router.post("/form", dependencies=[FormCsrf])
    def form_post() -> Response:
        return PlainTextResponse("accepted")

    @router.get("/home")
    def home(request: Request, principal: Anyone) -> Response:
        context = {"title": "Home", "principal": principal}
        response: Response = request.app.state.templates.TemplateResponse(
            request, "home.html", context
        )
        return response

    @router.get("/staff")
    def staff(principal: Staff) -> Response:
        return PlainTextResponse(f"staff {principal.name}")

    @router.post("/admin")
    def admin_write(principal: Admin) -> Response:
        return PlainTextResponse(f"written by {principal.actor}")

    @router.post("/admin/no-csrf")
    def admin_unchecked(principal: AdminNoCsrf) -> Response:
        return PlainTextResponse("written")

    @router.get("/fail/{code}")
    @router.get("/api/fail/{code}")
    def fail(code: str, retry: int | None = None) -> Response:
        details = {} if retry is None else {"retry_after": retry}
        raise OathdeskError("It went wrong on purpose.", code=code, details=details)

    @router.get("/crash")
    def crash() -> Response:
        raise RuntimeError("a bug with a secret: do-not-show")

    return router


@pytest.fixture(scope="module")
def inv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Inventory]:
    folder = tmp_path_factory.mktemp("kit")
    config = Config(sections={"data": {"dir": str(folder / "data")}})
    upgrade(database_url(config))
    inventory = build_inventory(config, clock=FixedClock(time.time()))
    for name, roles in ROLES.items():
        create_account(inventory, name, Secret(PASSWORD.encode()), roles, actor="test")
    yield inventory
    inventory.close()


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    for name, text in TEMPLATES.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "static").mkdir()
    (folder / "static" / "t.css").write_text("body {}", encoding="utf-8")
    (folder / "static" / "t.js").write_text("", encoding="utf-8")
    return folder


def make_app(inv: Inventory, site_dir: Path, headers: SecurityHeaders) -> FastAPI:
    app = FastAPI()
    policy = CookiePolicy(secret_key=KEY, prefix=PREFIX, secure=True)
    site = Site(inventory=inv, cookies=policy, authenticate=robot)
    install(app, site, make_templates(site_dir, title="Kit", assets=("t.css", "t.js")), headers)
    app.mount("/static", StaticFiles(directory=site_dir / "static"), name="static")
    app.include_router(routes())
    return app


@pytest.fixture
def headers() -> SecurityHeaders:
    return SecurityHeaders(csp_by_path={"/form": "default-src 'none'"}, referrer="no-referrer")


@pytest.fixture
def url(server: Server, inv: Inventory, site_dir: Path, headers: SecurityHeaders) -> Iterator[str]:
    server.holder.app = make_app(inv, site_dir, headers)
    yield server.url
    server.holder.app = None


@pytest.fixture
def client(url: str, server: Server) -> Iterator[httpx.Client]:
    with new_client(url, server) as made:
        yield made


def token_in(page: httpx.Response) -> str:
    found = CSRF_RE.search(page.text)
    assert found, page.text
    return found.group(1)


def sign_in(client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    """Post the sign-in form (its token from any page before sign-in: it is bound to the
    browser's nonce cookie, so it works when the browser is signed in already too)."""
    token = token_in(client.get("/form"))
    data = {"name": name, "password": password, "csrf_token": token, "next": "/staff"}
    return client.post("/signin", data=data)


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """Each ``Set-Cookie`` of ``response`` by cookie name (the whole header line)."""
    lines = response.headers.get_list("set-cookie")
    return {line.split("=", 1)[0]: line for line in lines}
