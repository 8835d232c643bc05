"""Real ``oathdesk serve`` processes for the tests of what several server processes share (one
database): a TOML config written from settings, servers started one after another (the first
writes the shared web key) and stopped at the end."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.web.test_serve import RUN_SERVE, _free_port

# A new connection for every request: under load, the test's parallel requests are released
# together after seconds of preparation, and a kept-alive connection the server has meanwhile
# closed (uvicorn's 5 s keep-alive) would fail the request with "connection reset".
FRESH = httpx.Limits(max_keepalive_connections=0)


def write_config(path: Path, sections: Mapping[str, Mapping[str, object]]) -> Path:
    """``path`` as an ``oathdesk.toml`` of ``sections`` (strings, booleans and numbers), with
    ``[web] secure_cookies = false`` (the servers speak plain HTTP on loopback)."""
    merged = {name: dict(values) for name, values in sections.items()}
    merged.setdefault("web", {}).setdefault("secure_cookies", False)
    lines: list[str] = []
    for name, values in merged.items():
        lines.append(f"[{name}]")
        for key, value in values.items():
            if isinstance(value, bool):
                shown = "true" if value else "false"
            elif isinstance(value, int | float):
                shown = str(value)
            else:
                shown = '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
            lines.append(f"{key} = {shown}")
    path.write_text("\n".join(lines) + "\n")
    return path


def serve(config: Path) -> tuple[subprocess.Popen[bytes], str]:
    """One ``oathdesk serve`` on a free loopback port, answering; the process and its URL."""
    port = _free_port()
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
            httpx.get(f"{url}/signin")
            return proc, url
        except httpx.TransportError:
            assert proc.poll() is None, "oathdesk serve stopped"
            assert time.monotonic() < deadline, "oathdesk serve did not answer"
            time.sleep(0.2)


@contextmanager
def running_servers(config: Path, count: int = 2) -> Iterator[list[str]]:
    """``count`` server processes on ``config``, started one after the other; their URLs."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        urls = []
        for _ in range(count):
            proc, url = serve(config)
            procs.append(proc)
            urls.append(url)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=15)
