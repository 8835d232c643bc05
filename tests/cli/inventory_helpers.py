"""Run ``oathdesk`` in-process through its real entry point, settings in OATHDESK_* variables."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from oathdesk.cli.main import main
from tests.service.support import SEEN


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Cli:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.transcript: list[str] = []

    def __call__(self, *args: str, expect: int | None = 0) -> Ran:
        self.capsys.readouterr()
        code = main(list(args))
        out, err = self.capsys.readouterr()
        self.transcript += [out, err]
        SEEN.extend((out, err))  # searched for seeds at the end of the session
        ran = Ran(code, out, err)
        if expect is not None:
            assert code == expect, f"oathdesk {' '.join(args)} -> {code}\n{out}\n{err}"
        return ran
