"""Console and API throughput and p95 with one ``oathdesk serve`` node and with two, on one
PostgreSQL database, side by side.

Why: several app nodes behind a load balancer only help if nothing a request needs lives in one
node (sessions, throttles, uploads, jobs, delivery files are all in the database). This bench
starts real ``oathdesk serve`` processes on the same PostgreSQL inventory (``--tokens`` tokens),
signs in once through the sign-in form (the session cookie then works on every node), creates an
API token, and for ``--seconds`` per run sends requests from ``--clients`` threads, each request
to the next node in turn (the load balancer's round robin):

* console: ``GET /inventory?state=available`` (the inventory page, first page of a filter);
* API: ``GET /api/v1/tokens?state=available&limit=50`` with ``Authorization: Bearer``.

Figures: requests per second, p50 and p95 in milliseconds, errors, for 1 node and for 2 nodes.
On a machine with few cores two nodes share the same cores (and PostgreSQL's): the figure shows
what a second node costs or gains here, not on separate machines.

Run: ``.venv/bin/python bench/nodes.py [--tokens N] [--seconds S] [--clients C]
[--postgres URL]``. PostgreSQL on loopback is required (``OATHDESK_TEST_POSTGRES_URL`` or
``--postgres``; default ``postgresql://postgres@127.0.0.1:5432/test``); the bench creates and
drops its own database there. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import update

from oathdesk.bootstrap import build_inventory
from oathdesk.config import Config
from oathdesk.domain import Secret, SeedRecord
from oathdesk.service.accounts import create_account
from oathdesk.service.api_tokens import create_api_token
from oathdesk.store import NewBatch, Token, TokenState, upgrade

RUN_SERVE = "import typer; from oathdesk.cli.serve_cmd import serve; typer.run(serve)"
CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
PASSWORD = "bench-nodes-password-1"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
CHUNK = 2000


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def bench_database(base_url: str) -> Iterator[str]:
    """A fresh database beside ``base_url``'s, dropped afterwards: its SQLAlchemy URL."""
    name = f"oathdesk_bench_nodes_{os.getpid()}"
    admin = base_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    head, _, _ = admin.rpartition("/")
    try:
        yield f"{head.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fill(sections: dict[str, Any], tokens: int) -> str:
    """``tokens`` tokens (half in Entra's stock), an admin ``ada``; returns an API token."""
    inv = build_inventory(Config(sections=sections))
    try:
        for first in range(0, tokens, CHUNK):
            serials = [f"ND{n:07d}" for n in range(first, min(tokens, first + CHUNK))]
            records = [
                SeedRecord(serial=s, secret=Secret(hashlib.sha256(s.encode()).digest()[:20]))
                for s in serials
            ]
            digest = hashlib.sha256(",".join(serials).encode()).hexdigest()
            with inv.uow() as uow:
                new = NewBatch(f"{serials[0]}.csv", "entra-csv", digest)
                uow.tokens.add_batch(new, records, inv.sealer, actor="bench")
        with inv.uow() as uow:
            uow.session.execute(
                update(Token)
                .where(Token.id % 2 == 0)
                .values(state=TokenState.AVAILABLE, entra_id=Token.serial)
            )
        with inv.db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        create_account(inv, "ada", Secret(PASSWORD.encode()), ["admin"], actor="bench")
        value, _ = create_api_token(inv, "bench-nodes", ["admin"], actor="bench")
        return value.reveal().decode()
    finally:
        inv.close()


def write_config(path: Path, data: Path, db_url: str) -> Path:
    path.write_text(
        f'[data]\ndir = "{data}"\n[store]\nurl = "{db_url}"\n[web]\nsecure_cookies = false\n'
    )
    return path


def serve(config: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OATHDESK_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN_SERVE, "--port", str(port), "--config", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{url}/signin", trust_env=False)
            return proc, url
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("oathdesk serve did not start") from None
            time.sleep(0.2)


def sign_in(url: str) -> httpx.Cookies:
    """The session cookie a browser gets from the sign-in form of one node."""
    with httpx.Client(base_url=url, trust_env=False, timeout=60) as web:
        found = CSRF_RE.search(web.get("/signin").text)
        assert found, "no CSRF token on the sign-in form"
        form = {"name": "ada", "password": PASSWORD, "csrf_token": found.group(1), "next": "/"}
        answer = web.post("/signin", data=form)
        assert answer.status_code in (200, 303), f"sign-in answered {answer.status_code}"
        return web.cookies


def run(
    urls: list[str],
    path: str,
    headers: dict[str, str],
    cookies: httpx.Cookies | None,
    *,
    clients: int,
    seconds: float,
) -> dict[str, Any]:
    """``clients`` threads for ``seconds``, each request to the next node in turn."""
    turn = count()
    spent: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker() -> None:
        nonlocal errors
        sessions = [
            httpx.Client(base_url=u, headers=headers, cookies=cookies, trust_env=False, timeout=60)
            for u in urls
        ]
        mine: list[float] = []
        bad = 0
        try:
            while time.monotonic() < stop:
                web = sessions[next(turn) % len(sessions)]
                started = time.perf_counter()
                status = web.get(path).status_code
                mine.append((time.perf_counter() - started) * 1000)
                bad += status != 200
        finally:
            for web in sessions:
                web.close()
        with lock:
            spent.extend(mine)
            errors += bad

    began = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    spent.sort()
    return {
        "requests": len(spent),
        "per_s": round(len(spent) / elapsed, 1),
        "p50_ms": round(statistics.median(spent), 1) if spent else None,
        "p95_ms": round(spent[int(0.95 * (len(spent) - 1))], 1) if spent else None,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--postgres", default=os.environ.get("OATHDESK_TEST_POSTGRES_URL", DEFAULT_PG)
    )
    args = parser.parse_args()
    figures: dict[str, Any] = {
        "tokens": args.tokens,
        "clients": args.clients,
        "cpus": os.cpu_count(),
    }
    with tempfile.TemporaryDirectory() as tmp, bench_database(args.postgres) as db_url:
        data = Path(tmp) / "data"
        upgrade(db_url)
        api_token = fill({"data": {"dir": str(data)}, "store": {"url": db_url}}, args.tokens)
        config = write_config(Path(tmp) / "oathdesk.toml", data, db_url)
        procs: list[subprocess.Popen[bytes]] = []
        try:
            urls = []
            for _ in range(2):  # one after the other: the first writes the shared web key
                proc, url = serve(config)
                procs.append(proc)
                urls.append(url)
            cookies = sign_in(urls[0])
            bearer = {"authorization": f"Bearer {api_token}"}
            for nodes in (1, 2):
                chosen = urls[:nodes]
                console = run(
                    chosen,
                    "/inventory?state=available",
                    {},
                    cookies,
                    clients=args.clients,
                    seconds=args.seconds,
                )
                api = run(
                    chosen,
                    "/api/v1/tokens?state=available&limit=50",
                    bearer,
                    None,
                    clients=args.clients,
                    seconds=args.seconds,
                )
                figures[f"nodes_{nodes}"] = {"console": console, "api": api}
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=15)
    print(f"{args.tokens} tokens on PostgreSQL, {args.clients} clients, {args.seconds:g} s per run")
    print(f"{'':10}{'1 node':>28}{'2 nodes':>28}")
    for part in ("console", "api"):
        one, two = figures["nodes_1"][part], figures["nodes_2"][part]
        shown = [f"{f['per_s']:>8}/s p95 {f['p95_ms']:>7} ms e{f['errors']}" for f in (one, two)]
        print(f"{part:10}{shown[0]:>28}{shown[1]:>28}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
