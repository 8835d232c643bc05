"""The accessibility check browser tests run on a page: axe-core (the copy shipped inside
axe-playwright-python, so nothing is fetched) with the WCAG 2.1 A and AA rules.

Why a helper: every walked page is checked the same way, and a failure names the rule, its
impact and the offending elements so it can be fixed without re-running by hand.
"""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

_AXE = Axe()
FAILING_IMPACTS = frozenset({"serious", "critical"})
_OPTIONS: dict[str, Any] = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


def violations(page: Page, impacts: frozenset[str] = FAILING_IMPACTS) -> list[str]:
    """One line per axe violation of the given impacts on the page as it is now."""
    results = _AXE.run(page, options=_OPTIONS)
    found: list[str] = []
    for violation in results.response.get("violations", []):
        if violation.get("impact") not in impacts:
            continue
        targets = ", ".join(
            " ".join(str(t) for t in node.get("target", [])) for node in violation["nodes"][:5]
        )
        found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} — {targets}")
    return found


def assert_accessible(page: Page, where: str = "") -> None:
    """Fail when the page has a serious or critical accessibility violation."""
    found = violations(page)
    label = where or page.url
    assert not found, f"accessibility violations on {label}:\n" + "\n".join(found)
