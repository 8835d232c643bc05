"""Tables piped to a file or a pager keep their full width (Rich's default for a pipe is 80
columns, which cut long model names over two lines); ``COLUMNS`` still wins when set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MODEL = "Model With An Exceptionally Long Descriptive Name 9000"
MAKER = "A Very Long Manufacturer Name Incorporated Worldwide"


def _inspect(tmp_path: Path, **env: str) -> str:
    seeds = tmp_path / "long.csv"
    seeds.write_text(
        "upn,serial number,secret key,time interval,manufacturer,model\n"
        f",SN-1,JBSWY3DPEHPK3PXP,30,{MAKER},{MODEL}\n",
        encoding="utf-8",
    )
    base = {k: v for k, v in os.environ.items() if k != "COLUMNS" and not k.startswith("OATHDESK")}
    ran = subprocess.run(
        [sys.executable, "-m", "oathdesk", "seeds", "inspect", str(seeds)],
        env={**base, **env, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return ran.stdout


def test_a_piped_table_is_not_cut_at_80_columns(tmp_path: Path) -> None:
    rows = [line for line in _inspect(tmp_path).splitlines() if MODEL in line]
    assert len(rows) == 1 and f"{MAKER} {MODEL}" in rows[0]
    assert len(rows[0]) > 80


def test_columns_set_by_the_user_is_respected(tmp_path: Path) -> None:
    table = [line for line in _inspect(tmp_path, COLUMNS="60").splitlines() if "│" in line]
    assert table and max(len(line) for line in table) <= 60
    assert not any(MODEL in line for line in table)  # wrapped within 60
