"""The console walk: chromium (Debian's, through Playwright) opens every page of the console as
each role (admin, help desk, auditor, a self-service user, and nobody signed in) at 1366x768.

Each page answers (a role refused an admin page gets the readable "Not allowed" page, 403),
passes the axe check (tests/a11y.py) and leaves a screenshot in docs/images/walk/<role>-<page>.png
(of the refusals, which are all one page, the first of each role is checked and shot).
``PAGES`` is the walk's list: a page route of the app, or a link in a role's navigation, that it
does not walk fails a test, so a new page cannot be added without being walked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, Response, ViewportSize, expect

import oathdesk.web
from oathdesk.bootstrap import build_inventory
from oathdesk.domain import Secret
from oathdesk.service import Inventory, assign, import_seeds, mark_lost, push
from oathdesk.service.accounts import create_account
from oathdesk.service.handout import HandoutSettings, run_handout, start_handout
from oathdesk.service.handout_plan import plan_handout, roster_from_file
from oathdesk.store import upgrade
from oathdesk.web import WebSettings, create_app
from tests.a11y import violations
from tests.service import support
from tests.service.fixtures import Emu, emu_session
from tests.web.conftest import PASSWORD, Server, app_routes

__all__ = ["emu_session"]

SHOTS = Path(__file__).parents[2] / "docs" / "images" / "walk"
VIEWPORT: ViewportSize = {"width": 1366, "height": 768}
GRACE = support.upn("grace")  # the self-service user: a UPN of the emulator's tenant
ACCOUNT = {"admin": "ada", "helpdesk": "hal", "auditor": "aud", "selfservice": GRACE}
ROLES_OF = {"ada": ["admin"], "hal": ["helpdesk"], "aud": ["auditor"], GRACE: []}
EVERYONE = frozenset(ACCOUNT)
STAFF = frozenset({"admin", "helpdesk", "auditor"})
DESK = frozenset({"admin", "helpdesk"})
ADMIN = frozenset({"admin"})
HELD, LOST, SPARE = (support.serial("WK", n) for n in range(3))
HANDOUT_JOB = 2  # the hand-out the console fixture runs (WK0004 to Alan)


def _import_preview(page: Page, files: Path) -> Response | None:
    page.goto("/import")
    page.get_by_label("Seed file", exact=True).set_input_files(files / "walk.csv")
    with page.expect_navigation() as answered:
        page.get_by_role("button", name="Check the file").click()
    return answered.value


def _import_job(page: Page, files: Path) -> Response | None:
    _import_preview(page, files)
    with page.expect_navigation() as answered:
        page.get_by_role("button", name="Import and push to Entra").click()
    return answered.value


def _action_confirm(page: Page, files: Path) -> Response | None:
    page.goto(f"/tokens/{HELD}")
    form = page.locator("#lost-form")
    form.locator("[name=reason]").fill("walk: left on the train")
    with page.expect_navigation() as answered:
        form.get_by_role("button").click()
    return answered.value


def _bulk(page: Page, serial: str, action: str) -> Response | None:
    page.goto(f"/inventory?q={serial}")
    page.get_by_label(f"Select {serial}").check()
    page.get_by_label("Action", exact=True).select_option(action)
    page.get_by_label("Reason (ticket or note)").fill("walk")
    with page.expect_navigation() as answered:
        page.get_by_role("button", name="Run on selection").click()
    return answered.value


def _bulk_confirm(page: Page, files: Path) -> Response | None:
    return _bulk(page, HELD, "lost")  # Grace holds it: asked first, nothing done yet


def _bulk_done(page: Page, files: Path) -> Response | None:
    return _bulk(page, SPARE, "unassign")  # held by nobody: refused per token, nothing done


def _replace_confirm(page: Page, files: Path) -> Response | None:
    page.goto(f"/users/{GRACE}")
    page.get_by_label("Token to replace").select_option(HELD)
    page.get_by_label("Reason (ticket or note)").last.fill("walk")
    with page.expect_navigation() as answered:
        page.get_by_role("button", name="Next: check the new token").click()
    return answered.value


def _handout_preview(page: Page, files: Path) -> Response | None:
    page.goto("/handout")
    page.get_by_label("Roster file").set_input_files(files / "roster.csv")
    page.get_by_label("Reason (kept in the audit log)").fill("walk")
    with page.expect_navigation() as answered:
        page.get_by_role("button", name="Check the roster").click()
    return answered.value


def _me_confirm(page: Page, files: Path) -> Response | None:
    page.goto("/me")
    page.get_by_label(f"What happened to {HELD}?").fill("left on the train")
    with page.expect_navigation() as answered:
        page.get_by_role("button", name="Report lost…").click()
    return answered.value


Reach = Callable[[Page, Path], Response | None]


@dataclass(frozen=True)
class Walk:
    """One page: its name in screenshots, the route that renders it, where to open it (None for
    a form's answer, reached by ``reach`` only), who may see it and its heading."""

    name: str
    route: str
    path: str | None
    allowed: frozenset[str]
    heading: str
    reach: Reach | None = None
    ready: str | None = None  # what a page drawn by script shows once drawn
    status: int = 200


PAGES = [
    Walk("dashboard", "/dashboard", "/dashboard", STAFF, "Dashboard"),
    Walk("inventory", "/inventory", "/inventory", STAFF, "Inventory"),
    Walk("token", "/tokens/{serial}", f"/tokens/{HELD}", STAFF, HELD),
    Walk("not-found", "/tokens/{serial}", "/tokens/NO-SUCH", STAFF, "Not found", status=404),
    Walk("reports", "/reports", "/reports", STAFF, "Reports"),
    Walk("users", "/users", "/users", DESK, "Users"),
    Walk("user", "/users/{upn}", f"/users/{GRACE}", DESK, "Grace Example"),
    Walk("import", "/import", "/import", ADMIN, "Import"),
    Walk("import-preview", "/import/preview", None, ADMIN, "preview", _import_preview),
    Walk("import-job", "/import/jobs/{job_id}", "/import/jobs/none", ADMIN, "Import", _import_job),
    Walk("handout", "/handout", "/handout", ADMIN, "Hand out tokens"),
    Walk("handout-preview", "/handout/preview", None, ADMIN, "Hand-out plan", _handout_preview),
    Walk(
        "handout-job", "/handout/jobs/{job_id}", f"/handout/jobs/{HANDOUT_JOB}", ADMIN, "Hand-out"
    ),
    Walk("reconcile", "/reconcile", "/reconcile", ADMIN, "Reconcile"),
    Walk("audit", "/audit", "/audit", frozenset({"admin", "auditor"}), "Audit log"),
    Walk(
        "audit-verify", "/audit/verify", "/audit/verify", frozenset({"admin", "auditor"}), "Audit"
    ),
    Walk("settings", "/settings", "/settings", ADMIN, "Settings"),
    Walk("accounts", "/settings/accounts", "/settings/accounts", ADMIN, "accounts"),
    Walk("api-tokens", "/settings/api-tokens", "/settings/api-tokens", ADMIN, "API tokens"),
    Walk("action-confirm", "/tokens/{serial}/{action}", None, DESK, "Confirm", _action_confirm),
    Walk("bulk-confirm", "/inventory/bulk", None, DESK, "Confirm", _bulk_confirm),
    Walk("bulk", "/inventory/bulk", None, DESK, "Bulk action", _bulk_done),
    Walk("replace-confirm", "/users/{upn}/replace", None, DESK, "Replace", _replace_confirm),
    Walk("api-docs", "/api/docs", "/api/docs", EVERYONE, "", ready=".opblock"),
    Walk("me", "/me", "/me", EVERYONE, "My tokens"),
    Walk(
        "me-confirm",
        "/me/tokens/{serial}/lost",
        None,
        frozenset({"selfservice"}),
        "lost?",
        _me_confirm,
    ),
    Walk("reauth", "/me/reauth", "/me/reauth", EVERYONE, "Sign in again"),
]
# pages that change what the walk stands on (a replace hands out a token for good): each is
# walked, axe-checked and photographed by its own browser test, for both roles that reach it
WALKED_ELSEWHERE = {"replace-done": "test_replace_tap_browser.py"}
# page routes that are no page to walk: redirects, downloads, images, the OIDC round trip
NOT_PAGES = {
    "/",
    "/me/resume",
    "/signin/entra",
    "/inventory/export",
    "/audit/export",
    "/reports/charts/{name}.svg",
    "/reports/{name}.csv",
    "/reports/{name}.json",
    "/handout/jobs/{job_id}/status",  # the hand-out page's progress poll (JSON)
    "/handout/jobs/{job_id}/outcomes.csv",
    "/healthz",  # the operations endpoints: JSON and text for probes and Prometheus
    "/readyz",
    "/metrics",
}


@dataclass(frozen=True)
class Console:
    url: str
    files: Path  # the seed file the import pages take


@pytest.fixture(scope="module")
def console(
    server: Server, emu_session: Emu, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Console]:
    """One console for the module over an inventory with something on every page: tokens in
    stock, one held by the self-service user, one they lost; the four accounts."""
    emu = emu_session
    emu.seed(support.SEED)
    assert emu.control.post(f"{emu.url}/_emulator/reset").status_code == 204
    folder = tmp_path_factory.mktemp("walk")
    url = f"sqlite:///{folder / 'walk.db'}"
    upgrade(url)
    inv: Inventory = build_inventory(support.config(url, folder, emu.url, emu.ca))
    import_seeds(inv, support.entra_csv("WK", 5), "wk.csv", actor="local:setup")
    push(inv, actor="local:setup")
    for serial in (HELD, LOST):
        assign(inv, serial, GRACE, actor="local:hal", reason="ticket 15")
    mark_lost(inv, LOST, actor="local:hal", reason="left in a taxi")
    for name, roles in ROLES_OF.items():
        create_account(inv, name, Secret(PASSWORD.encode()), roles, actor="test")
    (folder / "walk.csv").write_bytes(support.entra_csv("WN", 2))
    (folder / "roster.csv").write_bytes(f"serial,upn\n{support.serial('WK', 3)},{GRACE}\n".encode())
    roster = roster_from_file(f"{support.serial('WK', 4)},{support.upn('alan')}\n".encode(), "r")
    plan = plan_handout(inv, roster, activate=False)
    job = start_handout(inv, plan, actor="local:ada", reason="walk", settings=HandoutSettings())
    assert job == HANDOUT_JOB  # the push above was job 1
    run_handout(inv, job, actor="local:ada", settings=HandoutSettings())
    settings = WebSettings(secret_key=Secret(b"w" * 32), secure_cookies=True)
    server.holder.app = create_app(inv, settings)
    yield Console(server.url, folder)
    server.holder.app = None
    inv.close()


@pytest.fixture
def tab(chromium: Browser, console: Console) -> Iterator[Page]:
    context = chromium.new_context(
        base_url=console.url, ignore_https_errors=True, viewport=VIEWPORT
    )
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    yield opened
    context.close()


def sign_in(page: Page, name: str) -> None:
    page.goto("/signin?next=%2Fme")
    page.get_by_label("Account name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url("/me")


def nav_links(page: Page) -> set[str]:
    links = page.get_by_role("navigation", name="Main").get_by_role("link")
    return {str(a.get_attribute("href")) for a in links.all()}


def look(page: Page, where: str, shot: str | None, found: list[str]) -> None:
    """The axe check of the page as it is (its violations added to ``found``) and its shot."""
    found.extend(f"{where}: {line}" for line in violations(page))
    if shot:
        page.screenshot(path=SHOTS / f"{shot}.png")


def test_every_page_route_and_nothing_else_is_walked(console: Console, server: Server) -> None:
    """A page route (HTML, GET) the walk does not list fails here; so does a listed one the
    app no longer has."""
    app = server.holder.app
    pages = {
        route.path
        for route in app_routes(app)
        if "GET" in (route.methods or ()) and not route.path.startswith("/api/v1")
    }
    walked = {w.route for w in PAGES if w.path is not None} | {"/signin"}
    assert pages - NOT_PAGES == walked
    posted = {route.path for route in app_routes(app) if "POST" in (route.methods or ())}
    assert {w.route for w in PAGES if w.path is None} <= posted


def test_every_console_template_is_walked() -> None:
    """A new template (a new page, or a form's new answer) needs its entry in ``PAGES``, named
    after it (``import_job.html``: ``import-job``)."""
    folder = Path(oathdesk.web.__file__).parent / "templates"
    names = {p.stem.replace("_", "-") for p in folder.glob("*.html")} - {"base", "signin"}
    assert names - set(WALKED_ELSEWHERE) <= {w.name for w in PAGES}
    for name, module in WALKED_ELSEWHERE.items():  # each checked there with axe and a shot
        text = (Path(__file__).parent / module).read_text()
        assert "assert_accessible" in text and name.replace("-", "_") + ".html" in text, name


def test_nobody_signed_in_gets_the_sign_in_page(tab: Page) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    found: list[str] = []
    for walk in PAGES:
        if walk.path is None or walk.name == "api-docs":
            continue
        answer = tab.goto(walk.path)
        assert answer is not None and answer.status == 200, walk.path
        expect(tab).to_have_url(f"/signin?next={quote(walk.path, safe='')}")
    expect(tab.get_by_role("heading", level=1)).to_have_text("Sign in")
    look(tab, "/signin", "anonymous-signin", found)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("role", list(ACCOUNT))
def test_a_role_walks_every_page(tab: Page, console: Console, role: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    found: list[str] = []
    sign_in(tab, ACCOUNT[role])
    mine = {w.path for w in PAGES if role in w.allowed and w.path}
    links = nav_links(tab)
    assert links, "no navigation"
    assert links <= mine, f"{role} sees links the walk does not open: {links - mine}"
    refused_shot = False
    for walk in PAGES:
        where = f"{role} {walk.name}"
        if role in walk.allowed:
            answer = walk.reach(tab, console.files) if walk.reach else tab.goto(str(walk.path))
            assert answer is not None and answer.status == walk.status, (
                f"{where}: {answer and answer.status}"
            )
            if walk.heading:
                expect(tab.get_by_role("heading", level=1)).to_contain_text(walk.heading)
            if walk.ready:
                tab.locator(walk.ready).first.wait_for()
            look(tab, where, f"{role}-{walk.name}", found)
        elif walk.path is not None:
            answer = tab.goto(walk.path)
            assert answer is not None and answer.status == 403, (
                f"{where}: {answer and answer.status}"
            )
            expect(tab.get_by_role("heading", level=1)).to_have_text("Not allowed")
            expect(tab.get_by_role("alert")).to_contain_text("does not have the role")
            if not refused_shot:  # one refusal page checked and shot per role: all are alike
                look(tab, where, f"{role}-refused-{walk.name}", found)
            refused_shot = True
    assert not found, "accessibility violations:\n" + "\n".join(found)
