"""The audit log streamed to a SIEM: each entry, once its transaction has committed, goes to
syslog (RFC 5424 over UDP or TCP) and/or to JSON lines (a file rotated by size, or stdout).

Why after the commit and on a thread of its own: an entry must never reach the SIEM for an
action that rolled back, and a slow or absent SIEM must never hold up or fail the action it
records; the stream queues entries (up to a bound), a sender thread delivers them, and a
failure is logged (without the entry) and counted in ``oathdesk_siem_failures_total``. The
database stays the record; ``oathdesk audit export --after SEQ`` fills any gap.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from prometheus_client import Counter

from oathdesk.config import Config
from oathdesk.domain import ConfigError
from oathdesk.store.siem_format import (
    FACILITIES,
    SecretInAudit,
    check_secret_free,
    json_line,
    syslog_message,
)

log = logging.getLogger("oathdesk.siem")
SENT = Counter("oathdesk_siem_sent", "Audit entries delivered to a SIEM output.", ["output"])
FAILED = Counter(
    "oathdesk_siem_failures",
    "Audit entries a SIEM output failed to take (or refused as holding a secret).",
    ["output"],
)
DROPPED = Counter("oathdesk_siem_dropped", "Audit entries dropped because the queue was full.")
QUEUE_SIZE = 10_000
TIMEOUT = 5.0  # seconds a syslog connection or send may take
Entry = tuple[str, dict[str, Any]]  # (chain, exported record)


class Output(Protocol):
    name: str

    def send(self, chain: str, record: Mapping[str, Any]) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SyslogTarget:
    protocol: str  # udp | tcp
    host: str
    port: int


@dataclass(frozen=True)
class SiemSettings:
    """``[siem]``: a syslog target and/or a JSON lines file (``-``: standard output)."""

    syslog: SyslogTarget | None = None
    facility: int = FACILITIES["local0"]
    app_name: str = "oathdesk"
    hostname: str = ""
    json_file: str | None = None
    json_max_bytes: int = 10 * 1024 * 1024
    json_backups: int = 5

    @classmethod
    def from_config(cls, config: Config) -> SiemSettings | None:
        """None when neither output is set (the default)."""
        target = config.text("siem", "syslog")
        json_file = config.text("siem", "json_file")
        if not target and not json_file:
            return None
        facility = (config.text("siem", "syslog_facility") or "local0").lower()
        if facility not in FACILITIES:
            raise ConfigError(
                f"{config.name('siem', 'syslog_facility')} must be a syslog facility "
                f"(local0 ... local7, auth, authpriv, audit, ...), not {facility!r}.",
                code="config.invalid_value",
                details={"section": "siem", "key": "syslog_facility"},
            )
        return cls(
            syslog=_target(config, target) if target else None,
            facility=FACILITIES[facility],
            app_name=config.text("siem", "syslog_app_name") or "oathdesk",
            hostname=config.text("siem", "syslog_hostname") or "",
            json_file=json_file,
            json_max_bytes=config.integer("siem", "json_max_bytes", 10 * 1024 * 1024),
            json_backups=config.integer("siem", "json_backups", 5, minimum=0),
        )


def _target(config: Config, text: str) -> SyslogTarget:
    parts = urlsplit(text)
    if parts.scheme not in ("udp", "tcp") or not parts.hostname:
        raise ConfigError(
            f"{config.name('siem', 'syslog')} must be udp://HOST:PORT or tcp://HOST:PORT, "
            f"not {text!r}.",
            code="config.invalid_value",
            details={"section": "siem", "key": "syslog"},
        )
    default = 514 if parts.scheme == "udp" else 601  # RFC 5426 / RFC 6587's ports
    return SyslogTarget(parts.scheme, parts.hostname, parts.port or default)


class SyslogOutput:
    """RFC 5424 messages: one per UDP datagram (RFC 5426), or octet-counted on TCP (RFC 6587)."""

    def __init__(self, settings: SiemSettings, target: SyslogTarget) -> None:
        self.name = f"syslog_{target.protocol}"
        self.settings = settings
        self.target = target
        self.hostname = settings.hostname or socket.getfqdn() or socket.gethostname()
        self._sock: socket.socket | None = None

    def _socket(self) -> socket.socket:
        if self._sock is None:
            address = (self.target.host, self.target.port)
            if self.target.protocol == "udp":
                family = socket.getaddrinfo(*address, type=socket.SOCK_DGRAM)[0][0]
                self._sock = socket.socket(family, socket.SOCK_DGRAM)
                self._sock.connect(address)
            else:
                self._sock = socket.create_connection(address, timeout=TIMEOUT)
            self._sock.settimeout(TIMEOUT)
        return self._sock

    def send(self, chain: str, record: Mapping[str, Any]) -> None:
        message = syslog_message(
            chain,
            record,
            facility=self.settings.facility,
            hostname=self.hostname,
            app_name=self.settings.app_name,
            procid=str(os.getpid()),
        )
        if self.target.protocol == "tcp":
            message = str(len(message)).encode() + b" " + message
        try:
            self._socket().sendall(message)
        except OSError:
            self.close()  # a fresh connection for the next entry
            raise

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class JsonLinesOutput:
    """One JSON object per line, appended to a file rotated at ``max_bytes`` (``file.1`` ...
    ``file.N``), or written to standard output for a container's log collector."""

    def __init__(self, settings: SiemSettings) -> None:
        self.name = "json_stdout" if settings.json_file == "-" else "json_file"
        self.settings = settings
        self.path = None if settings.json_file == "-" else Path(str(settings.json_file))

    def send(self, chain: str, record: Mapping[str, Any]) -> None:
        line = json_line(chain, record)
        if self.path is None:
            sys.stdout.write(line)
            sys.stdout.flush()
            return
        data = line.encode("utf-8")
        if (
            self.path.exists()
            and self.path.stat().st_size + len(data) > self.settings.json_max_bytes
        ):
            self._rotate()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def _rotate(self) -> None:
        assert self.path is not None
        keep = self.settings.json_backups
        if keep == 0:
            self.path.unlink(missing_ok=True)
            return
        for n in range(keep - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if older.exists():
                older.replace(self.path.with_name(f"{self.path.name}.{n + 1}"))
        self.path.replace(self.path.with_name(f"{self.path.name}.1"))

    def close(self) -> None:
        return None


class AuditStream:
    """Committed audit entries to the outputs, from a queue on a daemon thread."""

    def __init__(self, outputs: Sequence[Output]) -> None:
        self.outputs = list(outputs)
        self._queue: queue.Queue[Entry | None] = queue.Queue(maxsize=QUEUE_SIZE)
        self._thread = threading.Thread(target=self._run, name="oathdesk-siem", daemon=True)
        self._thread.start()

    def publish(self, entries: Sequence[Entry]) -> None:
        """Queue ``entries`` (never blocks; a full queue drops and counts them)."""
        for entry in entries:
            try:
                self._queue.put_nowait(entry)
            except queue.Full:
                DROPPED.inc()
                log.error("siem: queue full, audit entry %s dropped", entry[1].get("seq"))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued entry was handled (True), or ``timeout`` seconds."""
        done = threading.Event()

        def wait() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Deliver what is queued (for up to ``timeout`` seconds), then stop."""
        self.flush(timeout)
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            return
        self._thread.join(timeout)
        for output in self.outputs:
            output.close()

    def _run(self) -> None:
        while True:
            entry = self._queue.get()
            try:
                if entry is None:
                    return
                self._deliver(*entry)
            finally:
                self._queue.task_done()

    def _deliver(self, chain: str, record: dict[str, Any]) -> None:
        try:
            check_secret_free(record)
        except SecretInAudit as exc:
            for output in self.outputs:
                FAILED.labels(output.name).inc()
            log.error("siem: %s entry %s withheld: %s", chain, record.get("seq"), exc)
            return
        for output in self.outputs:
            try:
                output.send(chain, record)
            except OSError as exc:
                FAILED.labels(output.name).inc()
                log.warning(
                    "siem: %s could not take %s audit entry %s (%s)",
                    output.name,
                    chain,
                    record.get("seq"),
                    type(exc).__name__,
                )
            else:
                SENT.labels(output.name).inc()


def open_stream(settings: SiemSettings | None) -> AuditStream | None:
    """The stream for ``settings``, or None when no SIEM output is configured."""
    if settings is None:
        return None
    outputs: list[Output] = []
    if settings.syslog is not None:
        outputs.append(SyslogOutput(settings, settings.syslog))
    if settings.json_file:
        outputs.append(JsonLinesOutput(settings))
    return AuditStream(outputs)
