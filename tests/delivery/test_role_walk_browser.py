"""The delivery walk: chromium (Debian's, through Playwright) opens every page of the delivery
app at 1366x768 as the customer (find, shipments, options, done, download, its confirmation,
deleted, a spent link, and the demo's mailbox) and as the delivery reviewer (sign-in, queue,
request, reject confirmation), and a console role without the delivery role is refused with the
readable page.

Each page answers as expected, passes the axe check (tests/a11y.py) and leaves a screenshot in
docs/images/walk/<role>-<page>.png. ``PAGES`` is the walk's list: a page route of the app, or
a link in the reviewer's navigation, that the walk does not open fails a test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from playwright.sync_api import Browser, Page, Response, ViewportSize, expect

from oathdesk.cli.demo_delivery import delivery_app
from oathdesk.delivery import Delivery
from tests.a11y import violations
from tests.backends import sqlite_only
from tests.delivery import support
from tests.delivery.helpers import ask
from tests.web.conftest import PASSWORD, Server, app_routes

SHOTS = Path(__file__).parents[2] / "docs" / "images" / "walk"
VIEWPORT: ViewportSize = {"width": 1366, "height": 768}
# page name -> the route that renders it (GET, or the POST whose answer is the page)
PAGES = {
    "order-find": "/order",
    "order-shipments": "/order/shipments",
    "order-options": "/order/options",
    "order-done": "/order/done/{request_id}",
    "download": "/d/{token}",
    "download-confirm": "/d/{token}/confirm",
    "download-done": "/d/{token}/confirm",
    "download-spent": "/d/{token}",
    "signin": "/signin",
    "review-queue": "/review",
    "review-detail": "/review/{request_id}",
    "review-reject-confirm": "/review/{request_id}/reject",
    "refused-delivery-review": "/review",
    "demo-mailbox": "/demo/mailbox",  # ``make demo``'s own page (its app alone has it)
}
NOT_PAGES = {"/", "/healthz", "/readyz", "/metrics"}  # a redirect to /order; operations


@dataclass
class Walker:
    """Checks and photographs each page it is told about; remembers what it saw."""

    page: Page
    role: str
    seen: set[str] = field(default_factory=set)
    found: list[str] = field(default_factory=list)

    def look(self, name: str, answer: Response | None, status: int = 200) -> None:
        assert answer is not None and answer.status == status, f"{self.role} {name}: {answer}"
        self.found.extend(f"{self.role} {name}: {line}" for line in violations(self.page))
        self.page.screenshot(path=SHOTS / f"{self.role}-{name}.png")
        self.seen.add(name)

    def submit(self, click: Callable[[], None]) -> Response | None:
        with self.page.expect_navigation() as answered:
            click()
        return answered.value


def _tab(browser: Browser, url: str) -> Page:
    context = browser.new_context(
        base_url=url, ignore_https_errors=True, viewport=VIEWPORT, accept_downloads=True
    )
    context.set_default_timeout(20_000)
    return context.new_page()


def _customer_orders(walk: Walker) -> int:
    page = walk.page
    walk.look("order-find", page.goto("/order"))
    page.get_by_label("PO, invoice or shipment number").fill("INV-2001")
    page.get_by_label("Business e-mail address").fill("pki@contoso.example")
    walk.look(
        "order-shipments", walk.submit(page.get_by_role("button", name="Find the order").click)
    )
    page.get_by_label("SH-1", exact=True).check()
    page.get_by_label("Serial of a token in SH-1").fill("AC000102")
    verify = page.get_by_role("button", name="Verify and continue")
    walk.look("order-options", walk.submit(verify.click))
    page.get_by_label("Password", exact=True).fill(support.STRONG)
    page.get_by_label("Password again").fill(support.STRONG)
    send = page.get_by_role("button", name="Send the request for review")
    walk.look("order-done", walk.submit(send.click))
    expect(page.get_by_role("heading", level=1)).to_have_text("Request received")
    return int(page.locator("#request-id").inner_text())


def _reviewer_reviews(walk: Walker, request_id: int, other: int) -> None:
    page = walk.page
    page.goto("/review")
    expect(page).to_have_url("/signin?next=%2Freview")
    walk.look("signin", page.goto("/signin?next=%2Freview"))
    page.get_by_label("Account name").fill("dora")
    page.get_by_label("Password").fill(PASSWORD)
    walk.look("review-queue", walk.submit(lambda: page.get_by_label("Password").press("Enter")))
    links = page.get_by_role("navigation", name="Team").get_by_role("link").all()
    assert {str(a.get_attribute("href")) for a in links} == {"/review"}  # each link walked
    walk.look("review-detail", page.goto(f"/review/{other}"))
    page.get_by_label("Reason for rejecting").fill("The order is not paid yet.")
    walk.look(
        "review-reject-confirm", walk.submit(page.get_by_role("button", name="Reject…").click)
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Reject request {other}?")
    page.goto(f"/review/{request_id}")
    approve = page.get_by_role("button", name="Approve: build, encrypt and mail")
    walk.submit(approve.click)
    expect(page.get_by_role("status")).to_contain_text("link mailed to pki@contoso.example")


def _demo_mailbox(walk: Walker, server: Server, dl: Delivery, mail: bytes, folder: Path) -> None:
    """The demo's app (its mailbox page added) over a pickup folder holding the mail sent."""
    folder.mkdir()
    (folder / "1.eml").write_bytes(mail)
    smtp = replace(dl.settings.smtp, mail_dir=folder)
    server.holder.app = delivery_app(Delivery(dl.inv, replace(dl.settings, smtp=smtp)))
    walk.look("demo-mailbox", walk.page.goto("/demo/mailbox"))
    expect(walk.page.get_by_role("heading", level=1)).to_contain_text("mailbox")
    expect(walk.page.locator("main")).to_contain_text("pki@contoso.example")


def _customer_downloads(walk: Walker, token: str) -> None:
    page = walk.page
    walk.look("download", page.goto(f"/d/{token}"))
    page.get_by_label("The password you chose for this file").fill(support.STRONG)
    with page.expect_download():
        page.get_by_role("button", name="Download").click()
    page.goto(f"/d/{token}")
    delete = page.get_by_role("button", name="I have the file: delete it now")
    walk.look("download-confirm", walk.submit(delete.click))
    sure = page.get_by_role("button", name="Yes, delete it now")
    walk.look("download-done", walk.submit(sure.click))
    expect(page.get_by_role("status")).to_contain_text("has been deleted")
    walk.look("download-spent", page.goto(f"/d/{token}"), status=410)
    expect(page.get_by_role("alert")).to_contain_text("no longer valid")


@sqlite_only
def test_every_delivery_page_route_is_walked(web_url: str, loaded: Delivery) -> None:
    """A page route (GET, not the API) missing from ``PAGES`` fails here, and so does a page
    of ``PAGES`` whose route the app no longer has."""
    routes = app_routes(delivery_app(loaded))  # the demo's app: every page of the other and more
    pages = {
        r.path for r in routes if "GET" in (r.methods or ()) and not r.path.startswith("/api/v1")
    }
    assert pages - NOT_PAGES <= set(PAGES.values())
    assert set(PAGES.values()) <= {r.path for r in routes}


@sqlite_only
def test_the_customer_and_the_reviewer_walk_every_page(
    chromium: Browser,
    web_url: str,
    server: Server,
    loaded: Delivery,
    mailbox: support.Mailbox,
    tmp_path: Path,
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    customer = Walker(_tab(chromium, web_url), "customer")
    reviewer = Walker(_tab(chromium, web_url), "reviewer")
    helpdesk = Walker(_tab(chromium, web_url), "helpdesk")
    try:
        other = ask(loaded)  # a second request, for the rejection's confirmation
        request_id = _customer_orders(customer)
        _reviewer_reviews(reviewer, request_id, other)
        (token,) = mailbox.links()
        _customer_downloads(customer, token)

        page = helpdesk.page
        page.goto("/signin?next=%2Freview")
        page.get_by_label("Account name").fill("hal")
        page.get_by_label("Password").fill(PASSWORD)
        answer = helpdesk.submit(lambda: page.get_by_label("Password").press("Enter"))
        helpdesk.look("refused-delivery-review", answer, status=403)
        expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
        _demo_mailbox(customer, server, loaded, mailbox.messages[-1].as_bytes(), tmp_path / "mail")
    finally:
        for walk in (customer, reviewer, helpdesk):
            walk.page.context.close()
    assert customer.seen | reviewer.seen | helpdesk.seen == set(PAGES)
    assert not (customer.found + reviewer.found + helpdesk.found), "accessibility violations:\n" + (
        "\n".join(customer.found + reviewer.found + helpdesk.found)
    )
