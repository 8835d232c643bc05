"""The upload's promise under fire: 5,000 tokens through 429s with Retry-After, 503s, 504s,
dropped connections and slow answers end with exactly 5,000 devices, each serial once; an
upload killed half-way and run again ends the same way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from oathdesk.formats import write_seeds
from oathdesk.graph import Journal, Uploader, UploadOptions, journal_path
from tests.graph.conftest import Emu
from tests.graph.support import APP, APP_SECRET, TENANT, records

BULK = r"hardwareOathDevices$"
READ = r"hardwareOathDevices"


def _chaos(emu: Emu) -> None:
    emu.configure(maxBulk=50, pageSize=500, throttle="60/0.5", bulkResultOrder="shuffled")
    emu.faults(
        {"path": BULK, "method": "PATCH", "status": 429, "retryAfter": 0.15, "probability": 0.08},
        {"path": BULK, "method": "PATCH", "status": 503, "probability": 0.05},
        {"path": BULK, "method": "PATCH", "status": 503, "retryAfter": 0.1, "probability": 0.05},
        {"path": BULK, "method": "PATCH", "status": 504, "probability": 0.05},
        {"path": BULK, "method": "PATCH", "drop": True, "probability": 0.05},
        # answered too late for the client (timeout 2 s) but carried out by the server
        {"path": BULK, "method": "PATCH", "delayMs": 2600, "count": 2},
        {"path": READ, "method": "GET", "status": 503, "probability": 0.05},
        {"path": READ, "method": "GET", "status": 429, "retryAfter": 0.1, "probability": 0.05},
        {"path": READ, "method": "GET", "drop": True, "probability": 0.03},
    )


def _assert_exactly_once(emu: Emu, count: int) -> None:
    serials = Counter(emu.serials())
    assert len(serials) == count and set(serials.values()) == {1}
    assert set(serials) == {r.serial for r in records(count)}


def test_5000_tokens_through_throttling_and_faults_end_exactly_once(
    emu: Emu, tmp_path: Path
) -> None:
    _chaos(emu)
    recs = records(5000)
    client = emu.client(timeout=2.0)
    journal = Journal(tmp_path / "j.jsonl", tenant=TENANT, base_url=client.session.base_url)
    progress: list[int] = []
    uploader = Uploader(
        client,
        UploadOptions(chunk_size=50, concurrency=4, unknown_grace=0.8),
        journal=journal,
        progress=progress.append,
    )
    report = uploader.upload(recs)
    client.close()
    counts = report.counts()
    assert counts["failed"] == 0, report.of("failed")[:3]
    assert counts["created"] + counts["present"] == 5000 and sum(progress) == 5000
    _assert_exactly_once(emu, 5000)
    assert report.unknown_outcomes >= 3  # the faults really happened and were settled
    assert client.session.limiter.throttle_events > 0
    state = journal.load()
    assert len(state.done) == 5000 and not state.sent


def test_an_upload_killed_half_way_and_run_again_ends_exactly_once(
    emu: Emu, tmp_path: Path
) -> None:
    count = 2000
    emu.configure(maxBulk=50)
    emu.faults(
        {"path": BULK, "method": "PATCH", "delayMs": 60},
        {"path": BULK, "method": "PATCH", "drop": True, "probability": 0.05},
    )
    seed = tmp_path / "tokens.csv"
    seed.write_bytes(write_seeds(records(count), "entra-csv"))
    env = {
        **os.environ,
        "OATHDESK_GRAPH_TENANT_ID": TENANT,
        "OATHDESK_GRAPH_CLIENT_ID": APP,
        "OATHDESK_GRAPH_CLIENT_SECRET": APP_SECRET,
        "PYTHONPATH": os.getcwd(),
    }
    env.pop("OATHDESK_CONFIG", None)
    argv = [
        sys.executable,
        "-m",
        "oathdesk",
        "entra",
        "upload",
        str(seed),
        "--chunk",
        "50",
        "--concurrency",
        "2",
        "--emulator",
        emu.url,
        "--ca-file",
        str(emu.ca),
    ]
    first = subprocess.Popen(
        argv, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while len(emu.serials()) < count // 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    made = len(emu.serials())
    assert count // 2 <= made < count  # really killed half-way
    assert journal_path(seed).exists()

    second = subprocess.run(
        [*argv, "--json"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert second.returncode == 0, second.stderr[-2000:]
    _assert_exactly_once(emu, count)
    import json

    doc = json.loads(second.stdout)
    assert doc["counts"]["failed"] == 0
    assert doc["counts"]["created"] + doc["counts"]["present"] == count
    # the second run sent only what the first had not finished
    assert doc["requests"]["bulk"] <= (count - made) // 50 + 10
