"""Seed-file throughput: inspect and convert a 100,000-token CSV and a 10,000-token PBKDF2 PSKC.

Each measurement runs in a fresh child process so its peak memory (ru_maxrss) is its own. The
PSKC figures stand beside python-pskc's bare parse-and-decrypt of the same file. Prints a table,
then one JSON line with every figure.

    .venv/bin/python bench/seeds.py [--csv-tokens N] [--pskc-tokens N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PASSPHRASE = b"bench-passphrase"


def generate(folder: Path, csv_tokens: int, pskc_tokens: int) -> tuple[Path, Path]:
    from oathdesk.domain import Secret, SeedRecord
    from oathdesk.formats import WriteOptions, write_seeds

    def records(count: int) -> list[SeedRecord]:
        return [
            SeedRecord(
                serial=f"{10_000_000 + i}",
                secret=Secret(os.urandom(20)),
                period=30 if i % 4 else 60,
                manufacturer="BenchVendor",
                model="B1",
            )
            for i in range(count)
        ]

    csv_path = folder / "tokens.csv"
    csv_path.write_bytes(write_seeds(records(csv_tokens), "entra-csv"))
    pskc_path = folder / "tokens.pskc"
    pskc_path.write_bytes(
        write_seeds(records(pskc_tokens), "pskc", WriteOptions(passphrase=Secret(PASSPHRASE)))
    )
    return csv_path, pskc_path


def measure(operation: str, path: Path, fmt: str) -> dict[str, Any]:
    """Runs in the child: one operation, its wall time and the process's peak memory."""
    from oathdesk.domain import Secret
    from oathdesk.formats import ReadOptions, read_seeds, write_seeds

    options = ReadOptions(passphrase=Secret(PASSPHRASE)) if fmt == "pskc" else ReadOptions()
    data = path.read_bytes()
    start = time.perf_counter()
    if operation == "python-pskc":
        import pskc

        container = pskc.PSKC(str(path))
        container.encryption.derive_key(PASSPHRASE.decode())
        count = sum(1 for key in container.keys if key.secret)
    else:
        result = read_seeds(data, path.name, fmt, options)
        result.raise_if_invalid()
        count = len(result.records)
        if operation == "convert":
            write_seeds(result.records, "entra-json")
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "tokens": count,
        "seconds": round(seconds, 3),
        "tokens_per_s": round(count / seconds),
        "peak_mib": round(peak_kib / 1024, 1),
    }


def run_child(operation: str, path: Path, fmt: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", operation, str(path), fmt],
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--csv-tokens", type=int, default=100_000)
    parser.add_argument("--pskc-tokens", type=int, default=10_000)
    parser.add_argument("--child", nargs=3, metavar=("OP", "PATH", "FMT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        operation, path, fmt = args.child
        print(json.dumps(measure(operation, Path(path), fmt)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        csv_path, pskc_path = generate(Path(tmp), args.csv_tokens, args.pskc_tokens)
        figures = {
            "csv_inspect": run_child("inspect", csv_path, "entra-csv"),
            "csv_convert_to_entra_json": run_child("convert", csv_path, "entra-csv"),
            "pskc_inspect": run_child("inspect", pskc_path, "pskc"),
            "pskc_convert_to_entra_json": run_child("convert", pskc_path, "pskc"),
            "pskc_python_pskc_bare": run_child("python-pskc", pskc_path, "pskc"),
        }
    print(f"{'measurement':32} {'tokens':>8} {'seconds':>8} {'tokens/s':>10} {'peak MiB':>9}")
    for name, f in figures.items():
        print(
            f"{name:32} {f['tokens']:>8} {f['seconds']:>8} {f['tokens_per_s']:>10} "
            f"{f['peak_mib']:>9}"
        )
    print(json.dumps({"bench": "seeds", **figures}))


if __name__ == "__main__":
    main()
