"""The demo's mailbox page: the mails a pickup folder (``[delivery] mail_dir``) holds, with their
download links clickable, so one browser can walk order, review, mail and download.

Why apart from the other pages: ``create_delivery_app`` never includes this router; only
``oathdesk demo`` adds it to the delivery app it runs on loopback. The page is open (it is the
customer's inbox in the demo) and shows live links, so no production app may carry it.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.responses import Response

from oathdesk.delivery.context import Delivery
from oathdesk.delivery.mail import ENVELOPE

MAILBOX = "/demo/mailbox"
LINK_RE = re.compile(r"^\s*(.+?): (https?://\S+)\s*$", re.MULTILINE)  # "  file: URL"

pages = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Mail:
    number: int
    to: str
    subject: str
    body: str
    links: tuple[tuple[str, str], ...]  # (file name, URL)


def read_mailbox(folder: Path | None) -> list[Mail]:
    """The mails in the pickup folder, newest first."""
    if folder is None or not folder.is_dir():
        return []
    mails = []
    for path in sorted(folder.glob("*.eml"), reverse=True):
        if not path.stem.isdigit():
            continue
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = ""
        if isinstance(message, EmailMessage):
            part = message.get_body(preferencelist=("plain",))
            body = str(part.get_content()) if part is not None else ""
        mails.append(
            Mail(
                int(path.stem),
                str(message[ENVELOPE] or message["To"] or ""),
                str(message["Subject"] or ""),
                body,
                tuple(LINK_RE.findall(body)),
            )
        )
    return mails


@pages.get(MAILBOX)
def mailbox(request: Request) -> Response:
    dl: Delivery = request.app.state.delivery
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        "demo_mailbox.html",
        {
            "principal": None,
            "title": "Demo mailbox",
            "mails": read_mailbox(dl.settings.smtp.mail_dir),
        },
    )
    response.headers["Cache-Control"] = "no-store"  # it shows live links
    return response
