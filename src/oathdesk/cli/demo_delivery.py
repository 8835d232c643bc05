"""The demo's vendor side: the delivery service on its own loopback port, with sample orders of
the demo's tokens, a pending sample request, a reviewer account, and a mailbox page.

Why a mailbox: the delivery service mails download links, and a demo has no mail server. The
demo sets ``[delivery] mail_dir`` (a pickup folder: each mail becomes an ``.eml`` file there) and
adds ``/demo/mailbox`` to *its* delivery app, which lists those files with their links, so a
person can walk order, review, mail and download in one browser. Only the demo adds that page.
"""

from __future__ import annotations

import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.markup import escape

from oathdesk.cli import console
from oathdesk.config import Config
from oathdesk.delivery import (
    Delivery,
    DeliveryError,
    RequestSpec,
    check_password,
    create_request,
    find_order,
    load,
    verify_possession,
)
from oathdesk.domain import Secret, UsageError
from oathdesk.service import Inventory, SeedFileOptions
from oathdesk.service.accounts import create_account

MAILBOX = "/demo/mailbox"  # delivery.web_mailbox
REVIEWER = "reviewer"
CUSTOMER = "Oathdesk Lab"
ACTOR = "demo"


@dataclass(frozen=True)
class Shipment:
    number: str
    serials: tuple[str, ...]


@dataclass(frozen=True)
class Order:
    po: str
    invoice: str
    file: Path  # the vendor's seed file the order's tokens came in
    shipments: tuple[Shipment, ...]


@dataclass(frozen=True)
class DeliveryDemo:
    url: str
    reviewer_password: str
    email: str  # the customer's address (at the customer's domain)
    orders: tuple[Order, ...]
    request_id: int  # the sample request, pending review
    file_password: str  # the sample request's file password (asked on the download page)

    @property
    def mailbox(self) -> str:
        return f"{self.url}{MAILBOX}"


def bind(port: int) -> socket.socket:
    """The delivery app's listening socket on loopback, bound now (0: any free port) so its URL
    is known before the settings are written and a port in use is said before anything starts."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise UsageError(
            f"Port {port} is in use; choose another with --delivery-port (0: any free port).",
            code="usage.demo_port",
        ) from None
    sock.listen(128)
    return sock


def settings_section(folder: Path, url: str) -> dict[str, Any]:
    """``[delivery]`` for the demo: plain HTTP on loopback, files and mails in the demo folder."""
    return {
        "base_url": url,
        "mail_dir": str(folder / "delivery" / "mailbox"),
        "secret_key_file": str(folder / "keys" / "delivery-secret.key"),
        "secure_cookies": False,
    }


def _manifest(orders: list[Order], domain: str) -> bytes:
    rows = ["customer,email_domain,account_manager,po_number,invoice_number,shipment_number,serial"]
    for order in orders:
        for shipment in order.shipments:
            rows += [
                f"{CUSTOMER},{domain},Mia Manager,{order.po},{order.invoice},{shipment.number},{s}"
                for s in shipment.serials
            ]
    return ("\n".join(rows) + "\n").encode()


def _orders(first: list[str], second: list[str], files: tuple[Path, Path]) -> list[Order]:
    """PO-1001: the first delivery's tokens in two shipments; PO-1002: the second delivery's."""
    half = len(first) // 2
    return [
        Order(
            "PO-1001",
            "INV-2001",
            files[0],
            (Shipment("SH-1", tuple(first[:half])), Shipment("SH-2", tuple(first[half:]))),
        ),
        Order("PO-1002", "INV-2002", files[1], (Shipment("SH-3", tuple(second)),)),
    ]


def stock(
    dl: Delivery,
    *,
    url: str,
    domain: str,
    serials: tuple[list[str], list[str]],
    files: tuple[Path, Path],
    zip_password: str,
) -> DeliveryDemo:
    """Load both vendor deliveries as orders, queue one request as a customer would, and make
    the reviewer account (role ``delivery``)."""
    dl.prepare()
    orders = _orders(*serials, files)
    opening = SeedFileOptions(password=Secret(zip_password.encode()))
    for order in orders:
        load(
            dl,
            order.file.read_bytes(),
            order.file.name,
            _manifest([order], domain),
            f"{order.po}.csv",
            actor=ACTOR,
            options=opening,
        )
    address = f"it@{domain}"
    _token, visit = find_order(dl, orders[0].po, address, address="127.0.0.1")
    first = orders[0].shipments[0]
    shipment = next(s for s in visit.order.shipments if s.number == first.number)
    visit = verify_possession(dl, visit, {shipment.id: first.serials[0]}, address="127.0.0.1")
    file_password = _file_password([address, orders[0].po])
    request_id = create_request(
        dl,
        visit,
        RequestSpec(
            shipment_ids=(shipment.id,),
            packaging="combined",
            format="entra-csv",
            encryption="password",
            password=Secret(file_password.encode()),
        ),
    )
    reviewer_password = secrets.token_urlsafe(12)
    create_account(dl.inv, REVIEWER, Secret(reviewer_password.encode()), ["delivery"], actor=ACTOR)
    return DeliveryDemo(url, reviewer_password, address, tuple(orders), request_id, file_password)


def _file_password(context: list[str]) -> str:
    """24 random characters the service's password rules take (strong by length; drawn again in
    the unlikely case they hold a common word or the order's own words)."""
    while True:
        password = secrets.token_urlsafe(18)
        try:
            check_password(password, context)
        except DeliveryError:
            continue
        return password


def delivery_app(dl: Delivery) -> Any:
    from oathdesk.delivery.web_app import create_delivery_app
    from oathdesk.delivery.web_mailbox import pages

    app = create_delivery_app(dl)
    app.include_router(pages)  # the demo's alone
    return app


@contextmanager
def serving(app: Any, sock: socket.socket) -> Iterator[None]:
    """Serve ``app`` on ``sock`` in a background thread while the console runs in front."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            server_header=False,
            access_log=False,  # paths hold download tokens
            timeout_graceful_shutdown=5,
        )
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="demo-delivery", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def open_delivery(inv: Inventory, config: Config) -> Delivery:
    from oathdesk.cli.delivery_cmd import settings_from

    return Delivery(inv, settings_from(config))


def announce(demo: DeliveryDemo) -> None:
    out = console.out
    out.print(f"seed delivery   [bold]{escape(demo.url)}/[/]  (the vendor's side)")
    out.print(
        f"reviewer        [bold]{REVIEWER}[/]  password [bold]{escape(demo.reviewer_password)}[/]"
        f"  at {escape(demo.url)}/review"
    )
    out.print(f"mailbox         [bold]{escape(demo.mailbox)}[/]  (mails the service sent)")
    for order in demo.orders:
        ships = ", ".join(f"{s.number} serial {s.serials[0]}" for s in order.shipments)
        out.print(
            f"order           [bold]{order.po}[/] for [bold]{escape(demo.email)}[/]  ({ships})"
        )
    out.print(
        f"request #{demo.request_id} for PO-1001 SH-1 waits for the reviewer; its file password "
        f"is [bold]{escape(demo.file_password)}[/]. Approve it, open the mail in the mailbox, "
        "download; or find PO-1002 as the customer and ask for its file."
    )
