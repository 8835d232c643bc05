"""The seed-file walkthrough behind ``oathdesk demo``: a vendor delivery, made here, opened here.

It generates what a vendor mails (an Entra CSV of fresh random seeds inside an AES-256 ZIP), then
runs the same commands an administrator would: inspect, convert to the Graph bulk JSON, show
codes. Everything stays on this machine; the sample secrets are random and used nowhere else.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import sys
from pathlib import Path

from rich.markup import escape

from oathdesk.cli import console
from oathdesk.containers import wrap_zip
from oathdesk.domain import Secret, SeedRecord
from oathdesk.formats import write_seeds

SAMPLE_SIZE = 25


def sample_records(count: int) -> list[SeedRecord]:
    base = 20260000 + secrets.randbelow(9000) * 10
    return [
        SeedRecord(
            serial=f"{base + i:08d}",
            secret=Secret(secrets.token_bytes(20)),
            period=60 if i % 5 == 4 else 30,
            manufacturer="ExampleVendor",
            model="DemoTOTP60" if i % 5 == 4 else "DemoTOTP",
        )
        for i in range(count)
    ]


def oathdesk_command() -> str:
    """How to run this oathdesk from a shell: ``oathdesk`` when that is it on PATH, else the
    script beside this Python (a virtual environment's bin), else ``python -m oathdesk``."""
    beside = Path(sys.executable).parent / "oathdesk"
    on_path = shutil.which("oathdesk")
    if on_path and beside.exists() and Path(on_path).resolve() == beside.resolve():
        return "oathdesk"
    if beside.exists():
        return shlex.quote(str(beside.absolute()))
    return f"{shlex.quote(sys.executable)} -m oathdesk"


def write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _step(title: str, argv: list[str]) -> int:
    from oathdesk.cli.main import main  # here: main imports this module (through demo_cmd)

    console.rule(title)
    console.out.print(f"[dim]$ oathdesk {escape(shlex.join(argv))}[/]")
    status = main(argv)
    console.out.print(f"[dim](exit status {status})[/]")
    return status


def walkthrough(folder: Path, password: str) -> list[int]:
    """Run the steps; returns their exit statuses so the caller can tell a broken demo."""
    folder.mkdir(parents=True, exist_ok=True)
    records = sample_records(SAMPLE_SIZE)
    csv_bytes = write_seeds(records, "entra-csv")
    delivery = folder / "vendor-delivery.zip"
    password_file = folder / "delivery-password.txt"
    write_private(
        delivery, wrap_zip(csv_bytes, "ExampleVendor-order-4711.csv", Secret(password.encode()))
    )
    write_private(password_file, password.encode() + b"\n")
    console.rule("oathdesk demo: a vendor seed delivery, end to end")
    console.out.print(
        f"A vendor mailed [bold]{escape(str(delivery))}[/]: {SAMPLE_SIZE} TOTP tokens in an "
        f"AES-256 ZIP.\nIts password (sent separately) is [bold]{escape(password)}[/], saved in "
        f"{escape(str(password_file))} because oathdesk never takes secrets on the command line."
    )
    json_out = folder / "tokens.json"
    pw = ["--password-file", str(password_file)]
    steps = [
        (
            "1. Inspect the delivery: format, counts, problems (never a secret)",
            ["seeds", "inspect", str(delivery), *pw, "--target", "entra"],
        ),
        (
            "2. Convert to the Graph bulk body (what CSV2JSON did by hand)",
            [
                "seeds",
                "convert",
                str(delivery),
                str(json_out),
                "--to",
                "entra-json",
                *pw,
                "--force",
            ],
        ),
        (
            "3. The same tokens in Duo's import layout (hex secrets, no header)",
            [
                "seeds",
                "convert",
                str(json_out),
                str(folder / "tokens-duo.csv"),
                "--to",
                "duo-csv",
                "--force",
            ],
        ),
        (
            "4. The codes the first token shows right now (proof the seeds decode)",
            ["seeds", "codes", str(json_out), "--serial", records[0].serial, "--count", "3"],
        ),
    ]
    statuses = [_step(title, argv) for title, argv in steps]
    console.rule("Next")
    run = oathdesk_command()
    console.out.print(
        "Try a broken file: edit a secret in the CSV inside the ZIP, or run\n"
        f"  {escape(run)} seeds formats\n  {escape(run)} seeds inspect FILE --json\n"
        f"All demo files are in {escape(str(folder))}."
    )
    return statuses
