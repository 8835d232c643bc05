"""Bulk hand-out throughput (assign + activate from the sealed seed) against a throttled emulator.

The emulator (HTTPS, loopback, in its own process) holds 10,000 users and the tokens, already
pushed to its inventory. It is then given a request budget (the ceiling: one hand-out is one
``assignAndActivate`` call, so the ceiling in tokens/s is the budget in requests/s) and a
Graph-like latency on every call (``--latency-ms``; on loopback an answer takes a millisecond,
which no real tenant gives, and without it one call at a time would look as fast as many).

1. The roster is checked (users, guests, the five-method cap: one Graph read per user), timed
   apart and before the budget and latency are set: the hand-out is what is measured.
2. oathdesk hands out the roster: ``--workers`` workers share one adaptive rate limit that
   starts at ``--start-rate`` and follows the emulator's 429s.
3. The same hand-out with one worker (one call at a time), for ``--singles`` tokens.

Targets: the hand-out at >= 90 % of the ceiling and >= 20x one call at a time. Prints a table,
then one JSON line.

    .venv/bin/python bench/handout.py [--tokens N] [--budget N/SECONDS] [--latency-ms MS]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import multiprocessing as mp
import socket
import ssl
import tempfile
import time
import uuid
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import httpx

from oathdesk.bootstrap import build_inventory
from oathdesk.config import Config
from oathdesk.domain import Secret, SeedRecord
from oathdesk.emulator import EmulatorConfig, EmulatorState
from oathdesk.emulator.server import serve
from oathdesk.emulator.tls import TlsFiles, ensure_tls
from oathdesk.graph import GraphClient, GraphSettings, Uploader, UploadOptions, connect
from oathdesk.service import (
    HandoutSettings,
    Inventory,
    RosterPlan,
    import_seeds,
    plan_handout,
    reconcile,
    roster_from_file,
    run_handout,
    start_handout,
)
from oathdesk.store import upgrade

TENANT = "5b0f8a2c-1d3e-4f5a-9b8c-7d6e5f4a3b2c"
DOMAIN = "bench.example.com"
APP, APP_SECRET = "33333333-cccc-4ccc-8ccc-000000000001", "bench-app-secret"


def seed(users: int) -> dict[str, Any]:
    return {
        "tenant": {"id": TENANT, "domain": DOMAIN},
        "apps": [
            {
                "clientId": APP,
                "clientSecret": APP_SECRET,
                "roles": [
                    "Policy.ReadWrite.AuthenticationMethod",
                    "UserAuthenticationMethod.ReadWrite.All",
                    "User.Read.All",
                ],
            }
        ],
        "users": [
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"bench-{n}")),
                "userPrincipalName": f"u{n:05d}@{DOMAIN}",
                "displayName": f"User {n}",
                "userType": "Member",
            }
            for n in range(users)
        ],
    }


def records(prefix: str, count: int) -> list[SeedRecord]:
    return [
        SeedRecord(
            serial=f"{prefix}-{n:06d}",
            secret=Secret(hashlib.sha256(f"{prefix}{n}".encode()).digest()[:20]),
            manufacturer="BenchVendor",
            model="B1",
        )
        for n in range(count)
    ]


def seed_file(prefix: str, count: int) -> bytes:
    lines = ["serial number,secret key,time interval,manufacturer,model"]
    for r in records(prefix, count):
        b32 = base64.b32encode(r.secret.reveal()).decode().rstrip("=")
        lines.append(f"{r.serial},{b32},30,{r.manufacturer},{r.model}")
    return ("\n".join(lines) + "\n").encode()


def roster(prefix: str, count: int, first_user: int) -> bytes:
    rows = [f"{prefix}-{n:06d},u{first_user + n:05d}@{DOMAIN}" for n in range(count)]
    return ("serial,upn\n" + "\n".join(rows) + "\n").encode()


def _serve(port: int, tls: TlsFiles, users: int) -> None:
    config = EmulatorConfig(page_size=1000)
    serve(
        EmulatorState(seed(users), config=config),
        host="127.0.0.1",
        port=port,
        tls=tls,
        log_level="error",
    )


def start_emulator(tls: TlsFiles, users: int) -> tuple[BaseProcess, str]:
    """The emulator in its own process, so it has its own core and its own GIL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = mp.get_context("spawn").Process(target=_serve, args=(port, tls, users))
    process.start()
    url = f"https://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    with control(url, tls.ca_cert) as ctl:
        while True:
            try:
                if ctl.get("/_emulator/config").status_code == 200:
                    return process, url
            except httpx.TransportError:
                if time.monotonic() > deadline or not process.is_alive():
                    raise RuntimeError("the emulator did not start") from None
                time.sleep(0.2)


def control(url: str, ca: Path) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(ca))
    return httpx.Client(base_url=url, verify=context, trust_env=False, timeout=600)


def client(url: str, ca: Path, connections: int) -> GraphClient:
    settings = GraphSettings(
        tenant_id=TENANT,
        client_id=APP,
        client_secret=Secret(APP_SECRET.encode()),
        authority_host=url,
        base_url=f"{url}/beta",
        ca_file=ca,
    )
    return connect(settings, connections=connections)


def hand_out(
    inv: Inventory, plan: RosterPlan, settings: HandoutSettings
) -> tuple[int, float, dict[str, int]]:
    """(rows handed out, seconds, counts) of one hand-out job of a checked roster."""
    job = start_handout(inv, plan, actor="bench", reason="bench", settings=settings)
    started = time.perf_counter()
    report = run_handout(inv, job, actor="bench", settings=settings)
    seconds = time.perf_counter() - started
    assert report.state == "done", report.to_dict()
    return report.progress["done"], seconds, report.progress


def setup(inv: Inventory, entra: GraphClient, tokens: int, singles: int) -> None:
    """Our stock, the same tokens in Entra's inventory (bulk), linked by reconcile --fix."""
    for prefix, count in (("HO", tokens), ("ONE", singles)):
        import_seeds(inv, seed_file(prefix, count), f"{prefix}.csv", actor="bench")
        Uploader(entra, UploadOptions(chunk_size=100, concurrency=4)).upload(records(prefix, count))
    reconcile(inv, actor="bench", fix=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=10_000)
    parser.add_argument("--budget", default="30/1", help="requests per window, N/SECONDS")
    parser.add_argument("--latency-ms", type=int, default=800, help="added to every Graph call")
    parser.add_argument("--workers", type=int, default=48)
    parser.add_argument("--start-rate", type=float, default=20.0, help="requests/s to start at")
    parser.add_argument("--singles", type=int, default=40, help="tokens handed out one by one")
    args = parser.parse_args()
    limit, window = args.budget.split("/")
    ceiling = int(limit) / float(window)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tls = ensure_tls(folder / "tls", ["127.0.0.1"])
        process, url = start_emulator(tls, args.tokens + args.singles)
        try:
            ctl = control(url, tls.ca_cert)
            db_url = f"sqlite:///{folder / 'bench.db'}"
            upgrade(db_url)
            config = Config(
                sections={
                    "data": {"dir": str(folder / "data")},
                    "store": {"url": db_url, "key_file": str(folder / "keys.json")},
                }
            )
            entra = client(url, tls.ca_cert, args.workers + 4)
            entra.session.tokens.token()  # signed in before any clock starts
            with build_inventory(config, entra=entra) as inv:
                started = time.perf_counter()
                setup(inv, entra, args.tokens, args.singles)
                prepared = time.perf_counter() - started
                started = time.perf_counter()
                plan = plan_handout(
                    inv,
                    roster_from_file(roster("HO", args.tokens, 0), "roster.csv"),
                    activate=True,
                    workers=args.workers,
                )
                checked = time.perf_counter() - started
                single_plan = plan_handout(
                    inv,
                    roster_from_file(roster("ONE", args.singles, args.tokens), "one.csv"),
                    activate=True,
                )
                ctl.patch("/_emulator/config", json={"throttle": args.budget})
                rule = {"path": "^/beta/", "delayMs": args.latency_ms}
                ctl.post("/_emulator/faults", json={"rules": [rule]})
                many = HandoutSettings(True, args.workers, args.start_rate)
                done, seconds, counts = hand_out(inv, plan, many)
                limiter = entra.session.limiter
                throttled = limiter.throttle_events
                one = HandoutSettings(True, 1, args.start_rate)
                single_done, single_s, _ = hand_out(inv, single_plan, one)
            ctl.close()
        finally:
            process.terminate()
            process.join(10)
    ours = done / seconds
    singles = single_done / single_s
    share, speedup = ours / ceiling, ours / singles
    print(
        f"emulator: {args.budget} requests (ceiling {ceiling:g} tokens/s: one call each), "
        f"{args.latency_ms} ms per call; setup (import, bulk upload, link) {prepared:.1f} s"
    )
    print(f"{'way':24} {'tokens':>7} {'seconds':>8} {'tokens/s':>9}")
    print(f"{'oathdesk hand-out':24} {done:>7} {seconds:>8.1f} {ours:>9.1f}")
    print(f"{'one call at a time':24} {single_done:>7} {single_s:>8.1f} {singles:>9.1f}")
    print(f"{'emulator ceiling':24} {'':>7} {'':>8} {ceiling:>9.1f}")
    print(f"roster check of {done} rows (before the budget and latency were set): {checked:.1f} s")
    print(
        f"oathdesk: {share:.0%} of the ceiling (target 90%), {speedup:.0f}x one call at a time "
        f"(target 20x); {throttled} throttled answers"
    )
    print(
        json.dumps(
            {
                "bench": "handout",
                "tokens": done,
                "budget": args.budget,
                "latency_ms": args.latency_ms,
                "workers": args.workers,
                "ceiling_tokens_per_s": ceiling,
                "tokens_per_s": round(ours, 1),
                "one_at_a_time_tokens_per_s": round(singles, 1),
                "share_of_ceiling": round(share, 3),
                "speedup_vs_one_at_a_time": round(speedup, 1),
                "roster_check_s": round(checked, 1),
                "handout_s": round(seconds, 1),
                "throttled_answers": throttled,
                "counts": counts,
            }
        )
    )


if __name__ == "__main__":
    main()
