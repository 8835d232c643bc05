"""``oathdesk emulator serve`` as a real process: it prints what a client needs, serves HTTPS
with its own CA, and keeps the inventory across a restart."""

from __future__ import annotations

import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.emulator.helpers import DEV, device_body


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(data: Path, port: int, *extra: str) -> Iterator[str]:
    log = data.parent / f"serve-{port}-{time.monotonic_ns()}.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "oathdesk",
                "emulator",
                "serve",
                "--port",
                str(port),
                "--data",
                str(data),
                *extra,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        ca = data / "tls" / "ca.pem"
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log.read_text()
            if ca.exists():
                try:
                    with httpx.Client(
                        verify=ssl.create_default_context(cafile=str(ca)), trust_env=False
                    ) as c:
                        if (
                            c.get(
                                f"https://127.0.0.1:{port}/common/v2.0/.well-known/"
                                "openid-configuration"
                            ).status_code
                            == 200
                        ):
                            break
                except httpx.TransportError:
                    pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield log.read_text()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)


def field(text: str, name: str) -> str:
    match = re.search(rf"{name}\s+(\S+)", text)
    assert match, text
    return match.group(1)


def test_serve_prints_credentials_and_keeps_state_across_restart(tmp_path: Path) -> None:
    data, port = tmp_path / "emu", free_port()
    with serving(data, port, "--page-size", "2") as text:
        tenant, client, secret = (
            field(text, n) for n in ("tenant id", "client id", "client secret")
        )
        assert field(text, "CA file") == str(data / "tls" / "ca.pem")
        assert "(guest)" in text and "Global Administrator" in text
        ctx = ssl.create_default_context(cafile=str(data / "tls" / "ca.pem"))
        with httpx.Client(verify=ctx, trust_env=False) as c:
            token = c.post(
                f"https://127.0.0.1:{port}/{tenant}/oauth2/v2.0/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": client,
                    "client_secret": secret,
                    "scope": "https://graph.microsoft.com/.default",
                },
            ).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            for n in range(3):
                r = c.post(
                    f"https://127.0.0.1:{port}/beta{DEV}",
                    headers=auth,
                    json=device_body(f"CLI-{n}"),
                )
                assert r.status_code == 201
            assert (
                "@odata.nextLink"
                in c.get(f"https://127.0.0.1:{port}/beta{DEV}", headers=auth).json()
            )
    with serving(data, port) as text:
        assert field(text, "tenant id") == tenant and field(text, "client secret") == secret
        with httpx.Client(verify=ctx, trust_env=False) as c:
            count = c.get(f"https://127.0.0.1:{port}/beta{DEV}/$count", headers=auth)
            assert count.text == "3"  # the signing key survived too: the old token still works


def serve_fails(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "oathdesk", "emulator", "serve", "--data", str(data)]
    run = subprocess.run([*command, *args], capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and "Traceback" not in run.stderr
    return run


def test_serve_refuses_bad_seeds_throttles_and_busy_ports(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text('{"tenant": {"id": "t"}, "users": [{"displayName": "no upn"}]}')
    port = str(free_port())
    assert "userPrincipalName" in serve_fails(tmp_path, "--seed", str(seed), "--port", port).stderr
    bad = serve_fails(tmp_path, "--throttle", "fast", "--port", port)
    assert bad.returncode == 2 and "N/SECONDS" in bad.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = serve_fails(tmp_path, "--port", str(busy.getsockname()[1]))
    assert taken.returncode == 2 and "--port" in taken.stderr
