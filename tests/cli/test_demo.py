"""`oathdesk demo` runs the product on this machine: the console demo (emulator + inventory +
web, signed in over real HTTP; the delivery service beside it, walked in chromium from the
customer's order to the mailbox and the download) and the terminal walkthrough of the seed-file
job."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import pyzipper
from playwright.sync_api import Browser, expect

from oathdesk.cli.main import main
from tests.delivery.support import STRONG

CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def test_demo_walkthrough(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    assert main(["demo", "--walkthrough", "--data", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.count("(exit status 0)") == 4
    assert "demo finished" in out
    delivery = folder / "vendor-delivery.zip"
    assert delivery.read_bytes()[:4] == b"PK\x03\x04"
    password = (folder / "delivery-password.txt").read_text().strip()
    assert password in out  # the demo prints the sample's password for the user
    doc = json.loads((folder / "tokens.json").read_text())
    assert len(doc["value"]) == 25
    for item in doc["value"]:  # the seeds themselves are never printed
        assert item["secretKey"] not in out
    assert (folder / "tokens-duo.csv").read_text().count("\n") == 25


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(proc: subprocess.Popen[str], pattern: str, seconds: float) -> str:
    """Lines the demo printed up to the one matching ``pattern``."""
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        if re.search(pattern, line):
            return "".join(seen)
    raise AssertionError(f"the demo did not print {pattern!r}: {''.join(seen)}")


def test_console_demo_serves_a_stocked_console(
    chromium: Browser, tmp_path: Path, capsys: pytest.CaptureFixture[str], artifacts: Path
) -> None:
    port = _free_port()
    folder = tmp_path / "demo"
    env = {**os.environ, "COLUMNS": "200", "OATHDESK_DATA_DIR": str(tmp_path / "unused")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oathdesk",
            "demo",
            "--data",
            str(folder),
            "--port",
            str(port),
            "--delivery-port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        printed = _wait_for(proc, r"Stop with Ctrl-C", 120)
        password = re.search(r"sign in as\s+admin\s+password\s+(\S+)", printed)
        assert password, printed
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, trust_env=False, follow_redirects=False) as client:
            deadline = time.monotonic() + 10  # uvicorn binds right after the announcement
            while True:
                try:
                    page = client.get("/signin")
                    break
                except httpx.ConnectError:
                    assert time.monotonic() < deadline, "the demo console did not answer"
                    time.sleep(0.2)
            token = CSRF_RE.search(page.text)
            assert token, page.text
            signed = client.post(
                "/signin",
                data={
                    "name": "admin",
                    "password": password.group(1),
                    "csrf_token": token.group(1),
                    "next": "/dashboard",
                },
            )
            assert signed.status_code == 303 and signed.headers["location"] == "/dashboard"
            dashboard = client.get("/api/v1/dashboard").json()
            assert dashboard["total"] == 40
            assert dashboard["by_state"]["activated"] == 6  # 2 by the help desk, 4 by roster
            assert dashboard["by_state"]["available"] == 34
            assert client.get("/dashboard").status_code == 200
            listed = client.get("/api/v1/tokens", params={"limit": 100}).json()["items"]
            dashboard_serials = [t["serial"] for t in listed]
            assert len(dashboard_serials) == 40
        # the demo's two hand-overs were mailed by its sender thread into the notify mailbox
        mailbox = folder / "notify" / "mailbox"
        deadline = time.monotonic() + 20
        while len(list(mailbox.glob("*.eml"))) < 2:
            assert time.monotonic() < deadline, "the hand-over mails were not written"
            time.sleep(0.2)
        mails = [p.read_text() for p in sorted(mailbox.glob("*.eml"))]
        assert all("Your token is active: sign in with it" in m for m in mails), mails[0]
        assert str(mailbox) in printed
        helpdesk = re.search(r"help desk\s+helpdesk\s+password\s+(\S+)", printed)
        assert helpdesk, printed
        with httpx.Client(base_url=base, trust_env=False, follow_redirects=False) as desk:
            token = CSRF_RE.search(desk.get("/signin").text)
            assert token
            signed = desk.post(
                "/signin",
                data={
                    "name": "helpdesk",
                    "password": helpdesk.group(1),
                    "csrf_token": token.group(1),
                },
            )
            assert signed.status_code == 303
            assert desk.get("/api/v1/me").json()["roles"] == ["helpdesk"]
        # an emulated Entra user signs in with Microsoft (OIDC through the emulator) in chromium
        user = re.search(r"Entra sign-in\s+(alan@\S+)\s+password\s+(\S+)", printed)
        assert user, printed
        context = chromium.new_context(ignore_https_errors=True)
        try:
            tab = context.new_page()
            tab.goto(f"{base}/signin")
            tab.get_by_role("link", name="Sign in with Microsoft").click()
            tab.get_by_label("User name").fill(user.group(1))
            tab.get_by_label("Password").fill(user.group(2))
            tab.get_by_label("Password").press("Enter")
            expect(tab.get_by_role("heading", name="My tokens")).to_be_visible()
            assert tab.url == f"{base}/me"
            expect(tab.locator("main")).to_contain_text(user.group(1))
        finally:
            context.close()
        _walk_the_vendor_flow(chromium, printed, artifacts)
        # the commands it prints work as pasted, from another folder, with a clean environment
        listing = re.search(r"the inventory\s+(.+? tokens list --config \S+)", printed)
        assert listing, printed
        home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
        elsewhere.mkdir()
        clean = {k: v for k, v in os.environ.items() if not k.startswith("OATHDESK_")}
        clean |= {"HOME": str(home), "COLUMNS": "200"}
        clean.pop("XDG_DATA_HOME", None)
        pasted = subprocess.run(
            [*shlex.split(listing.group(1)), "--json", "--limit", "100"],
            cwd=elsewhere,
            env=clean,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert pasted.returncode == 0, pasted.stderr
        assert {t["serial"] for t in json.loads(pasted.stdout)["items"]} == set(dashboard_serials)
        codes = re.search(r"token codes\s+(.+? seeds codes .+?)  \(what each", printed)
        assert codes, printed
        shown = subprocess.run(
            shlex.split(codes.group(1)), cwd=elsewhere, env=clean, capture_output=True, text=True
        )
        assert shown.returncode == 0, shown.stderr
        assert not home.exists()  # nothing was created in the home folder
        # the delivery it announces is a real AES ZIP whose password it printed
        zip_password = re.search(r"ZIP password (\S+)\)", printed)
        assert zip_password and (folder / "vendor-delivery.zip").read_bytes()[:2] == b"PK"
        pw = str(_write(tmp_path / "pw", zip_password.group(1)))
        assert (
            main(["seeds", "inspect", str(folder / "vendor-delivery.zip"), "--password-file", pw])
            == 0
        )
        # the second delivery, left for the console's import page: same password, new serials
        capsys.readouterr()
        next_zip = str(folder / "vendor-delivery-2.zip")
        assert main(["seeds", "inspect", next_zip, "--password-file", pw, "--json"]) == 0
        fresh = {t["serial"] for t in json.loads(capsys.readouterr().out)["tokens"]}
        assert len(fresh) == 20 and not fresh & set(dashboard_serials)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        finally:
            if proc.stdout is not None:
                proc.stdout.close()
    # a second run rebuilds the folder it made; a foreign non-empty folder is refused
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "important.txt").write_text("keep")
    assert main(["demo", "--data", str(foreign), "--port", str(port)]) == 2
    assert (foreign / "important.txt").read_text() == "keep"


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _walk_the_vendor_flow(chromium: Browser, printed: str, artifacts: Path) -> None:
    """The delivery service the demo prints: a customer finds a sample order and asks for its
    file; the reviewer approves the demo's pending request; its mail is in the mailbox page, and
    its link downloads the file with the password the demo printed."""
    url = re.search(r"seed delivery\s+(http://127\.0\.0\.1:\d+)/", printed)
    reviewer = re.search(r"reviewer\s+reviewer\s+password\s+(\S+)", printed)
    mailbox = re.search(r"mailbox\s+(http://\S+/demo/mailbox)", printed)
    order = re.search(r"order\s+PO-1002 for (\S+)\s+\(SH-3 serial (\d+)\)", printed)
    first = re.search(r"order\s+PO-1001 for \S+\s+\(SH-1 serial (\d+),", printed)
    sample = re.search(r"request #(\d+) for PO-1001 SH-1 .*file password is (\S+)\.", printed)
    assert url and reviewer and mailbox and order and first and sample, printed
    assert mailbox.group(1) == f"{url.group(1)}/demo/mailbox"
    context = chromium.new_context(base_url=url.group(1), accept_downloads=True)
    try:
        page = context.new_page()
        page.goto("/demo/mailbox")
        expect(page.get_by_role("status")).to_contain_text("No mail yet.")
        # the customer: a sample order of the demo's second delivery is found and asked for
        page.goto("/order")
        page.get_by_label("PO, invoice or shipment number").fill("PO-1002")
        page.get_by_label("Business e-mail address").fill(order.group(1))
        page.get_by_role("button", name="Find the order").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Order PO-1002")
        page.get_by_label("SH-3", exact=True).check()
        page.get_by_label("Serial of a token in SH-3").fill(order.group(2))
        page.get_by_role("button", name="Verify and continue").click()
        page.get_by_label("Password", exact=True).fill(STRONG)
        page.get_by_label("Password again").fill(STRONG)
        page.get_by_role("button", name="Send the request for review").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Request received")
        # the reviewer: the demo's sample request is pending; approve it
        page.goto("/review")
        page.get_by_label("Account name").fill("reviewer")
        page.get_by_label("Password").fill(reviewer.group(1))
        page.get_by_label("Password").press("Enter")
        expect(page.get_by_role("table")).to_contain_text("PO-1002")
        page.get_by_role("link", name=sample.group(1), exact=True).click()
        page.get_by_role("button", name="Approve: build, encrypt and mail").click()
        expect(page.get_by_role("status")).to_contain_text(f"link mailed to {order.group(1)}")
        # the mailbox shows the mail; its link downloads the file
        page.goto("/demo/mailbox")
        mail = page.get_by_role("article")
        expect(mail).to_have_count(1)
        expect(mail.get_by_role("heading")).to_have_text(
            "Your token seed file(s) for order PO-1001"
        )
        page.screenshot(path=artifacts / "demo-mailbox.png", full_page=True)
        page.get_by_role("link", name="Download seeds-PO-1001.zip").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("seeds-PO-1001")
        page.get_by_label("The password you chose for this file").fill(sample.group(2))
        with page.expect_download() as info:
            page.get_by_role("button", name="Download").click()
        with pyzipper.AESZipFile(io.BytesIO(Path(info.value.path()).read_bytes())) as archive:
            archive.setpassword(sample.group(2).encode())
            (member,) = archive.namelist()
            plain = archive.read(member).decode()
        assert first.group(1) in plain and plain.count("\n") == 21  # header and SH-1's 20 tokens
    finally:
        context.close()
