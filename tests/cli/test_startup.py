"""Why the CLI imports the web stack inside its serving commands (the only function-level
imports across layers, listed in pyproject.toml beside the layer contracts): every other command
starts without FastAPI, Jinja or the web apps, which cost most of a second on this machine."""

from __future__ import annotations

import subprocess
import sys

WEB_STACK = ("fastapi", "jinja2", "oathdesk.web", "oathdesk.http", "oathdesk.delivery.web_app")


def test_the_command_line_starts_without_the_web_stack() -> None:
    probe = (
        "import sys, oathdesk.cli.main\n"
        f"print(','.join(m for m in {WEB_STACK!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == ""


def test_the_probe_sees_the_web_stack_once_a_serving_command_loads_it() -> None:
    probe = (
        "import sys, oathdesk.cli.main, oathdesk.web\n"
        f"print(','.join(m for m in {WEB_STACK!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert set(done.stdout.strip().split(",")) >= {"fastapi", "jinja2", "oathdesk.web"}
