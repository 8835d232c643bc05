"""A real browser (Debian's chromium through Playwright) walks the customer's wizard, the team's
review queue and the mailed download link, by keyboard where a person would, with screenshots
in ``$OATHDESK_TEST_ARTIFACTS/delivery`` (default ``artifacts/delivery``)."""

from __future__ import annotations

import io
from pathlib import Path

import pyzipper
from playwright.sync_api import Browser, BrowserContext, Page, expect

from oathdesk.delivery import Delivery, approve, get_request
from oathdesk.delivery.building import CustomField, CustomLayout
from oathdesk.formats import ReadOptions, read_seeds
from oathdesk.otp import totp
from tests.backends import sqlite_only
from tests.delivery import support
from tests.delivery.helpers import ask
from tests.web.conftest import PASSWORD

# answers we provoke on purpose: an unknown order (404), a weak password or a wrong download
# password (400), a spent link (410)
EXPECTED = tuple(
    f"Failed to load resource: the server responded with a status of {status}"
    for status in (400, 404, 410)
)


def _context(browser: Browser, web_url: str, errors: list[str]) -> BrowserContext:
    context = browser.new_context(
        base_url=web_url,
        ignore_https_errors=True,
        viewport={"width": 1200, "height": 900},
        accept_downloads=True,
    )
    context.set_default_timeout(20_000)
    context.on("weberror", lambda e: errors.append(str(e.error)))
    context.on(
        "console",
        lambda m: (
            errors.append(m.text) if m.type == "error" and not m.text.startswith(EXPECTED) else None
        ),
    )
    return context


def _customer_asks(page: Page, key: str, artifacts: Path) -> int:
    page.goto("/order")
    page.get_by_label("PO, invoice or shipment number").fill("PO-7777")
    page.get_by_label("Business e-mail address").fill("pki@contoso.example")
    page.get_by_label("Business e-mail address").press("Enter")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("No order matches")
    expect(alert).to_be_focused()
    page.screenshot(path=artifacts / "order-not-found.png", full_page=True)
    page.get_by_label("PO, invoice or shipment number").fill("INV-2001")
    page.get_by_label("Business e-mail address").fill("pki@contoso.example")
    page.screenshot(path=artifacts / "order-find.png", full_page=True)
    page.get_by_role("button", name="Find the order").click()

    expect(page).to_have_url("/order/shipments")
    expect(page.get_by_role("heading", level=1)).to_have_text("Order PO-1001")
    page.get_by_label("SH-1", exact=True).check()
    page.get_by_label("Serial of a token in SH-1").fill("AC000102")
    page.get_by_label("SH-2", exact=True).check()
    page.get_by_label("Serial of a token in SH-2").fill("AC000202")
    page.screenshot(path=artifacts / "order-shipments.png", full_page=True)
    page.get_by_role("button", name="Verify and continue").click()

    expect(page).to_have_url("/order/options")
    builder = page.locator("#builder")
    expect(builder).to_be_hidden()  # only for custom-csv
    page.get_by_label("Format").select_option("custom-csv")
    expect(builder).to_be_visible()
    for row, (header, content, value) in enumerate(
        [
            ("Token", "token serial", ""),
            ("Seed", "token secret", ""),
            ("Vendor", "fixed value", "Acme"),
        ],
        start=1,
    ):
        page.get_by_label(f"Header of field {row}").fill(header)
        page.get_by_label(f"Content of field {row}").select_option(label=content)
        if value:
            page.get_by_label(f"Fixed value of field {row}").fill(value)
    page.get_by_label("Secret encoding").select_option("hex")
    page.get_by_label("One file per shipment").check()
    page.get_by_label("Both (PGP inside a password ZIP)").check()
    expect(page.locator("#pgp-part")).to_be_visible()
    page.get_by_label("Paste the ASCII-armoured public key").fill(key)
    page.get_by_label("Password", exact=True).fill("password1")
    page.get_by_label("Password again").fill("password1")
    page.screenshot(path=artifacts / "order-options.png", full_page=True)
    page.get_by_role("button", name="Send the request for review").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose a stronger password")
    page.screenshot(path=artifacts / "order-options-weak-password.png", full_page=True)
    page.get_by_label("Password", exact=True).fill(support.STRONG)
    page.get_by_label("Password again").fill(support.STRONG)
    page.get_by_role("button", name="Send the request for review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Request received")
    page.screenshot(path=artifacts / "order-done.png", full_page=True)
    return int(page.locator("#request-id").inner_text())


def _team_approves(page: Page, request_id: int, artifacts: Path) -> None:
    page.goto("/review")
    expect(page).to_have_url("/signin?next=%2Freview")
    page.get_by_label("Account name").fill("dora")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url("/review")
    expect(page.get_by_role("table")).to_contain_text("custom-csv")
    page.screenshot(path=artifacts / "review-queue.png", full_page=True)
    page.get_by_role("link", name=str(request_id), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Request {request_id}: pending")
    expect(page.locator(".facts")).to_contain_text('Vendor = "Acme"')
    page.screenshot(path=artifacts / "review-detail.png", full_page=True)
    page.get_by_role("button", name="Approve: build, encrypt and mail").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("link mailed to pki@contoso.example")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Request {request_id}: sent")
    page.screenshot(path=artifacts / "review-approved.png", full_page=True)


@sqlite_only
def test_wizard_review_and_download_in_a_browser(
    chromium: Browser,
    web_url: str,
    loaded: Delivery,
    mailbox: support.Mailbox,
    customer_key: support.CustomerKey,
    artifacts: Path,
) -> None:
    errors: list[str] = []
    customer = _context(chromium, web_url, errors)
    team = _context(chromium, web_url, errors)
    try:
        request_id = _customer_asks(customer.new_page(), customer_key.public, artifacts)
        _team_approves(team.new_page(), request_id, artifacts)
        tokens = mailbox.links()
        assert len(tokens) == 2
        page = customer.new_page()
        page.goto(f"/d/{tokens[1]}")
        expect(page.get_by_role("heading", level=1)).to_contain_text("seeds-SH-2")
        page.get_by_label("The password you chose for this file").fill(support.STRONG)
        page.screenshot(path=artifacts / "download.png", full_page=True)
        with page.expect_download() as info:
            page.get_by_role("button", name="Download").click()
        saved = Path(info.value.path())
        with pyzipper.AESZipFile(io.BytesIO(saved.read_bytes())) as archive:
            archive.setpassword(support.STRONG.encode())
            (member,) = archive.namelist()
            plain = customer_key.decrypt(archive.read(member))
        layout = CustomLayout(
            (CustomField("Token", "serial"), CustomField("Seed", "secret"), CustomField("Vendor")),
            header_row=True,
            secret_encoding="hex",
        )
        result = read_seeds(plain, "seeds.csv", "custom-csv", ReadOptions(profile=layout.profile()))
        assert [r.serial for r in result.records] == support.SHIPMENTS["SH-2"]
        assert plain.decode().splitlines()[0] == "Token,Seed,Vendor"
        for record in result.records:
            assert totp(record.secret, 1e9) == totp(support.secret_of(record.serial), 1e9)

        page.goto(f"/d/{tokens[1]}")  # the link has served its one download
        expect(page.get_by_role("status")).to_contain_text("used for its download")
        expect(page.get_by_label("The password you chose for this file")).to_have_count(0)
        page.get_by_role("button", name="I have the file: delete it now").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Delete seeds-SH-2")
        page.screenshot(path=artifacts / "download-confirm.png", full_page=True)
        page.get_by_role("button", name="Yes, delete it now").click()
        expect(page.get_by_role("status")).to_contain_text("has been deleted")
        page.screenshot(path=artifacts / "download-confirmed.png", full_page=True)
        page.goto(f"/d/{tokens[1]}")
        expect(page.get_by_role("alert")).to_contain_text("no longer valid")
        page.screenshot(path=artifacts / "download-refused.png", full_page=True)
        files = get_request(loaded, request_id).files
        assert [(f.label, f.confirmed) for f in files] == [("SH-1", False), ("SH-2", True)]
    finally:
        customer.close()
        team.close()
    assert errors == [], errors
    assert all(
        (artifacts / f"{n}.png").stat().st_size > 5000
        for n in ("order-options", "review-queue", "download")
    )


@sqlite_only
def test_the_right_password_after_a_wrong_one_clears_the_error(
    chromium: Browser,
    web_url: str,
    loaded: Delivery,
    mailbox: support.Mailbox,
    artifacts: Path,
) -> None:
    """A file answer does not replace the page, so the wrong password's red error stayed on
    screen after the right one had downloaded the file."""
    approve(loaded, ask(loaded), actor="local:dora")
    (token,) = mailbox.links()
    errors: list[str] = []
    customer = _context(chromium, web_url, errors)
    try:
        page = customer.new_page()
        page.goto(f"/d/{token}")
        field = page.get_by_label("The password you chose for this file")
        field.fill("not-the-password")
        page.get_by_role("button", name="Download").click()
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("not the one chosen")
        expect(alert).to_be_focused()
        page.screenshot(path=artifacts / "download-wrong-password.png", full_page=True)
        field.fill(support.STRONG)
        with page.expect_download() as info:
            page.get_by_role("button", name="Download").click()
        assert info.value.suggested_filename.endswith(".zip")
        expect(page.get_by_role("alert")).to_have_count(0)
        expect(page.locator("#download-form")).not_to_have_attribute(
            "aria-describedby", "form-error"
        )
        expect(page.get_by_role("status")).to_contain_text("if the password is right")
        page.screenshot(path=artifacts / "download-after-wrong-password.png", full_page=True)
    finally:
        customer.close()
    assert errors == [], errors
