"""Seed-file throughput: inspect and convert a 100,000-token CSV and a 10,000-token PBKDF2 PSKC.

Each measurement runs in a fresh child process so its peak memory (ru_maxrss) is its own, and
goes through ``service.open_seed_file`` (format detected, as ``oathdesk seeds inspect`` does;
a conversion also applies Entra's rules, as ``seeds convert --to entra-json`` does). Every
figure is printed beside its reference from the same run: the issue's targets, python-pskc's
bare parse-and-decrypt of the same PSKC file, and the stdlib floor for the CSV (csv.reader and
base64.b32decode per row, no records, no checks). Prints a table, then one JSON line.

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
    from oathdesk.formats import ReadOptions, write_seeds_to
    from oathdesk.service.seedfile import SeedFileOptions, open_seed_file

    options = ReadOptions(passphrase=Secret(PASSPHRASE)) if fmt == "pskc" else ReadOptions()
    data = path.read_bytes()
    start = time.perf_counter()
    if operation == "python-pskc":
        import pskc

        container = pskc.PSKC(str(path))
        container.encryption.derive_key(PASSPHRASE.decode())
        count = sum(1 for key in container.keys if key.secret)
    elif operation == "stdlib-csv":
        import base64
        import csv
        import io

        rows = csv.reader(io.StringIO(data.decode("utf-8-sig")))
        next(rows)
        count = sum(1 for row in rows if base64.b32decode(row[1] + "=" * (-len(row[1]) % 8)))
    else:
        target = "entra" if operation == "convert" else None
        opened = open_seed_file(data, path.name, SeedFileOptions(read=options, target=target))
        opened.raise_if_invalid()
        assert opened.format == fmt and not opened.target_problems, opened.target_problems[:1]
        count = len(opened.records)
        if operation == "convert":  # into a file, streamed, as ``seeds convert`` writes it
            with open(path.with_suffix(".json"), "wb") as out:
                write_seeds_to(opened.records, "entra-json", out)
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
    parser.add_argument("--generate", metavar="FOLDER", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(Path(args.generate), args.csv_tokens, args.pskc_tokens)
        return
    if args.child:
        operation, path, fmt = args.child
        print(json.dumps(measure(operation, Path(path), fmt)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        # Generated in a child: a child's ru_maxrss starts from its parent's size at fork, so
        # the parent stays small for the measurements to be each child's own.
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--generate",
                tmp,
                "--csv-tokens",
                str(args.csv_tokens),
                "--pskc-tokens",
                str(args.pskc_tokens),
            ],
            check=True,
        )
        csv_path, pskc_path = Path(tmp) / "tokens.csv", Path(tmp) / "tokens.pskc"
        figures = {
            "csv_inspect": run_child("inspect", csv_path, "entra-csv"),
            "csv_convert_to_entra_json": run_child("convert", csv_path, "entra-csv"),
            "csv_stdlib_floor": run_child("stdlib-csv", csv_path, "entra-csv"),
            "pskc_inspect": run_child("inspect", pskc_path, "pskc"),
            "pskc_convert_to_entra_json": run_child("convert", pskc_path, "pskc"),
            "pskc_python_pskc_bare": run_child("python-pskc", pskc_path, "pskc"),
        }
    pskc_ratio = (
        figures["pskc_inspect"]["tokens_per_s"] / figures["pskc_python_pskc_bare"]["tokens_per_s"]
    )
    checks = {
        "csv_inspect_rate": (figures["csv_inspect"]["tokens_per_s"], ">=", 100_000),
        "csv_convert_rate": (figures["csv_convert_to_entra_json"]["tokens_per_s"], ">=", 70_000),
        "pskc_vs_python_pskc": (round(pskc_ratio, 2), ">=", 1.5),
        "csv_inspect_peak_mib": (figures["csv_inspect"]["peak_mib"], "<", 150),
        "csv_convert_peak_mib": (figures["csv_convert_to_entra_json"]["peak_mib"], "<", 150),
    }
    print(f"{'measurement':28} {'tokens':>8} {'seconds':>8} {'tokens/s':>10} {'peak MiB':>9}")
    for name, f in figures.items():
        print(
            f"{name:28} {f['tokens']:>8} {f['seconds']:>8} {f['tokens_per_s']:>10} "
            f"{f['peak_mib']:>9}"
        )
    print()
    print(f"{'target':24} {'figure':>10}   reference  verdict")
    verdicts = {}
    for name, (value, op, reference) in checks.items():
        holds = value >= reference if op == ">=" else value < reference
        verdicts[name] = {"value": value, "reference": f"{op} {reference}", "holds": holds}
        print(f"{name:24} {value:>10}   {op} {reference:<7} {'holds' if holds else 'MISSES'}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(json.dumps({"bench": "seeds", **figures, "targets": verdicts}))


if __name__ == "__main__":
    main()
