"""Chromium (Debian's, through Playwright) walks the dashboard's alerts and the reports page over
HTTPS against the real Entra emulator: the tenant by name, every alert with its link, each report's
chart loaded as an image (no script, no CSP violation), its table and its downloads; a phone-sized
viewport keeps the page usable.

Screenshots go to ``$OATHDESK_TEST_ARTIFACTS/web`` (default ``artifacts/web`` in the checkout).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from playwright.sync_api import Page, expect

from oathdesk.service import Inventory, reconcile
from oathdesk.service.reports import REPORTS
from oathdesk.store import TokenState
from tests.service import support
from tests.service.fixtures import Emu, emu, emu_session
from tests.web.conftest import add_tokens
from tests.web.test_admin_browser import page, sign_in, watch
from tests.web.test_dashboard_tenant import inv, settings, with_directory_read

__all__ = ["emu", "emu_session", "inv", "page", "settings"]  # fixtures used below


def _stock(inv: Inventory) -> None:
    serials = [f"BR{i:02d}" for i in range(1, 9)]
    add_tokens(inv, serials, states={"assigned": serials[:3], "activated": serials[3:5]})
    with inv.uow() as uow:
        uow.tokens.move(uow.tokens.get_for_update("BR01"), TokenState.FAILED_ACTIVATION)
        uow.tokens.move(uow.tokens.get_for_update("BR04"), TokenState.LOST)
        late = uow.tokens.get_for_update("BR02")
        late.assigned_at = inv.now().replace(year=inv.now().year - 1)


def test_admin_reads_the_dashboard_alerts_and_every_report(
    page: Page, inv: Inventory, emu: Emu, accounts: dict[str, list[str]], artifacts: Path
) -> None:
    with_directory_read(emu)
    _stock(inv)
    reconcile(inv, actor="test")  # our tokens are not in the emulator: Entra drift
    errors = watch(page)

    sign_in(page, "ada", "/dashboard")
    expect(page.locator("#tenant-name")).to_have_text("Inventory")
    expect(page.locator("#tenant-id")).to_have_text(support.TENANT)
    alerts = page.locator("li.alert")
    codes = [alerts.nth(i).get_attribute("data-code") for i in range(alerts.count())]
    assert set(codes) >= {"failed_activations", "lost", "low_stock", "not_activated", "entra_drift"}
    expect(page.locator('li.alert[data-code="lost"]')).to_contain_text(
        "1 token(s) are reported lost."
    )
    page.screenshot(path=artifacts / "dashboard-alerts.png", full_page=True)

    page.locator('li.alert[data-code="lost"]').get_by_role("link", name="Open the report").click()
    expect(page).to_have_url("/reports#lost")
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Reports", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    for name in REPORTS:
        image = page.locator(f"#{name} img.report-chart")
        image.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        assert (image.get_attribute("alt") or "").startswith("Chart of ")
    expect(page.locator("#lost-table")).to_contain_text("BR04")
    expect(page.locator("#failed-table")).to_contain_text("BR01")
    page.screenshot(path=artifacts / "reports.png", full_page=True)

    with page.expect_download() as download:
        page.locator("#stock").get_by_role("link", name="CSV").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert rows[0][:2] == ["manufacturer", "model"] and rows[1][4] == "3"

    page.get_by_label("Unused report: days without a sign-in").fill("30")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#unused-h")).to_have_text("Tokens not used in 30 days")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/reports#activity")
    # the report sections fit the phone (the site-wide navigation is the layout's business)
    widest = page.evaluate(
        """() => Math.max(...[...document.querySelectorAll(
            '.report img, .report .table-scroll, .report-days, .report-index')]
            .map(e => e.getBoundingClientRect().right))"""
    )
    assert widest <= 391, widest
    page.screenshot(path=artifacts / "reports-phone.png", full_page=False)
    assert errors == []
