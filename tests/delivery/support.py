"""Sample seeds, a manifest, a loopback SMTP listener and a customer's GnuPG key for the tests."""

from __future__ import annotations

import email
import hashlib
import re
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Executable

from oathdesk.delivery import Delivery
from oathdesk.domain import Secret, SeedRecord
from oathdesk.formats import write_seeds
from oathdesk.store import Database

SHIPMENTS = {"SH-1": ["AC000101", "AC000102", "AC000103"], "SH-2": ["AC000201", "AC000202"]}
OTHER = {"SH-9": ["ZZ000901"]}
STRONG = "Tr1cky-Sparrow-47!"
LINK_RE = re.compile(r"https?://\S+/d/([A-Za-z0-9_\-]+)")


def secret_of(serial: str) -> Secret:
    return Secret(hashlib.sha256(serial.encode()).digest()[:20])


def seed_file() -> bytes:
    serials = [s for group in (*SHIPMENTS.values(), *OTHER.values()) for s in group]
    records = [
        SeedRecord(serial=s, secret=secret_of(s), manufacturer="Acme Tokens", model="AT-6")
        for s in serials
    ]
    return write_seeds(records, "safeid-csv")


def tamper(db: Database, statement: Executable) -> None:
    """Change the delivery audit log as the database's owner could: drop its triggers first."""
    if db.dialect == "postgresql":
        unprotect = ["DROP TRIGGER delivery_audit_append_only ON delivery_audit"]
    else:
        unprotect = [f"DROP TRIGGER delivery_audit_no_{verb}" for verb in ("update", "delete")]
    with db.engine.begin() as conn:
        for sql in unprotect:
            conn.exec_driver_sql(sql)
        conn.execute(statement)


def manifest_csv() -> bytes:
    lines = [
        "customer,email_domain,account_manager,po_number,invoice_number,shipment_number,serial"
    ]
    for number, serials in SHIPMENTS.items():
        lines += [
            f"Contoso,contoso.example,Mia Manager,PO-1001,INV-2001,{number},{s}" for s in serials
        ]
    return ("\n".join(lines) + "\n").encode()


def manifest_json() -> bytes:
    import json

    body = {
        "customers": [
            {
                "name": "Fabrikam",
                "email_domain": "fabrikam.example",
                "account_manager": "Max",
                "orders": [
                    {
                        "po_number": "PO-1002",
                        "invoice_number": None,
                        "shipments": [{"number": n, "serials": s} for n, s in OTHER.items()],
                    }
                ],
            }
        ]
    }
    return json.dumps(body).encode()


class _Collect:
    def __init__(self, box: list[Message]) -> None:
        self.box = box

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.content if isinstance(envelope.content, bytes) else b""
        message = email.message_from_bytes(data)
        message["X-Rcpt"] = ",".join(envelope.rcpt_tos)
        self.box.append(message)
        return "250 OK"


@dataclass
class Mailbox:
    """A real SMTP server (aiosmtpd) on loopback; every message it accepted."""

    port: int
    messages: list[Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def links(self) -> list[str]:
        assert self.messages, "no mail arrived"
        body = self.messages[-1].get_payload(decode=True)
        assert isinstance(body, bytes)
        return LINK_RE.findall(body.decode())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_smtp() -> tuple[Controller, Mailbox]:
    box = Mailbox(port=free_port())
    controller = Controller(_Collect(box.messages), hostname="127.0.0.1", port=box.port)
    controller.start()
    return controller, box


@dataclass(frozen=True)
class CustomerKey:
    home: Path
    uid: str
    public: str

    def decrypt(self, data: bytes) -> bytes:
        done = subprocess.run(
            [
                "gpg",
                "--homedir",
                str(self.home),
                "--batch",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
                "--decrypt",
            ],
            input=data,
            capture_output=True,
            check=False,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        return done.stdout


def make_key(home: Path) -> CustomerKey:
    home.chmod(0o700)
    uid = "Contoso PKI <pki@contoso.example>"
    base = ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback"]
    subprocess.run(
        [*base, "--passphrase", "", "--quick-gen-key", uid, "future-default", "default", "never"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    public = subprocess.run(
        [*base, "--armor", "--export", "pki@contoso.example"],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout.decode()
    return CustomerKey(home, uid, public)


def stop_agent(home: Path) -> None:
    subprocess.run(
        ["gpgconf", "--homedir", str(home), "--kill", "all"],
        capture_output=True,
        timeout=30,
        check=False,
    )


def stored(dl: Delivery) -> int:
    """How many built files the database still holds (sealed, waiting for a download)."""
    with dl.uow(write=False) as uow:
        return uow.delivery_requests.stored_count()
