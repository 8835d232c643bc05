"""The inventory in a real browser: sort by clicking a column header (aria-sort follows), filter
by user and Entra status, download the CSV export of that view, and use the bulk bar that sits
above the table. Screenshots go to the ``artifacts`` folder."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from playwright.sync_api import Page, expect

from oathdesk.service import Inventory
from tests.web.conftest import PASSWORD
from tests.web.test_inventory_v2 import A, B, varied

__all__ = ["varied"]  # the fixture: 42 tokens in two batches, in and out of Entra


def test_sort_filter_export_and_bulk_bar_in_the_browser(
    page: Page, varied: Inventory, artifacts: Path
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto("/signin?next=%2Finventory")
    page.get_by_label("Account name").fill("hal")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url("/inventory")
    expect(page.locator("#result-count")).to_have_text("42 token(s) match.")

    serial_header = page.get_by_role("columnheader", name="Serial")
    expect(serial_header).to_have_attribute("aria-sort", "ascending")
    page.get_by_role("link", name="Last used", exact=True).click()
    used_header = page.get_by_role("columnheader", name="Last used")
    expect(used_header).to_have_attribute("aria-sort", "ascending")
    expect(serial_header).not_to_have_attribute("aria-sort", "ascending")
    page.get_by_role("link", name="Last used", exact=True).click()  # again: newest first
    expect(used_header).to_have_attribute("aria-sort", "descending")
    newest = (A + B)[max(i for i in range(42) if i % 4 == 3)]
    expect(page.locator("#tokens tbody tr").first).to_contain_text(newest)

    page.get_by_label("User (any part of the UPN)").fill("contoso")
    page.get_by_label("In Entra").select_option("activated")
    page.get_by_role("button", name="Apply").click()
    expected = [s for i, s in enumerate(A + B) if i % 4 == 3 and i % 3 in (0, 1)]
    expect(page.locator("#result-count")).to_have_text(f"{len(expected)} token(s) match.")
    expect(used_header).to_have_attribute("aria-sort", "descending")  # the filter keeps the sort
    expect(page.locator("#tokens tbody tr").first).to_contain_text(newest)

    bar = page.locator("#bulk fieldset").bounding_box()
    table = page.locator("#tokens").bounding_box()
    assert bar is not None and table is not None and bar["y"] < table["y"]
    page.get_by_label(f"Select {expected[0]}").check()
    page.get_by_label(f"Select {expected[1]}").check()
    expect(page.locator("#bulk-count")).to_have_text("(2 selected)")
    page.screenshot(path=artifacts / "inventory-v2.png", full_page=True)

    with page.expect_download() as event:
        page.get_by_role("link", name="CSV", exact=True).click()
    download = event.value
    assert download.suggested_filename.startswith("oathdesk-tokens-")
    assert download.suggested_filename.endswith(".csv")
    path = download.path()
    rows = list(csv.DictReader(io.StringIO(Path(path).read_text())))
    assert sorted(r["serial"] for r in rows) == sorted(expected)
    assert rows[0]["serial"] == newest and all(r["entra_status"] == "activated" for r in rows)

    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto("/inventory?sort=user&dir=desc&limit=25")
    page.screenshot(path=artifacts / "inventory-sorted.png")
    assert errors == [], errors
