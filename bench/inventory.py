"""Inventory figures at 1,000 and 100,000 tokens: list with a filter, show, assign, import rate.

Why: the help desk works on a 100,000-token inventory as on a 1,000-token one only if every query
has an index and paging is keyset; this measures p50/p95 of the three commonest reads and writes
at both sizes (target: p95 at 100,000 within 2x of p95 at 1,000) and the import throughput.
Assign runs the real service transaction (row lock, lifecycle check, audit entry) against a
stand-in for Entra that answers at once, so the figure is the inventory's own cost, not Graph's.
Run: ``.venv/bin/python bench/inventory.py [--sizes 1000 100000] [--postgres URL]``.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text, update

from oathdesk.domain.clock import SystemClock
from oathdesk.graph import Device, User
from oathdesk.service import (
    Inventory,
    TokenFilter,
    TokenState,
    assign,
    import_seeds,
    list_tokens,
    show_token,
)
from oathdesk.store import AuditKey, Database, KeyRing, Sealer, Token, upgrade

ROWS_PER_FILE = 10_000
SAMPLES = 300
METRICS = ("list_state_model", "list_state_maker", "list_prefix", "show", "assign")


class InstantEntra:
    """Answers the few Graph calls ``assign`` makes, at once (the bench measures oathdesk)."""

    def __init__(self) -> None:
        self.devices: dict[str, Device] = {}

    def get_user(self, user: str) -> User:
        return User(id=str(uuid.uuid5(uuid.NAMESPACE_DNS, user)), user_principal_name=user)

    def get_device(self, device_id: str) -> Device:
        return self.devices.get(device_id) or Device(id=device_id, serial_number="?")

    def assign(self, user: str, device_id: str) -> None:
        return None

    def close(self) -> None:
        return None

    def __getattr__(self, name: str) -> Any:  # the calls assign never makes
        raise NotImplementedError(name)


def csv_files(total: int) -> Iterator[bytes]:
    for start in range(0, total, ROWS_PER_FILE):
        lines = ["upn,serial number,secret key,time interval,manufacturer,model"]
        for n in range(start, min(total, start + ROWS_PER_FILE)):
            key = base64.b32encode(secrets.token_bytes(20)).decode()
            maker, model = (("Token2", "C301"), ("Feitian", "C200"), ("Token2", "C302"))[n % 3]
            lines.append(f",SN{n:07d},{key},30,{maker},{model}")
        yield ("\n".join(lines) + "\n").encode()


def percentiles(fn: Callable[[int], object], samples: int, warmup: int = 0) -> dict[str, float]:
    """p50/p95 in ms of ``samples`` calls, after ``warmup`` calls that are not counted (caches
    filled, as in a running service)."""
    for i in range(warmup):
        fn(samples + i)
    spent = []
    for i in range(samples):
        start = time.perf_counter()
        fn(i)
        spent.append((time.perf_counter() - start) * 1000)
    spent.sort()
    return {
        "p50_ms": round(statistics.median(spent), 3),
        "p95_ms": round(spent[int(0.95 * (len(spent) - 1))], 3),
    }


def fresh_url(folder: Path, size: int, postgres: str | None) -> str:
    if not postgres:
        return f"sqlite:///{folder / f'bench-{size}.db'}"
    schema = f"bench_{size}_{secrets.token_hex(4)}"
    engine = create_engine(postgres, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    sep = "&" if "?" in postgres else "?"
    return f"{postgres}{sep}options=-csearch_path%3D{schema}"


def run(size: int, folder: Path, postgres: str | None) -> dict[str, Any]:
    url = fresh_url(folder, size, postgres)
    upgrade(url)
    ring = KeyRing.load_or_create(folder / f"keys-{size}.json")
    audit_key = AuditKey.load_or_create(folder / f"audit-key-{size}.json")
    database = Database(url, audit_key=audit_key)
    inv = Inventory(database, Sealer(ring), SystemClock(), connect_entra=InstantEntra)
    started = time.perf_counter()
    for i, data in enumerate(csv_files(size)):
        import_seeds(inv, data, f"bench-{i}.csv", actor="bench")
    import_s = time.perf_counter() - started
    with inv.uow() as uow:  # as if pushed: half in Entra's stock, ids set
        uow.session.execute(
            update(Token)
            .where(Token.id % 2 == 0)
            .values(state=TokenState.AVAILABLE, entra_id=Token.serial)
        )
    rng = random.Random(size)
    serials = [f"SN{n:07d}" for n in range(size)]
    available = [s for i, s in enumerate(serials) if (i + 1) % 2 == 0]
    rng.shuffle(available)
    with inv.db.engine.begin() as conn:  # statistics, as autovacuum / a maintained db has them
        conn.exec_driver_sql("ANALYZE")
    filters = {
        "list_state_model": TokenFilter(states=[TokenState.AVAILABLE], model="C301"),
        "list_state_maker": TokenFilter(states=[TokenState.IN_STOCK], manufacturer="Feitian"),
        "list_prefix": TokenFilter(serial_prefix="SN00003"),
    }

    def lister(flt: TokenFilter) -> Callable[[int], object]:
        return lambda i: list_tokens(inv, flt, limit=50)

    listing = {name: percentiles(lister(flt), SAMPLES, 30) for name, flt in filters.items()}
    show = percentiles(lambda i: show_token(inv, rng.choice(serials)), SAMPLES, 30)
    samples = min(SAMPLES, len(available) - 30)
    assigning = percentiles(
        lambda i: assign(inv, available[i], f"user{i}@bench.example", actor="b", reason="bench"),
        samples,
        30,
    )
    inv.close()
    if postgres:  # leave the server as it was
        engine = create_engine(postgres, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {url.rsplit('%3D', 1)[1]} CASCADE"))
        engine.dispose()
    return {
        "tokens": size,
        "import_tokens_per_s": round(size / import_s),
        **listing,
        "show": show,
        "assign": assigning,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--postgres", help="PostgreSQL URL (a schema per size is created)")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o700)
        for size in args.sizes:
            figures = run(size, Path(tmp), args.postgres)
            results.append(figures)
            print(
                f"{size:>7} tokens: import {figures['import_tokens_per_s']}/s; p50/p95 ms: "
                + "; ".join(f"{k} {figures[k]['p50_ms']}/{figures[k]['p95_ms']}" for k in METRICS),
                flush=True,
            )
    ratios = {}
    if len(results) >= 2:
        small, big = results[0], results[-1]
        ratios = {k: round(big[k]["p95_ms"] / small[k]["p95_ms"], 2) for k in METRICS}
        print("p95 ratio largest/smallest: " + ", ".join(f"{k} {v}x" for k, v in ratios.items()))
    backend = "postgresql" if args.postgres else "sqlite"
    print(
        json.dumps(
            {
                "bench": "inventory",
                "backend": backend,
                "results": results,
                "p95_ratio": ratios,
                "target_ratio": 2.0,
            }
        )
    )


if __name__ == "__main__":
    main()
