"""The audit log streamed to a SIEM: after each commit (never for a rollback), to a real local
syslog listener over UDP and TCP (RFC 5424: PRI, version, timestamp, hostname, app-name, procid,
msgid, structured data with escapes, BOM and the entry as JSON) and to a JSON lines file rotated
by size; a SIEM that is down never holds up or fails the action, it is logged and counted; an
entry whose details name a secret is withheld. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from oathdesk.bootstrap import build_inventory
from oathdesk.config import Config
from oathdesk.domain import ConfigError, Secret
from oathdesk.service import Inventory
from oathdesk.service.accounts import create_account
from oathdesk.store import upgrade
from oathdesk.store.siem import AuditStream, SiemSettings
from oathdesk.store.siem_format import FACILITIES, sd_escape

HEADER = re.compile(
    rb"<(?P<pri>\d{1,3})>(?P<version>1) (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) "
    rb"(?P<procid>\S+) (?P<msgid>\S+) (?P<sd>\[.*\]) \xef\xbb\xbf(?P<msg>.*)\Z",
    re.DOTALL,
)
SD_ELEMENT = re.compile(r'\[(?P<id>[^ \]=]+)(?P<params>(?: [^ =\]"]+="(?:[^"\\\]]|\\.)*")*)\]')
SD_PARAM = re.compile(r' ([^ =\]"]+)="((?:[^"\\\]]|\\.)*)"')
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
NASTY = 'ops "admin" [eu]\\west'


def parse(message: bytes) -> dict[str, Any]:
    """An RFC 5424 message split into its fields, the SD parameters unescaped."""
    found = HEADER.fullmatch(message)
    assert found, message
    sd = found.group("sd").decode()
    element = SD_ELEMENT.fullmatch(sd)
    assert element, sd
    params = {k: re.sub(r"\\(.)", r"\1", v) for k, v in SD_PARAM.findall(element.group("params"))}
    return {
        "pri": int(found.group("pri")),
        "version": found.group("version").decode(),
        "timestamp": found.group("ts").decode(),
        "hostname": found.group("host").decode(),
        "app": found.group("app").decode(),
        "procid": found.group("procid").decode(),
        "msgid": found.group("msgid").decode(),
        "sd_id": element.group("id"),
        "params": params,
        "json": json.loads(found.group("msg").decode("utf-8")),
    }


class UdpListener:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]

    def receive(self) -> bytes:
        data, _ = self.sock.recvfrom(65535)
        return data


class TcpListener:
    """Accepts one connection at a time and splits RFC 6587 octet-counted frames."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.frames: list[bytes] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            buffer = b""
            with conn:
                while chunk := conn.recv(65536):
                    buffer += chunk
                    while b" " in buffer:
                        length, _, rest = buffer.partition(b" ")
                        if len(rest) < int(length):
                            break
                        self.frames.append(rest[: int(length)])
                        buffer = rest[int(length) :]

    def wait_for(self, count: int) -> list[bytes]:
        deadline = time.monotonic() + 10
        while len(self.frames) < count:
            assert time.monotonic() < deadline, f"{len(self.frames)} of {count} frames"
            time.sleep(0.02)
        return self.frames


def inventory(db_url: str, tmp_path: Path, siem: dict[str, Any]) -> Inventory:
    upgrade(db_url)
    config = Config(
        sections={"data": {"dir": str(tmp_path / "data")}, "store": {"url": db_url}, "siem": siem}
    )
    return build_inventory(config)


def flush(inv: Inventory) -> None:
    stream = inv.db.audit_stream
    assert isinstance(stream, AuditStream)
    assert stream.flush(10)


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def udp() -> Iterator[UdpListener]:
    listener = UdpListener()
    yield listener
    listener.sock.close()


def test_udp_syslog_gets_each_committed_entry_as_rfc5424(
    db_url: str, tmp_path: Path, udp: UdpListener
) -> None:
    siem = {"syslog": f"udp://127.0.0.1:{udp.port}", "syslog_facility": "authpriv"}
    siem["syslog_hostname"] = "node-a.example"
    inv = inventory(db_url, tmp_path, siem)
    try:
        create_account(inv, "alice", Secret(b"correct horse battery"), ["admin"], actor="local:op")
        with inv.uow() as uow:
            uow.audit.append("test.escape", actor=NASTY, subject="x]y", details={"note": NASTY})
        flush(inv)
        first, second = parse(udp.receive()), parse(udp.receive())
    finally:
        inv.close()
    assert first["pri"] == FACILITIES["authpriv"] * 8 + 5  # severity notice
    assert first["version"] == "1"
    assert RFC3339.fullmatch(first["timestamp"]), first["timestamp"]
    assert first["hostname"] == "node-a.example"
    assert (first["app"], first["procid"]) == ("oathdesk", str(os.getpid()))
    assert first["msgid"] == "account.create"
    assert first["sd_id"] == "oathdesk@32473"
    assert first["params"]["chain"] == "inventory"
    assert first["params"]["action"] == "account.create"
    assert first["params"]["subject"] == first["json"]["subject"]
    assert first["json"]["hash"] == first["params"]["hash"] and len(first["json"]["hash"]) == 64
    assert "correct horse battery" not in json.dumps(first)
    # escaping: the actor holds ", ] and \ and comes back whole from the structured data
    assert second["params"]["actor"] == NASTY and second["params"]["subject"] == "x]y"
    assert second["json"]["details"] == {"note": NASTY}
    assert int(second["params"]["seq"]) == int(first["params"]["seq"]) + 1


def test_tcp_syslog_frames_by_octet_count_and_a_rollback_sends_nothing(
    db_url: str, tmp_path: Path
) -> None:
    tcp = TcpListener()
    inv = inventory(db_url, tmp_path, {"syslog": f"tcp://127.0.0.1:{tcp.port}"})
    try:
        with pytest.raises(RuntimeError), inv.uow() as uow:
            uow.audit.append("test.rolled_back", actor="local:op")
            raise RuntimeError("the action failed")
        for n in range(3):
            with inv.uow() as uow:
                uow.audit.append("test.kept", actor="local:op", subject=f"n{n}")
        flush(inv)
        frames = tcp.wait_for(3)
    finally:
        inv.close()
        tcp.server.close()
    parsed = [parse(frame) for frame in frames]
    assert [p["params"]["subject"] for p in parsed] == ["n0", "n1", "n2"]
    assert all(p["msgid"] == "test.kept" for p in parsed)
    assert all(p["pri"] == FACILITIES["local0"] * 8 + 5 for p in parsed)
    assert parsed[0]["json"]["seq"] == 1  # the rolled-back entry took no number and was not sent


def test_json_lines_file_rotates_by_size_and_holds_every_entry(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "siem" / "audit.jsonl"
    path.parent.mkdir()
    inv = inventory(
        db_url, tmp_path, {"json_file": str(path), "json_max_bytes": 1200, "json_backups": 2}
    )
    try:
        for n in range(12):
            with inv.uow() as uow:
                uow.audit.append("test.line", actor="local:op", subject=f"s{n}")
        flush(inv)
    finally:
        inv.close()
    files = [path, path.with_name("audit.jsonl.1"), path.with_name("audit.jsonl.2")]
    assert all(f.stat().st_size <= 1200 for f in files)
    assert not path.with_name("audit.jsonl.3").exists()  # two backups kept
    lines = [json.loads(line) for f in reversed(files) for line in f.read_text().splitlines()]
    seqs = [line["seq"] for line in lines]
    assert seqs == sorted(seqs) and seqs[-1] == 12  # the newest in the live file, in order
    assert lines[-1]["chain"] == "inventory" and lines[-1]["subject"] == "s11"
    assert {"prev_hash", "hash", "at", "actor", "details"} <= set(lines[-1])


def test_a_siem_that_is_down_never_holds_up_the_action_and_is_counted(
    db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    before = metric("oathdesk_siem_failures_total", output="syslog_tcp")
    inv = inventory(db_url, tmp_path, {"syslog": f"tcp://127.0.0.1:{port}"})
    try:
        started = time.monotonic()
        with inv.uow() as uow:
            uow.audit.append("test.unsent", actor="local:op", subject="kept")
        assert time.monotonic() - started < 2  # the commit did not wait for the SIEM
        flush(inv)
        with inv.uow(write=False) as uow:
            assert [e.action for e in uow.audit.entries()] == ["test.unsent"]
    finally:
        inv.close()
    assert metric("oathdesk_siem_failures_total", output="syslog_tcp") == before + 1
    assert any("siem: syslog_tcp could not take" in r.getMessage() for r in caplog.records)


def test_an_entry_naming_a_secret_is_withheld(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    inv = inventory(db_url, tmp_path, {"json_file": str(path)})
    before = metric("oathdesk_siem_failures_total", output="json_file")
    try:
        with inv.uow() as uow:
            uow.audit.append("test.bad", actor="local:op", details={"nested": {"password": "x"}})
            uow.audit.append("test.good", actor="local:op", details={"serial": "SN1"})
        flush(inv)
    finally:
        inv.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["action"] for line in lines] == ["test.good"]
    assert metric("oathdesk_siem_failures_total", output="json_file") == before + 1


@pytest.mark.parametrize(
    ("siem", "key"),
    [
        ({"syslog": "http://siem:514"}, "syslog"),
        ({"syslog": "udp://h:514", "syslog_facility": "local9"}, "syslog_facility"),
        ({"json_file": "/x", "json_max_bytes": 0}, "json_max_bytes"),
    ],
)
def test_bad_siem_settings_are_config_errors(siem: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        SiemSettings.from_config(Config(sections={"siem": siem}))
    assert f"[siem] {key}" in caught.value.message


def test_sd_escape_follows_rfc5424() -> None:
    assert sd_escape('a"b\\c]d') == 'a\\"b\\\\c\\]d'
    assert SiemSettings.from_config(Config(sections={})) is None  # off by default
