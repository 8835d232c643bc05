"""The console's hand-out pages in the real browser and over HTTPS, with the real HTTPS emulator as
Entra: a roster with a bad row is refused with its line and nothing sent; a good one is planned,
confirmed, followed on its progress page and ends assigned in Entra, each row once; activation
from the seed is offered only when the server allows it, and then activates in Entra.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from oathdesk.service import HandoutSettings, Inventory, push
from tests.a11y import assert_accessible
from tests.service import support
from tests.service.fixtures import Emu
from tests.web.conftest import PASSWORD, Server, add_tokens, new_client, signed_in
from tests.web.lifecycle_helpers import emu, emu_session, inv, page_csrf

__all__ = ["emu", "emu_session", "inv"]

IMAGES = Path(__file__).parents[2] / "docs" / "images"
COVERED = {  # for tests/web/test_roles.py: every hand-out route, refused to all but admins here
    ("GET", "/handout"),
    ("POST", "/handout/preview"),
    ("POST", "/handout/start"),
    ("GET", "/handout/jobs/{job_id}"),
    ("GET", "/handout/jobs/{job_id}/status"),
    ("GET", "/handout/jobs/{job_id}/outcomes.csv"),
    ("POST", "/handout/jobs/{job_id}/resume"),
}
JOB_RE = re.compile(r"/handout/jobs/(\d+)$")


def _roster(rows: list[tuple[str, str]]) -> bytes:
    return (
        "serial,upn,display name\n" + "".join(f"{s},{u},Desk token\n" for s, u in rows)
    ).encode()


def _assigned(emu: Emu) -> dict[str, tuple[str | None, str]]:
    client = emu.client()
    try:
        return {d.serial_number: (d.assigned_to_id, d.status) for d in client.list_devices()}
    finally:
        client.close()


def _stock(inv: Inventory, serials: list[str]) -> None:
    add_tokens(inv, serials)
    push(inv, actor="test")


def test_an_admin_hands_out_a_roster_in_the_browser(
    page: Page, inv: Inventory, emu: Emu, accounts: dict[str, list[str]], tmp_path: Path
) -> None:
    serials = ["HO00001", "HO00002", "HO00003"]
    _stock(inv, serials)
    people = [support.upn(k) for k in ("ada", "grace", "alan")]
    bad = tmp_path / "roster-bad.csv"
    bad.write_bytes(_roster([(serials[0], people[0]), ("HO09999", people[1])]))
    good = tmp_path / "roster.csv"
    good.write_bytes(_roster(list(zip(serials, people, strict=True))))

    page.goto("/handout")
    page.get_by_label("Account name").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url("/handout")
    expect(page.locator("#activate-off")).to_be_visible()  # the server does not allow it
    assert_accessible(page, "hand-out form")
    page.screenshot(path=IMAGES / "console-handout-form.png")

    page.get_by_label("Roster file").set_input_files(bad)
    page.get_by_label("Reason (kept in the audit log)").fill("new starters")
    page.get_by_role("button", name="Check the roster").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hand-out plan")
    problems = page.locator("#problems")
    expect(problems).to_contain_text("HO09999")
    expect(problems).to_contain_text("roster-bad.csv")
    expect(page.locator("#form-error")).to_contain_text("Nothing was sent to Entra.")
    expect(page.get_by_role("button", name=re.compile("Hand out"))).to_have_count(0)
    assert not any(_assigned(emu)[sn][0] for sn in serials)

    page.goto("/handout")
    page.get_by_label("Roster file").set_input_files(good)
    page.get_by_label("Reason (kept in the audit log)").fill("new starters")
    page.get_by_role("button", name="Check the roster").click()
    expect(page.locator("#plan-rows tbody tr")).to_have_count(3)
    assert_accessible(page, "hand-out plan")
    page.screenshot(path=IMAGES / "console-handout-plan.png")
    page.get_by_role("button", name="Hand out 3 token(s)").click()
    expect(page).to_have_url(JOB_RE)
    expect(page.locator("#handout-status")).to_contain_text(
        "Finished: 3 handed out, 0 refused, of 3.", timeout=60_000
    )
    expect(page.locator("#outcome-rows tbody tr")).to_have_count(3)
    expect(page.locator("#outcome-rows")).to_contain_text("assigned")
    assert_accessible(page, "hand-out job")
    page.screenshot(path=IMAGES / "console-handout-done.png")

    view = _assigned(emu)
    for sn, who in zip(serials, ("ada", "grace", "alan"), strict=True):
        assert view[sn][0] == support.user_id(who)
    csv_text = page.request.get(page.url + "/outcomes.csv").text()
    assert csv_text.count("assigned") == 3 and "HO00002" in csv_text


def test_activation_from_the_seed_needs_the_servers_consent(
    inv: Inventory, emu: Emu, accounts: dict[str, list[str]], app_url: str, server: Server
) -> None:
    _stock(inv, ["HS00001"])
    roster = _roster([("HS00001", support.upn("grace"))])
    with new_client(app_url, server) as web:
        signed_in(web, "ada")
        csrf = page_csrf(web, "/handout")
        form = {"csrf_token": csrf, "reason": "desk", "activate": "true"}
        files = {"file": ("r.csv", roster, "text/csv")}
        refused = web.post("/handout/preview", data=form, files=files)
        assert refused.status_code == 400
        assert "switched off on this server" in refused.text
        assert "<code>handout.from_seed_off</code>" in refused.text

        app = server.holder.app
        assert isinstance(app, FastAPI)
        app.state.handout = HandoutSettings(activate_from_seed=True, workers=2)
        planned = web.post("/handout/preview", data=form, files=files)
        assert planned.status_code == 200 and "made from each sealed seed" in planned.text
        carried = re.search(r'name="roster" value="([^"]+)"', planned.text)
        assert carried
        started = web.post(
            "/handout/start",
            data={**form, "roster": carried.group(1)},
        )
        assert started.status_code == 303
        job = started.headers["location"]
        status = _wait(web, job)
        assert status["state"] == "done" and status["progress"] == {
            "pending": 0,
            "done": 1,
            "failed": 0,
            "skipped": 0,
            "total": 1,
        }
    assert _assigned(emu)["HS00001"] == (support.user_id("grace"), "activated")


def _wait(web: httpx.Client, job: str) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + 60
    while True:
        status: dict[str, Any] = web.get(f"{job}/status").json()
        if status["state"] not in ("pending", "running") or time.monotonic() > deadline:
            return status
        time.sleep(0.3)


def test_only_administrators_hand_out(
    inv: Inventory, accounts: dict[str, list[str]], app_url: str, server: Server
) -> None:
    for name in ("hal", "aud", "joe"):
        with new_client(app_url, server) as web:
            signed_in(web, name)
            csrf = page_csrf(web, "/me")
            for method, path in sorted(COVERED):
                url = path.replace("{job_id}", "1")
                answer = web.request(method, url, data={"csrf_token": csrf, "reason": "x"})
                assert answer.status_code == 403, (name, method, url)
    with new_client(app_url, server) as web:
        signed_in(web, "ada")
        assert web.get("/handout/jobs/424242").status_code == 404
