"""Handing one e-mail to an SMTP relay (or into a pickup folder), shared by every part that mails.

Why one module below the use cases: the delivery app mails download links and the inventory
mails token notifications; both need the same relay talk (STARTTLS or implicit TLS, login when
configured, one envelope recipient) and the same demo pickup folder, and neither may import the
other's layer. Errors are a plain ``MailError`` with no code: each caller says in its own words
(and code) what failed and what to do; the password never appears in one.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from oathdesk.domain import Secret

ENVELOPE = "X-Oathdesk-Envelope-To"  # the recipient, in a pickup file's first line


@dataclass(frozen=True)
class SmtpSettings:
    """Where mail goes: ``host``:``port`` with ``starttls`` (upgrade a plain connection) or
    ``tls`` (TLS from the first byte, usually port 465), login when ``username`` and
    ``password`` are set (after TLS when TLS is asked for). ``ca_file`` trusts a private CA for
    the relay's certificate. ``mail_dir`` writes each mail into that folder instead (the demo's
    mailbox, tests); ``None`` sends over SMTP."""

    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "seeds@localhost"
    starttls: bool = False
    username: str = ""
    password: Secret | None = field(default=None, repr=False)
    timeout: float = 30.0
    mail_dir: Path | None = None
    tls: bool = False
    ca_file: Path | None = None  # trust this CA for the relay's certificate (else the system's)


class MailError(Exception):
    """The relay (or the pickup folder) did not take the message; ``reason`` names the error
    type only (never the server's text, which may echo what we sent)."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where} did not take the message ({reason})")
        self.where = where
        self.reason = reason


def send_mail(smtp: SmtpSettings, message: EmailMessage, recipient: str) -> None:
    """Hand ``message`` to the relay for ``recipient`` alone (the envelope's only RCPT TO), or
    write it into ``smtp.mail_dir`` when one is set. Raises ``MailError``."""
    if smtp.mail_dir is not None:
        pick_up(smtp.mail_dir, message, recipient)
        return
    try:
        context = ssl.create_default_context(
            cafile=str(smtp.ca_file) if smtp.ca_file is not None else None
        )
        client = (
            smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
            if smtp.tls
            else smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        )
        with client:
            if smtp.starttls and not smtp.tls:
                client.starttls(context=context)
            if smtp.username and smtp.password is not None:
                client.login(smtp.username, smtp.password.reveal().decode())
            client.send_message(message, to_addrs=[recipient])
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"the mail server {smtp.host}:{smtp.port}", type(exc).__name__) from None


def pick_up(folder: Path, message: EmailMessage, recipient: str) -> Path:
    """Write the message as ``NNNNNN.eml`` (owner-only: it may hold live links), numbered after
    the highest one there so the folder reads in the order mails were sent; the envelope
    recipient goes first as a header of its own, as a pickup folder keeps it."""
    try:
        folder.mkdir(parents=True, mode=0o700, exist_ok=True)
        numbers = [int(p.stem) for p in folder.glob("*.eml") if p.stem.isdigit()]
        number = max(numbers, default=0) + 1
        data = f"{ENVELOPE}: {recipient}\n".encode() + message.as_bytes()
        while True:
            path = folder / f"{number:06d}.eml"
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another sender took this number first
                number += 1
                continue
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            return path
    except OSError as exc:
        raise MailError(f"the folder {folder}", type(exc).__name__) from None
