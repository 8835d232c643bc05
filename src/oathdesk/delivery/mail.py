"""The one e-mail the service sends: the download link(s), over SMTP (or into a pickup folder).

Why plain ``smtplib``: the vendor's relay is the one thing we must talk to, with STARTTLS and
login when configured; the message holds links and dates, never a password or a seed. The
envelope names the one recipient given, never what a parser makes of the ``To:`` header.
``[delivery] mail_dir`` writes each message into a folder instead (the demo's mailbox reads it):
a way to walk the whole flow on one machine without a mail server.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

from oathdesk.delivery.context import DeliveryError
from oathdesk.delivery.settings import SmtpSettings


def link_message(
    smtp: SmtpSettings,
    to: str,
    order: str,
    links: list[tuple[str, str]],
    expires: str,
    password: bool,
) -> EmailMessage:
    """The message to ``to`` (an address ``addresses.parse_address`` returned): one line per
    file with its link; what to do after downloading."""
    message = EmailMessage()
    message["From"] = smtp.sender
    local, _at, domain = to.rpartition("@")
    message["To"] = Address(username=local, domain=domain)
    message["Subject"] = f"Your token seed file(s) for order {order}"
    lines = [
        f"Hello,\n\nthe seed file(s) for order {order} are ready for download:\n",
        *(f"  {label}: {url}" for label, url in links),
        "",
        f"The link(s) work until {expires} (UTC).",
    ]
    if password:
        lines.append(
            "The download page asks for the password you chose when you asked for the file."
        )
    lines += [
        "After downloading, confirm on the same page: the file is then deleted from our server at",
        "once and the link stops working. Never forward this message.",
        "",
        "-- the seed delivery team",
    ]
    message.set_content("\n".join(lines))
    return message


ENVELOPE = "X-Oathdesk-Envelope-To"  # the recipient, in a pickup file's first line


def send(smtp: SmtpSettings, message: EmailMessage, recipient: str) -> None:
    """Hand ``message`` to the relay for ``recipient`` alone (the envelope's only RCPT TO), or
    write it into ``smtp.mail_dir`` when one is set."""
    if smtp.mail_dir is not None:
        _pick_up(smtp.mail_dir, message, recipient)
        return
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
            if smtp.starttls:
                client.starttls(context=ssl.create_default_context())
            if smtp.username and smtp.password is not None:
                client.login(smtp.username, smtp.password.reveal().decode())
            client.send_message(message, to_addrs=[recipient])
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(
            f"The mail server {smtp.host}:{smtp.port} did not take the message "
            f"({type(exc).__name__}); check [delivery] smtp_* settings and approve again to "
            "resend.",
            code="delivery.mail_failed",
        ) from None


def _pick_up(folder: Path, message: EmailMessage, recipient: str) -> Path:
    """Write the message as ``NNNNNN.eml`` (owner-only: it holds live links), numbered after
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
            except FileExistsError:  # another approval took this number first
                number += 1
                continue
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            return path
    except OSError as exc:
        raise DeliveryError(
            f"The mail could not be written to {folder} ({type(exc).__name__}); check "
            "[delivery] mail_dir and approve again to resend.",
            code="delivery.mail_failed",
        ) from None
