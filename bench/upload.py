"""Bulk upload throughput against a throttled emulator, three ways, 10,000 tokens each.

The emulator (HTTPS, in this process) gets a request budget and a bulk cap. Then:

1. oathdesk's upload (chunks at the bulk cap, several requests in flight, shared rate limit);
2. one POST per token in sequence, honouring Retry-After (the community scripts' way);
3. one giant bulk request holding every token (refused under the cap, so the cap is lifted
   for this one run to time it).

The throttle ceiling is budget x bulk cap tokens per second; oathdesk's target is at least 90 %
of it and at least 20x the one-per-token way. One POST per token is capped by the budget itself,
so by default it runs for ``--singles`` tokens and its wall time for all tokens is projected
(pass ``--singles 10000`` to time them all: minutes). Prints a table, then one JSON line.

    .venv/bin/python bench/upload.py [--tokens N] [--budget N/SECONDS] [--bulk N] [--singles N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import socket
import ssl
import tempfile
import time
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import httpx

from oathdesk.domain import Secret, SeedRecord
from oathdesk.emulator import EmulatorConfig, EmulatorState
from oathdesk.emulator.server import serve
from oathdesk.emulator.tls import TlsFiles, ensure_tls
from oathdesk.graph import GraphSettings, Uploader, UploadOptions, connect, device_body

TENANT = "5b0f8a2c-1d3e-4f5a-9b8c-7d6e5f4a3b2c"
APP, APP_SECRET = "33333333-cccc-4ccc-8ccc-000000000001", "bench-app-secret"
SEED = {
    "tenant": {"id": TENANT, "domain": "bench.example.com"},
    "apps": [
        {
            "clientId": APP,
            "clientSecret": APP_SECRET,
            "roles": ["Policy.ReadWrite.AuthenticationMethod", "User.Read.All"],
        }
    ],
    "users": [],
}


def records(count: int, prefix: str) -> list[SeedRecord]:
    return [
        SeedRecord(
            serial=f"{prefix}-{n:06d}",
            secret=Secret(hashlib.sha256(f"{prefix}{n}".encode()).digest()[:20]),
            manufacturer="BenchVendor",
            model="B1",
        )
        for n in range(count)
    ]


def _serve(port: int, tls: TlsFiles, config: EmulatorConfig) -> None:
    serve(
        EmulatorState(SEED, config=config), host="127.0.0.1", port=port, tls=tls, log_level="error"
    )


def start_emulator(tls: TlsFiles, config: EmulatorConfig) -> tuple[BaseProcess, str]:
    """The emulator in its own process, so it has its own core and its own GIL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = mp.get_context("spawn").Process(target=_serve, args=(port, tls, config))
    process.start()
    url = f"https://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    with control(url, tls.ca_cert) as ctl:
        while True:
            try:
                if ctl.get("/_emulator/config").status_code == 200:
                    return process, url
            except httpx.TransportError:
                if time.monotonic() > deadline or not process.is_alive():
                    raise RuntimeError("the emulator did not start") from None
                time.sleep(0.1)


def control(url: str, ca: Path) -> httpx.Client:
    return httpx.Client(
        base_url=url,
        verify=ssl.create_default_context(cafile=str(ca)),
        trust_env=False,
        timeout=600,
    )


def figure(tokens: int, seconds: float, **extra: Any) -> dict[str, Any]:
    return {
        "tokens": tokens,
        "seconds": round(seconds, 2),
        "tokens_per_s": round(tokens / seconds, 1) if seconds else None,
        **extra,
    }


def run_oathdesk(
    settings: GraphSettings, count: int, bulk: int, concurrency: int
) -> dict[str, Any]:
    client = connect(settings)
    client.session.tokens.token()  # sign in before the clock starts, as for every way
    started = time.perf_counter()
    report = Uploader(client, UploadOptions(chunk_size=bulk, concurrency=concurrency)).upload(
        records(count, "OD")
    )
    seconds = time.perf_counter() - started
    limiter = client.session.limiter
    client.close()
    created = report.counts()["created"]
    assert created == count, report.counts()
    return figure(
        created,
        seconds,
        requests=report.bulk_requests,
        throttle_events=limiter.throttle_events,
    )


def run_singles(settings: GraphSettings, ca: Path, count: int, total: int) -> dict[str, Any]:
    client = connect(settings)
    token = client.session.tokens.token()
    client.close()
    url = f"{settings.base_url}/directory/authenticationMethodDevices/hardwareOathDevices"
    headers = {"Authorization": f"Bearer {token}"}
    throttled = 0
    with httpx.Client(verify=ssl.create_default_context(cafile=str(ca)), trust_env=False) as h:
        started = time.perf_counter()
        for record in records(count, "ONE"):
            while True:
                r = h.post(url, json=device_body(record), headers=headers)
                if r.status_code != 429:
                    break
                throttled += 1
                time.sleep(float(r.headers.get("Retry-After", "1")))
            assert r.status_code == 201, r.text
        seconds = time.perf_counter() - started
    result = figure(count, seconds, throttled_responses=throttled)
    result["projected_seconds_for_all"] = round(seconds * total / count, 1)
    return result


def run_giant(settings: GraphSettings, ca: Path, count: int, ctl: httpx.Client) -> dict[str, Any]:
    client = connect(settings)
    token = client.session.tokens.token()
    client.close()
    url = f"{settings.base_url}/directory/authenticationMethodDevices/hardwareOathDevices"
    body = {
        "@context": "#$delta",
        "value": [
            {"@contentId": str(n), **device_body(r)} for n, r in enumerate(records(count, "BIG"))
        ],
    }
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(
        verify=ssl.create_default_context(cafile=str(ca)), trust_env=False, timeout=600
    ) as h:
        refused = h.patch(url, json=body, headers=headers).status_code
        cap = ctl.get("/_emulator/config").json()["maxBulk"]
        ctl.patch("/_emulator/config", json={"maxBulk": count})
        started = time.perf_counter()
        r = h.patch(url, json=body, headers=headers)
        seconds = time.perf_counter() - started
        ctl.patch("/_emulator/config", json={"maxBulk": cap})
    assert r.status_code == 201, r.text[:300]
    return figure(count, seconds, status_under_cap=refused, request_bytes=len(json.dumps(body)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=10_000)
    parser.add_argument("--budget", default="10/1", help="requests per window, N/SECONDS")
    parser.add_argument("--bulk", type=int, default=50, help="the emulator's bulk cap")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--singles", type=int, default=300, help="tokens sent one by one")
    args = parser.parse_args()
    limit, window = args.budget.split("/")
    ceiling = int(limit) / float(window) * args.bulk
    with tempfile.TemporaryDirectory() as tmp:
        tls = ensure_tls(Path(tmp) / "tls", ["127.0.0.1"])
        config = EmulatorConfig(max_bulk=args.bulk, throttle=args.budget, page_size=500)
        process, url = start_emulator(tls, config)
        try:
            ctl = control(url, tls.ca_cert)
            settings = GraphSettings(
                tenant_id=TENANT,
                client_id=APP,
                client_secret=Secret(APP_SECRET.encode()),
                authority_host=url,
                base_url=f"{url}/beta",
                ca_file=Path(tls.ca_cert),
            )
            ways = {"oathdesk": run_oathdesk(settings, args.tokens, args.bulk, args.concurrency)}
            ctl.post("/_emulator/reset")
            ways["one_post_per_token"] = run_singles(
                settings, tls.ca_cert, min(args.singles, args.tokens), args.tokens
            )
            ctl.post("/_emulator/reset")
            ways["one_giant_request"] = run_giant(settings, tls.ca_cert, args.tokens, ctl)
            ctl.close()
        finally:
            process.terminate()
            process.join(10)
    ours, singles = ways["oathdesk"], ways["one_post_per_token"]
    print(f"throttle: {args.budget} requests, bulk cap {args.bulk}: ceiling {ceiling:g} tokens/s")
    print(f"{'way':22} {'tokens':>7} {'seconds':>8} {'tokens/s':>9}  notes")
    for name, f in ways.items():
        notes = ""
        if name == "one_post_per_token" and f["tokens"] < args.tokens:
            notes = f"sample; all {args.tokens}: ~{f['projected_seconds_for_all']} s"
        if name == "one_giant_request":
            notes = f"HTTP {f['status_under_cap']} under the cap; timed with the cap lifted"
        print(f"{name:22} {f['tokens']:>7} {f['seconds']:>8} {f['tokens_per_s']:>9}  {notes}")
    speedup = ours["tokens_per_s"] / singles["tokens_per_s"]
    share = ours["tokens_per_s"] / ceiling
    print(
        f"oathdesk: {speedup:.0f}x one-per-token (target 20x), {share:.0%} of the ceiling "
        "(target 90%)"
    )
    print(
        json.dumps(
            {
                "bench": "upload",
                "tokens": args.tokens,
                "budget": args.budget,
                "bulk_cap": args.bulk,
                "ceiling_tokens_per_s": ceiling,
                "ways": ways,
                "speedup_vs_one_per_token": round(speedup, 1),
                "share_of_ceiling": round(share, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
