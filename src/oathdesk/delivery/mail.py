"""The one e-mail the service sends: the download link(s), over SMTP (or into a pickup folder).

Why plain ``smtplib``: the vendor's relay is the one thing we must talk to, with STARTTLS and
login when configured; the message holds links and dates, never a password or a seed. The
envelope names the one recipient given, never what a parser makes of the ``To:`` header.
``[delivery] mail_dir`` writes each message into a folder instead (the demo's mailbox reads it):
a way to walk the whole flow on one machine without a mail server.
"""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage

from oathdesk.delivery.context import DeliveryError
from oathdesk.mailing import ENVELOPE, MailError, SmtpSettings, send_mail

__all__ = ["ENVELOPE", "link_message", "send"]


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


def send(smtp: SmtpSettings, message: EmailMessage, recipient: str) -> None:
    """Hand ``message`` to the relay for ``recipient`` alone (the envelope's only RCPT TO), or
    write it into ``smtp.mail_dir`` when one is set (``oathdesk.mailing`` does both)."""
    try:
        send_mail(smtp, message, recipient)
    except MailError as exc:
        setting = "mail_dir" if smtp.mail_dir is not None else "smtp_* settings"
        raise DeliveryError(
            f"{exc.where} did not take the message ({exc.reason}); check [delivery] {setting} "
            "and approve again to resend.",
            code="delivery.mail_failed",
        ) from None
