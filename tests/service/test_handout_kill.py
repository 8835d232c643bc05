"""A real ``oathdesk tokens hand-out`` process killed with SIGKILL half-way, then ``--resume``:
every roster row ends done exactly once, as Entra itself shows (each device assigned to its
roster user and activated, no user holding two of the roster's tokens)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from oathdesk.config import Config
from oathdesk.service import Inventory, verify_audit
from oathdesk.store import Job, JobItem
from tests.service.fixtures import Emu
from tests.service.handout_support import assert_once, people, roster, stock, tenant
from tests.service.support import environment, upn

ROOT = Path(__file__).resolve().parents[2]
ROWS = 48


def _done(inv: Inventory) -> int:
    with inv.uow(write=False) as uow:
        query = (
            select(func.count())
            .select_from(JobItem)
            .join(Job, Job.id == JobItem.job_id)
            .where(Job.kind == "tokens.hand_out", JobItem.state == "done")
        )
        return int(uow.session.execute(query).scalar_one())


def test_a_killed_hand_out_resumes_with_every_row_done_once(
    inv: Inventory, emu: Emu, cfg: Config, tmp_path: Path
) -> None:
    tenant(emu, ROWS)
    sns = stock(inv, "K", ROWS)
    pairs = list(zip(sns, (upn(k) for k in people(ROWS)), strict=True))
    path = tmp_path / "roster.csv"
    path.write_bytes(roster(pairs))
    slow = {"method": "POST", "path": "assignAndActivate", "delayMs": 400}
    assert emu.control.post(f"{emu.url}/_emulator/faults", json={"rules": [slow]}).is_success
    env = {
        **os.environ,
        **environment(cfg),
        "OATHDESK_HANDOUT_ACTIVATE_FROM_SEED": "true",
        "OATHDESK_HANDOUT_WORKERS": "3",
    }
    command = [sys.executable, "-m", "oathdesk", "tokens", "hand-out"]
    child = subprocess.Popen(
        [*command, str(path), "--activate-from-seed", "--reason", "RITM-7", "--json"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while _done(inv) < 5:
        assert child.poll() is None, "the hand-out ended before it was killed"
        assert time.monotonic() < deadline, "the hand-out did not get going"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(30) == -signal.SIGKILL
    killed_at = _done(inv)
    assert killed_at < ROWS  # it really died half-way
    with inv.uow(write=False) as uow:
        job = uow.session.execute(select(Job).where(Job.kind == "tokens.hand_out")).scalar_one()
        job_id, state = job.id, job.state
    assert state == "running"
    emu.control.delete(f"{emu.url}/_emulator/faults")
    resumed = subprocess.run(
        [*command, "--resume", str(job_id), "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=180,
    )
    assert resumed.returncode == 0, resumed.stderr.decode()[-2000:]
    doc = json.loads(resumed.stdout)
    assert doc["resumed"] is True and doc["state"] == "done"
    assert doc["progress"]["done"] == ROWS and doc["progress"]["failed"] == 0
    assert sorted(r["serial"] for r in doc["rows"]) == sns
    assert {r["outcome"] for r in doc["rows"]} == {"activated"}
    client = emu.client()
    try:
        assert_once(client, pairs, "activated")
    finally:
        client.close()
    assert verify_audit(inv).ok
