"""The import page and its API twin over HTTP (real uvicorn over TLS, real HTTPS Entra emulator):
preview, problems with locators, wrong password, confirm and push to 100 %, a repeated import,
roles, CSRF, no secret in any answer or log, and chromium driving it by keyboard."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from oathdesk.bootstrap import build_inventory
from oathdesk.containers.zipwrite import wrap_zip
from oathdesk.domain import FixedClock, Secret
from oathdesk.service import Inventory, TokenFilter, TokenState
from oathdesk.service.import_desk import HOLD_SECONDS
from oathdesk.service.queries import list_tokens
from oathdesk.store import upgrade
from tests.service import support
from tests.service.fixtures import Emu, emu, emu_session
from tests.web.conftest import CSRF_RE, Server, new_client, signed_in
from tests.web.conftest import PASSWORD as ACCOUNT_PASSWORD

__all__ = ["emu", "emu_session"]  # the emulator fixtures, used by ``inv`` below

PASSWORD = "zip-pass-42-typed"
UPLOAD_RE = re.compile(r'name="upload" value="([A-Za-z0-9_-]{40,})"')
JOB_RE = re.compile(r"^/import/jobs/([A-Za-z0-9_-]{16,})$")


@pytest.fixture
def inv(tmp_path: Path, sqlite_url: str, emu: Emu, clock: FixedClock) -> Iterator[Inventory]:
    """A migrated SQLite inventory whose Entra is the emulator (overrides the web one)."""
    upgrade(sqlite_url)
    inventory = build_inventory(support.config(sqlite_url, tmp_path, emu.url, emu.ca), clock=clock)
    yield inventory
    inventory.close()


class Seen:
    """Every answer body a test received, searched at the end for seeds and the password."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    def __call__(self, response: httpx.Response) -> httpx.Response:
        self.bodies.append(response.text + "\n" + str(response.headers))
        return response

    def assert_clean(self, prefix: str, count: int) -> None:
        haystack = "\n".join(self.bodies)
        assert haystack, "nothing was captured"
        assert PASSWORD not in haystack
        for n in range(count):
            raw = support.secret_for(prefix, n).reveal()
            leaked = [f for f in support.leak_forms(raw) if f in haystack]
            assert not leaked, f"seed {n} of {prefix} appeared in an answer"


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def admin(app_url: str, server: Server, accounts: dict[str, list[str]]) -> Iterator[httpx.Client]:
    with new_client(app_url, server) as client:
        yield signed_in(client, "ada")


def zipped(prefix: str, count: int) -> bytes:
    return wrap_zip(support.entra_csv(prefix, count), "tokens.csv", Secret(PASSWORD.encode()))


def page_token(client: httpx.Client) -> str:
    page = client.get("/import")
    assert page.status_code == 200
    found = CSRF_RE.search(page.text)
    assert found
    return found.group(1)


def preview(
    client: httpx.Client, data: bytes, name: str, seen: Seen, **fields: str
) -> httpx.Response:
    body = {"csrf_token": page_token(client), **fields}
    return seen(client.post("/import/preview", data=body, files={"file": (name, data)}))


def api_import(
    client: httpx.Client, data: bytes, name: str, seen: Seen, **fields: str
) -> httpx.Response:
    token = client.get("/api/v1/me").json()["csrf_token"]
    return seen(
        client.post(
            "/api/v1/imports",
            data=fields,
            files={"file": (name, data)},
            headers={"X-CSRF-Token": token},
        )
    )


def wait_for_job(client: httpx.Client, job_id: str, seen: Seen) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while True:
        job: dict[str, object] = seen(client.get(f"/api/v1/import/jobs/{job_id}")).json()
        if job["state"] != "running" or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def stock_count(inv: Inventory, *states: TokenState) -> int:
    flt = TokenFilter(states=list(states)) if states else None
    return list_tokens(inv, flt, limit=1, with_total=True).total or 0


def test_the_form_has_labelled_fields_and_a_csrf_token(admin: httpx.Client, seen: Seen) -> None:
    page = seen(admin.get("/import"))
    assert page.status_code == 200
    for field in ("file", "password", "format", "member"):
        assert f'<label for="{field}">' in page.text and f'id="{field}"' in page.text
    assert 'enctype="multipart/form-data"' in page.text
    assert 'name="pgp"' not in page.text  # no GnuPG home configured: no PGP choice offered


def test_preview_of_an_aes_zip_with_its_password(
    admin: httpx.Client, inv: Inventory, seen: Seen
) -> None:
    page = preview(admin, zipped("WZ", 3), "delivery.zip", seen, password=PASSWORD)
    assert page.status_code == 200, page.text
    assert "<dd>entra-csv</dd>" in page.text and "<dd>3</dd>" in page.text
    assert "No problems found." in page.text
    assert UPLOAD_RE.search(page.text), "no confirm form for a valid file"
    api = api_import(
        admin, zipped("WZ", 3), "delivery.zip", seen, password=PASSWORD, preview="true"
    )
    assert api.status_code == 200, api.text
    report = api.json()
    assert report["count"] == 3 and report["format"] == "entra-csv" and report["importable"]
    assert report["layers"] and report["errors"] == 0
    assert report["summary"]["models"] == {"Token2 C200": 2, "Token2 C301": 1}
    assert stock_count(inv) == 0, "a preview must not import"
    seen.assert_clean("WZ", 3)


def test_preview_of_a_broken_file_lists_every_problem_with_its_locator(
    admin: httpx.Client, inv: Inventory, seen: Seen
) -> None:
    broken = support.entra_csv("WB", 3, bad_last=True)
    page = preview(admin, broken, "broken.csv", seen)
    assert page.status_code == 200, page.text
    assert "<td>broken.csv:4</td>" in page.text
    assert "<code>seed.secret_not_base32</code>" in page.text
    assert "This file cannot be imported." in page.text
    assert not UPLOAD_RE.search(page.text), "a broken file must not be offered for import"
    api = api_import(admin, broken, "broken.csv", seen, preview="true")
    problems = api.json()["problems"]
    assert [(p["locator"], p["code"]) for p in problems] == [
        ("broken.csv:4", "seed.secret_not_base32")
    ]
    assert api.json()["importable"] is False
    refused = api_import(admin, broken, "broken.csv", seen)  # importing it anyway: all-or-nothing
    assert refused.status_code == 400
    assert refused.json()["error"]["details"]["problems"][0]["locator"] == "broken.csv:4"
    assert stock_count(inv) == 0
    seen.assert_clean("WB", 3)


def test_a_wrong_password_gets_a_clear_message(admin: httpx.Client, seen: Seen) -> None:
    page = preview(admin, zipped("WP", 2), "delivery.zip", seen, password="not-the-password")
    assert page.status_code == 400
    assert 'role="alert"' in page.text and "wrong ZIP password" in page.text
    assert "container.wrong_password" in page.text
    assert "not-the-password" not in page.text
    missing = preview(admin, zipped("WP", 2), "delivery.zip", seen)
    assert missing.status_code == 400 and "container.password_required" in missing.text
    api = api_import(
        admin, zipped("WP", 2), "delivery.zip", seen, password="nope-nope", preview="true"
    )
    assert api.status_code == 400
    assert api.json()["error"]["code"] == "container.wrong_password"
    seen.assert_clean("WP", 2)


def test_a_zip_of_several_seed_files_asks_which_and_member_picks_it(
    admin: httpx.Client, inv: Inventory, seen: Seen
) -> None:
    archive = Path(__file__).parent.parent / "formats/samples/variants/zip-two-seed-files.zip"
    data = archive.read_bytes()
    page = preview(admin, data, "two.zip", seen)
    assert page.status_code == 400 and "container.multiple_files" in page.text
    assert "File inside the ZIP" in page.text and "totp60.csv" in page.text
    page = preview(admin, data, "two.zip", seen, member="totp60.csv")
    upload = UPLOAD_RE.search(page.text)
    assert page.status_code == 200 and upload, page.text
    confirm = {"csrf_token": page_token(admin), "upload": upload.group(1)}
    done = seen(admin.post("/import/confirm", data=confirm))  # the held upload keeps the member
    assert done.status_code == 303
    job = wait_for_job(admin, done.headers["location"].rsplit("/", 1)[1], seen)
    assert job["import"]["added"] == 1 and job["state"] == "done", job  # type: ignore[index]
    assert stock_count(inv, TokenState.AVAILABLE) == 1
    api = api_import(admin, data, "two.zip", seen, member=" totp30.csv ", preview="true")
    assert api.status_code == 200, api.text
    assert api.json()["count"] == 1 and api.json()["summary"]["models"] == {"V TOTP30": 1}


def test_confirm_imports_then_the_push_reaches_100_percent_and_a_repeat_changes_nothing(
    admin: httpx.Client, inv: Inventory, seen: Seen, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the server runs in this process: its logs are searched too
    data = zipped("WC", 3)
    page = preview(admin, data, "delivery.zip", seen, password=PASSWORD)
    upload = UPLOAD_RE.search(page.text)
    assert upload
    # the same file previewed again before the first confirm: held twice, both confirmable
    early = preview(admin, data, "delivery.zip", seen, password=PASSWORD)
    upload2 = UPLOAD_RE.search(early.text)
    assert upload2 and 'id="already-imported"' not in early.text
    confirm = {"csrf_token": page_token(admin), "upload": upload.group(1)}
    done = seen(admin.post("/import/confirm", data=confirm))
    assert done.status_code == 303
    found = JOB_RE.match(done.headers["location"])
    assert found, done.headers["location"]
    status_page = seen(admin.get(done.headers["location"]))
    assert status_page.status_code == 200 and 'id="import-progress"' in status_page.text
    job = wait_for_job(admin, found.group(1), seen)
    assert job["state"] == "done", job
    assert (job["total"], job["done"], job["percent"]) == (3, 3, 100)
    assert stock_count(inv, TokenState.AVAILABLE) == 3, "pushed tokens become available"
    finished = seen(admin.get(done.headers["location"])).text
    assert '<progress id="import-progress" max="3" value="3">100 %</progress>' in finished
    again = seen(admin.post("/import/confirm", data=confirm))  # the same upload, once more
    assert again.status_code == 400 and "import.upload_expired" in again.text
    # the same file previewed after its import: a warning, no confirm
    repeat = preview(admin, data, "delivery.zip", seen, password=PASSWORD)
    assert repeat.status_code == 200 and 'id="already-imported"' in repeat.text
    assert "This file was already imported." in repeat.text and not UPLOAD_RE.search(repeat.text)
    # the copy held before the import, confirmed now: recognised, nothing added or pushed
    second = seen(admin.post("/import/confirm", data={**confirm, "upload": upload2.group(1)}))
    assert second.status_code == 303
    second_job = wait_for_job(admin, second.headers["location"].rsplit("/", 1)[1], seen)
    assert second_job["import"]["already_imported"] is True  # type: ignore[index]
    assert second_job["import"]["added"] == 0  # type: ignore[index]
    assert (second_job["total"], second_job["state"], second_job["push"]) == (0, "done", None)
    assert stock_count(inv) == 3 and stock_count(inv, TokenState.AVAILABLE) == 3
    seen.bodies.append(caplog.text)
    assert caplog.records, "no log was captured"
    seen.assert_clean("WC", 3)


def test_the_api_imports_and_answers_with_the_job_to_poll(
    admin: httpx.Client, inv: Inventory, seen: Seen
) -> None:
    started = api_import(admin, support.entra_csv("WA", 2), "plain.csv", seen)
    assert started.status_code == 202, started.text
    body = started.json()
    assert started.headers["location"] == f"/api/v1/import/jobs/{body['id']}"
    assert body["import"]["added"] == 2 and body["total"] == 2
    job = wait_for_job(admin, body["id"], seen)
    assert (job["state"], job["percent"], job["done"]) == ("done", 100, 2)
    assert seen(admin.get("/api/v1/import/jobs/no-such-job")).status_code == 404
    seen.assert_clean("WA", 2)


def test_an_upload_is_bound_to_the_session_that_made_it(
    admin: httpx.Client, app_url: str, server: Server, inv: Inventory, seen: Seen
) -> None:
    page = preview(admin, support.entra_csv("WS", 2), "plain.csv", seen)
    upload = UPLOAD_RE.search(page.text)
    assert upload
    with new_client(app_url, server) as other:
        signed_in(other, "ada")
        stolen = {"csrf_token": page_token(other), "upload": upload.group(1)}
        refused = seen(other.post("/import/confirm", data=stolen))
    assert refused.status_code == 400 and "import.upload_expired" in refused.text
    assert stock_count(inv) == 0


def test_an_upload_expires_on_the_inventorys_clock(
    admin: httpx.Client, inv: Inventory, clock: FixedClock, seen: Seen
) -> None:
    page = preview(admin, support.entra_csv("WE", 2), "plain.csv", seen)
    upload = UPLOAD_RE.search(page.text)
    assert upload
    clock.advance(HOLD_SECONDS + 1)  # no sleeping: the held upload reads the injected clock
    confirm = {"csrf_token": page_token(admin), "upload": upload.group(1)}
    late = seen(admin.post("/import/confirm", data=confirm))
    assert late.status_code == 400 and "import.upload_expired" in late.text
    assert stock_count(inv) == 0
    seen.assert_clean("WE", 2)


def test_signed_out_the_pages_ask_to_sign_in_and_the_api_answers_401(
    client: httpx.Client, accounts: dict[str, list[str]]
) -> None:
    for path in ("/import", "/import/jobs/x"):
        page = client.get(path)
        assert page.status_code == 303 and page.headers["location"].startswith("/signin?next=")
    for method, path in (("POST", "/api/v1/imports"), ("GET", "/api/v1/import/jobs/x")):
        answer = client.request(method, path)
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "auth.required"


@pytest.mark.parametrize("who", ["hal", "aud", "joe"])
def test_helpdesk_auditor_and_roleless_accounts_are_refused(
    who: str, app_url: str, server: Server, accounts: dict[str, list[str]], inv: Inventory
) -> None:
    data = support.entra_csv("WR", 1)
    with new_client(app_url, server) as client:
        signed_in(client, who)
        token = client.get("/api/v1/me").json()["csrf_token"]
        files = {"file": ("plain.csv", data)}
        answers = [
            client.get("/import"),
            client.post("/import/preview", data={"csrf_token": token}, files=files),
            client.post("/import/confirm", data={"csrf_token": token, "upload": "x"}),
            client.get("/import/jobs/x"),
            client.post("/api/v1/imports", files=files, headers={"X-CSRF-Token": token}),
            client.get("/api/v1/import/jobs/x"),
        ]
    assert [a.status_code for a in answers] == [403] * len(answers)
    assert answers[4].json()["error"]["code"] == "auth.forbidden"
    assert stock_count(inv) == 0


def test_a_post_without_the_csrf_token_is_refused(
    admin: httpx.Client, inv: Inventory, seen: Seen
) -> None:
    data = support.entra_csv("WX", 2)
    form = seen(admin.post("/import/preview", files={"file": ("plain.csv", data)}))
    assert form.status_code == 403 and "auth.csrf" in form.text
    api = seen(admin.post("/api/v1/imports", files={"file": ("plain.csv", data)}))
    assert api.status_code == 403 and api.json()["error"]["code"] == "auth.csrf"
    page = preview(admin, data, "plain.csv", seen)
    upload = UPLOAD_RE.search(page.text)
    assert upload
    confirm = seen(admin.post("/import/confirm", data={"upload": upload.group(1)}))
    assert confirm.status_code == 403
    assert stock_count(inv) == 0, "a refused write changes nothing"
    seen.assert_clean("WX", 2)


def test_the_api_twins_are_documented_in_openapi(client: httpx.Client) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    post = spec["paths"]["/api/v1/imports"]["post"]
    schema_ref = post["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    fields = spec["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]["properties"]
    assert {"file", "password", "format", "pgp", "preview"} <= set(fields)
    assert {"400", "401", "403"} <= set(post["responses"])
    assert "404" in spec["paths"]["/api/v1/import/jobs/{job_id}"]["get"]["responses"]
    assert not any(path.startswith("/import") for path in spec["paths"])


def test_a_browser_imports_by_keyboard_and_the_bar_fills(
    chromium: Browser,
    app_url: str,
    emu: Emu,
    inv: Inventory,
    accounts: dict[str, list[str]],
    tmp_path: Path,
    artifacts: Path,
) -> None:
    slow = {"rules": [{"path": "hardwareOathDevices", "method": "POST", "delayMs": 300}]}
    assert emu.control.post(f"{emu.url}/_emulator/faults", json=slow).status_code < 300
    upload = tmp_path / "delivery.zip"
    upload.write_bytes(zipped("WG", 4))
    polled: list[str] = []
    errors: list[str] = []
    context = chromium.new_context(base_url=app_url, ignore_https_errors=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("request", lambda r: polled.append(r.url) if "/api/v1/import/" in r.url else None)
        page.goto("/signin")
        page.get_by_label("Account name").fill("ada")
        page.get_by_label("Password").fill(ACCOUNT_PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url("**/dashboard")
        page.goto("/import")
        page.screenshot(path=artifacts / "import.png", full_page=True)
        page.get_by_label("Seed file").set_input_files(upload)
        page.get_by_label("ZIP password or PSKC passphrase (optional)").fill(PASSWORD)
        page.keyboard.press("Enter")
        expect(page.locator("#import-summary")).to_contain_text("entra-csv")
        page.screenshot(path=artifacts / "import-preview.png", full_page=True)
        page.get_by_role("button", name="Import and push to Entra").focus()
        page.keyboard.press("Enter")
        page.wait_for_url("**/import/jobs/*")
        expect(page.locator("#import-status")).to_contain_text("Done: 4 of 4", timeout=20_000)
        assert page.locator("#import-progress").evaluate("e => [e.value, e.max]") == [4, 4]
        page.screenshot(path=artifacts / "import-job.png", full_page=True)
        html = page.content()
    finally:
        context.close()
        emu.control.delete(f"{emu.url}/_emulator/faults")
    assert polled, "the job page never polled its API twin"
    assert not errors, errors
    assert PASSWORD not in html


def test_a_field_over_128_kib_is_a_400_naming_the_line_not_a_500(
    admin: httpx.Client, seen: Seen
) -> None:
    data = support.entra_csv("WF", 2) + b',WF9,"' + b"M" * 200 * 1024 + b'",30,Token2,C200\n'
    page = preview(admin, data, "big.csv", seen)
    assert page.status_code == 400, page.status_code
    assert "seed.field_too_large" in page.text and "big.csv:4" in page.text
    api = api_import(admin, data, "big.csv", seen, preview="true")
    assert api.status_code == 400
    assert api.json()["error"]["code"] == "seed.field_too_large"


def test_a_preview_is_bounded_however_many_problems_and_models_the_file_has(
    admin: httpx.Client, seen: Seen
) -> None:
    """600 broken rows and 600 model names: the page and the API list the first 500 problems
    and the 20 commonest models, and say how many there were in all."""
    rows = [f",WX{n:05d},NOT-BASE32!!,30,Token2,model-{n}" for n in range(600)]
    head = "upn,serial number,secret key,time interval,manufacturer,model"
    data = ("\n".join([head, *rows]) + "\n").encode()
    page = preview(admin, data, "many.csv", seen)
    assert page.status_code == 200
    assert page.text.count('<tr class="problem-error">') == 500
    assert "the first 500 of 600" in page.text
    body = api_import(admin, data, "many.csv", seen, preview="true").json()
    assert len(body["problems"]) == 500 and body["problems_total"] == 600
    assert body["problems"][0]["locator"] == "many.csv:2" and body["errors"] == 600
    good = "\n".join(
        [
            head,
            *(
                f",WY{n:05d},{support.b32(support.secret_for('WY', n))},30,T,m{n}"
                for n in range(600)
            ),
        ]
    )
    summary = api_import(admin, good.encode(), "models.csv", seen, preview="true").json()
    assert summary["count"] == 600 and len(summary["summary"]["models"]) == 20
    assert summary["summary"]["models_total"] == 600
