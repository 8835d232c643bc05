"""Web console and REST API figures at 1,000 and 100,000 tokens, and self-enrollments per second.

Why: the help desk pages through a 100,000-token inventory in the browser and automation through
the API; keyset paging and indexed filters must keep both as fast as on 1,000 tokens (target: p95
at 100,000 within 2x of p95 at 1,000), end to end through TLS, routing, sessions, CSRF,
templates and JSON. Everything is real: uvicorn over TLS on 127.0.0.1 in its own process, a
SQLite inventory in a temporary folder (filled through the store's ``add_batch``), a local admin
session, and the Entra emulator over HTTPS in a third process as Entra for self-enrollment.

Measured, p50/p95 over ``--samples`` sequential requests on one keep-alive connection: the
inventory page and ``GET /api/v1/tokens`` with a filter (``state=available``, half the tokens)
and for a page in the middle of that listing (cursor), and ``GET /api/v1/tokens/{serial}`` (a
random serial). A route the app does not offer (not in its OpenAPI, or not answering 200) is
left out and named. Self-enrollment: ``--clients`` threads, each its own TLS connection, enroll
``--enrollments`` tokens through ``POST /api/v1/me/tokens``, each a different user (a session of
a local account named by the user's UPN) and a different token (pushed to the emulator, meant
for those users); the figure is null, with the reason, while the route does not exist.

Run: ``.venv/bin/python bench/web.py [--sizes 1000 100000] [--samples N] [--enrollments N]``.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import multiprocessing as mp
import os
import random
import secrets
import socket
import ssl
import statistics
import struct
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update
from starlette.responses import Response

from oathdesk.bootstrap import build_inventory
from oathdesk.config import Config
from oathdesk.domain import Secret, SeedRecord
from oathdesk.emulator import EmulatorState
from oathdesk.emulator.server import serve
from oathdesk.emulator.tls import TlsFiles, ensure_tls
from oathdesk.service import Inventory, TokenFilter, TokenState, list_tokens, push
from oathdesk.service.accounts import HASHER, create_account, open_session
from oathdesk.store import AccountRepository, NewBatch, Token, upgrade
from oathdesk.web import WebSettings
from oathdesk.web.security import set_session_cookie

TENANT = "7a1c2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
DOMAIN = "webbench.example.com"
APP, APP_SECRET = "33333333-cccc-4ccc-8ccc-000000000001", "web-bench-app-secret"
CHUNK = 10_000
FILTER = "state=available&limit=50"
ENROLL = "/api/v1/me/tokens"
ADMIN = "bench-admin"


def upn(n: int) -> str:
    return f"enrollee{n:04d}@{DOMAIN}"


def seed_document(users: int) -> dict[str, Any]:
    """The emulator's tenant: our app with the Graph permissions we need, and the enrollees."""
    roles = ["Policy.ReadWrite.AuthenticationMethod", "UserAuthenticationMethod.ReadWrite.All"]
    app = {"clientId": APP, "clientSecret": APP_SECRET, "roles": [*roles, "User.Read.All"]}
    people = [
        {"id": str(uuid.uuid5(uuid.NAMESPACE_DNS, upn(n))), "userPrincipalName": upn(n)}
        | {"displayName": f"Enrollee {n}", "userType": "Member", "roles": []}
        for n in range(users)
    ]
    return {"tenant": {"id": TENANT, "domain": DOMAIN}, "apps": [app], "users": people}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _serve_emulator(port: int, tls: TlsFiles, users: int) -> None:
    state = EmulatorState(seed_document(users))
    serve(state, host="127.0.0.1", port=port, tls=tls, log_level="error")


def _serve_web(port: int, tls: TlsFiles, sections: dict[str, Any], key: bytes) -> None:
    import uvicorn

    from oathdesk.web import create_app

    inv = build_inventory(Config(sections=sections))
    app = create_app(inv, WebSettings(secret_key=Secret(key)), owns_inventory=True)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="error",
        access_log=False,
        server_header=False,
        proxy_headers=True,  # as ``oathdesk serve``: X-Forwarded-For believed from 127.0.0.1
        forwarded_allow_ips="127.0.0.1",
        ssl_certfile=str(tls.server_cert),
        ssl_keyfile=str(tls.server_key),
    )


def start(target: Callable[..., None], args: tuple[Any, ...], ca: Path) -> tuple[BaseProcess, str]:
    """``target(port, *args)`` in its own process (its own core and GIL), once it answers."""
    port = free_port()
    process = mp.get_context("spawn").Process(target=target, args=(port, *args))
    process.start()
    url = f"https://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    with client(url, ca) as probe:
        while True:
            try:
                probe.get("/")
                return process, url
            except httpx.TransportError:
                if time.monotonic() > deadline or not process.is_alive():
                    process.terminate()
                    raise RuntimeError(f"{target.__name__} did not start") from None
                time.sleep(0.1)


def client(url: str, ca: Path, **headers: str) -> httpx.Client:
    return httpx.Client(
        base_url=url,
        verify=ssl.create_default_context(cafile=str(ca)),
        trust_env=False,
        timeout=120,
        headers=headers,
    )


def seed_of(serial: str) -> bytes:
    return hashlib.sha256(f"web-bench-{serial}".encode()).digest()[:20]


def totp(seed: bytes) -> str:
    """RFC 6238 SHA-1, 6 digits, 30 s: the code the token in the user's hand shows now."""
    digest = hmac.digest(seed, struct.pack(">Q", int(time.time() // 30)), "sha1")
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def add_batch(inv: Inventory, serials: list[str], **restriction: Any) -> int:
    records = [
        SeedRecord(
            serial=s,
            secret=Secret(seed_of(s)),
            manufacturer=("Token2", "Feitian", "Token2")[i % 3],
            model=("C301", "C200", "C302")[i % 3],
        )
        for i, s in enumerate(serials)
    ]
    digest = hashlib.sha256(",".join(serials).encode()).hexdigest()
    with inv.uow() as uow:
        new = NewBatch(f"{serials[0]}.csv", "entra-csv", digest, **restriction)
        result = uow.tokens.add_batch(new, records, inv.sealer, actor="bench")
        return int(result.batch.id)


def fill(inv: Inventory, size: int) -> float:
    """``size`` tokens, half of them as if pushed to Entra's stock; seconds spent."""
    started = time.perf_counter()
    for first in range(0, size, CHUNK):
        add_batch(inv, [f"SN{n:07d}" for n in range(first, min(size, first + CHUNK))])
    with inv.uow() as uow:
        uow.session.execute(
            update(Token)
            .where(Token.id % 2 == 0, Token.serial.like("SN%"))
            .values(state=TokenState.AVAILABLE, entra_id=Token.serial)
        )
    with inv.db.engine.begin() as conn:  # statistics, as a maintained database has them
        conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - started


def session_cookie(inv: Inventory, settings: WebSettings, name: str, address: str) -> str:
    """A signed-in browser's cookie header for account ``name`` (as the sign-in form sets it)."""
    token, _ = open_session(inv, name, address=address, lifetime=settings.session_lifetime)
    response = Response()
    set_session_cookie(response, settings, token)
    jar = SimpleCookie(response.headers["set-cookie"])
    return f"{settings.session_cookie}={jar[settings.session_cookie].value}"


def middle_cursor(inv: Inventory) -> str:
    """The ``next_cursor`` of the page halfway through the filtered listing (as a user who paged
    that far would hold; the service's cursors are the API's and the page's)."""
    flt = TokenFilter(states=[TokenState.AVAILABLE])
    total = list_tokens(inv, flt, limit=1, with_total=True).total or 0
    cursor, seen = None, 0
    while seen < total // 2:
        page = list_tokens(inv, flt, limit=min(1000, total // 2 - seen), cursor=cursor)
        seen += len(page.items)
        cursor = page.next_cursor
    assert cursor is not None, "the listing has no second half"
    return cursor


def summary(spent: list[float]) -> dict[str, float]:
    spent = sorted(spent)
    return {
        "p50_ms": round(statistics.median(spent), 2),
        "p95_ms": round(spent[int(0.95 * (len(spent) - 1))], 2),
    }


@dataclass
class Site:
    """One inventory size served by its own web process, with an admin signed in."""

    size: int
    inv: Inventory
    settings: WebSettings
    process: BaseProcess
    url: str
    web: httpx.Client
    fill_s: float
    cursor: str = ""


def latencies(sites: list[Site], samples: int) -> tuple[dict[int, dict[str, Any]], list[str]]:
    """p50/p95 of every read route the app offers, per size; the names of those it does not.
    Sizes are interleaved (request i of each size back to back), so a busy neighbour on the
    shared machine slows every size alike and the ratio stays meaningful."""
    rng = random.Random(0)
    paths: dict[str, Callable[[Site], str]] = {
        "page_filter": lambda s: f"/inventory?{FILTER}",
        "page_cursor": lambda s: f"/inventory?{FILTER}&cursor={s.cursor}",
        "api_filter": lambda s: f"/api/v1/tokens?{FILTER}",
        "api_cursor": lambda s: f"/api/v1/tokens?{FILTER}&cursor={s.cursor}",
        "api_show": lambda s: f"/api/v1/tokens/SN{rng.randrange(s.size):07d}",
    }
    offered = sites[0].web.get("/api/v1/openapi.json").json()["paths"]
    figures: dict[int, dict[str, Any]] = {s.size: {} for s in sites}
    missing = []
    warmup = max(10, samples // 10)
    for name, path in paths.items():
        template = "/api/v1/tokens/{serial}" if name == "api_show" else path(sites[0]).split("?")[0]
        if template.startswith("/api/") and "get" not in offered.get(template, {}):
            missing.append(f"{name}: GET {template} is not in the app's OpenAPI")
            continue
        answers = {s.web.get(path(s)).status_code for s in sites}
        if answers != {200}:
            missing.append(f"{name}: GET {template} answered {sorted(answers)}")
            continue
        spent: dict[int, list[float]] = {s.size: [] for s in sites}
        for i in range(warmup + samples):
            for site in sites:
                url = path(site)
                begin = time.perf_counter()
                r = site.web.get(url)
                took = (time.perf_counter() - begin) * 1000
                assert r.status_code == 200, f"{url}: {r.status_code} {r.text[:200]}"
                if i >= warmup:
                    spent[site.size].append(took)
        for size, values in spent.items():
            figures[size][name] = summary(values)
    return figures, missing


def answer(r: httpx.Response) -> str:
    """``201``, or the status and the error code of a refusal."""
    try:
        return (
            str(r.status_code)
            if r.status_code == 201
            else f"{r.status_code} {r.json()['error']['code']}"
        )
    except (ValueError, KeyError, TypeError):
        return f"{r.status_code} {r.text[:80]}"


def enrollments(
    url: str, ca: Path, inv: Inventory, settings: WebSettings, args: argparse.Namespace, size: int
) -> dict[str, Any]:
    """``--enrollments`` self-enrollments, each a different user and token, from ``--clients``
    threads; the timed part is the requests only (stock, accounts and sessions made before)."""
    count, clients = args.enrollments, args.clients
    with client(url, ca) as probe:
        offered = probe.get("/api/v1/openapi.json").json()["paths"]
    if "post" not in offered.get(ENROLL, {}):
        return {"per_s": None, "reason": f"POST {ENROLL} is not in the app's OpenAPI yet"}
    serials = [f"EN{size:06d}-{n:04d}" for n in range(count)]
    users = [upn(n) for n in range(count)]
    batch = add_batch(inv, serials, restrict_users=users)
    report = push(inv, actor="bench", batch_id=batch, destroy_seeds=False)
    assert report.created == count, report.to_dict()
    shared_hash = HASHER.hash(secrets.token_bytes(16))  # nobody signs in with it: sessions below
    with inv.uow() as uow:
        repo = AccountRepository(uow.session)
        for user in users:
            if repo.find(user) is None:
                repo.add(user, shared_hash, [], inv.now())
    people = []
    for n, user in enumerate(users):
        address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"  # one machine each
        cookie = session_cookie(inv, settings, user, address)
        with client(url, ca, Cookie=cookie, **{"X-Forwarded-For": address}) as c:
            csrf = c.get("/api/v1/me").json()["csrf_token"]
        people.append((cookie, address, csrf, serials[n]))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    gate = threading.Barrier(clients + 1)

    def worker(k: int) -> None:
        with client(url, ca) as c:
            c.get("/api/v1/openapi.json")  # TLS handshake before the clock starts
            gate.wait()
            for cookie, address, csrf, serial in people[k::clients]:
                body = {"serial": serial, "display_name": "My token", "code": totp(seed_of(serial))}
                headers = {"Cookie": cookie, "X-Forwarded-For": address, "X-CSRF-Token": csrf}
                outcome = answer(c.post(ENROLL, json=body, headers=headers))
                with lock:
                    outcomes[outcome] += 1

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    gate.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - began
    done = outcomes.pop("201", 0)
    result: dict[str, Any] = {
        "per_s": round(done / seconds, 1) if done else None,
        "enrolled": done,
        "attempted": count,
        "clients": clients,
        "seconds": round(seconds, 2),
    }
    if outcomes:
        result["refused"] = dict(outcomes)
    if not done:
        result["reason"] = f"no enrollment succeeded: {dict(outcomes)}"
    return result


def open_site(size: int, folder: Path, tls: TlsFiles, emulator: str) -> Site:
    sections: dict[str, Any] = {
        "data": {"dir": str(folder / f"data-{size}")},
        "store": {
            "url": f"sqlite:///{folder / f'web-{size}.db'}",
            "key_file": str(folder / f"keys-{size}.json"),
        },
        "graph": {
            "tenant_id": TENANT,
            "client_id": APP,
            "client_secret": APP_SECRET,
            "authority_host": emulator,
            "base_url": f"{emulator}/beta",
            "ca_file": str(tls.ca_cert),
        },
    }
    upgrade(sections["store"]["url"])
    inv = build_inventory(Config(sections=sections))
    fill_s = fill(inv, size)
    settings = WebSettings(secret_key=Secret(secrets.token_bytes(32)))
    create_account(inv, ADMIN, Secret(secrets.token_urlsafe(18).encode()), ["admin"], actor="b")
    process, url = start(_serve_web, (tls, sections, settings.secret_key.reveal()), tls.ca_cert)
    web = client(url, tls.ca_cert, Cookie=session_cookie(inv, settings, ADMIN, "127.0.0.1"))
    assert web.get("/api/v1/me").status_code == 200, "the admin session is not accepted"
    return Site(size, inv, settings, process, url, web, fill_s, middle_cursor(inv))


def close_site(site: Site) -> None:
    site.web.close()
    site.process.terminate()
    site.process.join(10)
    site.inv.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--samples", type=int, default=200, help="requests per figure and size")
    parser.add_argument("--enrollments", type=int, default=200, help="users enrolling, each once")
    parser.add_argument("--clients", type=int, default=20, help="concurrent enrolling clients")
    args = parser.parse_args()
    sizes = sorted(set(args.sizes))
    sites: list[Site] = []
    enrolled: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o700)
        tls = ensure_tls(Path(tmp) / "tls", ["127.0.0.1"])
        emu, emulator = start(_serve_emulator, (tls, args.enrollments), tls.ca_cert)
        try:
            for size in sizes:
                sites.append(open_site(size, Path(tmp), tls, emulator))
                print(f"{size:>7} tokens filled in {sites[-1].fill_s:.1f} s", flush=True)
            figures, missing = latencies(sites, args.samples)
            for site in sites:
                with client(emulator, tls.ca_cert) as ctl:  # Entra as new for each size
                    assert ctl.post("/_emulator/reset").status_code == 204
                enroll = enrollments(
                    site.url, tls.ca_cert, site.inv, site.settings, args, site.size
                )
                enrolled.append({"tokens": site.size, **enroll})
        finally:
            for site in sites:
                close_site(site)
            emu.terminate()
            emu.join(10)
    results = [{"tokens": s.size, "fill_s": round(s.fill_s, 1), **figures[s.size]} for s in sites]
    for figure, enroll in zip(results, enrolled, strict=True):
        shown = [k for k in figure if isinstance(figure[k], dict)]
        print(
            f"{figure['tokens']:>7} tokens; p50/p95 ms: "
            + "; ".join(f"{k} {figure[k]['p50_ms']}/{figure[k]['p95_ms']}" for k in shown)
            + f"; enrollments/s with {args.clients} clients: {enroll['per_s']}"
            + (f" ({enroll['reason']})" if "reason" in enroll else "")
        )
    for line in missing:
        print(f"not measured: {line}")
    ratios = {}
    if len(results) >= 2:
        small, big = results[0], results[-1]
        ratios = {
            k: round(big[k]["p95_ms"] / small[k]["p95_ms"], 2)
            for k in small
            if isinstance(small[k], dict) and k in big
        }
        print("p95 ratio largest/smallest: " + ", ".join(f"{k} {v}x" for k, v in ratios.items()))
    print(
        json.dumps(
            {
                "bench": "web",
                "backend": "sqlite",
                "samples": args.samples,
                "results": results,
                "p95_ratio": ratios,
                "target_ratio": 2.0,
                "not_measured": missing,
                "enrollment": enrolled,
            }
        )
    )


if __name__ == "__main__":
    main()
