"""Short-cuts through the customer's steps for the service tests."""

from __future__ import annotations

from oathdesk.delivery import (
    CustomField,
    CustomLayout,
    Delivery,
    RequestSpec,
    create_request,
    find_order,
    verify_possession,
)
from oathdesk.delivery.finding import VisitView
from oathdesk.domain import Secret
from tests.delivery import support

LAYOUT = CustomLayout(
    fields=(
        CustomField("Token", "serial"),
        CustomField("Key", "secret"),
        CustomField("Vendor", None, "Acme"),
        CustomField("Step", "period"),
    ),
    header_row=False,
    secret_encoding="base64",
)


def verified_visit(dl: Delivery, shipments: tuple[str, ...] = ("SH-1", "SH-2")) -> VisitView:
    _token, visit = find_order(dl, "PO-1001", "it@contoso.example", address="10.0.0.1")
    ids = {s.number: s.id for s in visit.order.shipments}
    answers = {ids[n]: support.SHIPMENTS[n][-1] for n in shipments}
    return verify_possession(dl, visit, answers, address="10.0.0.1")


def ask(
    dl: Delivery,
    *,
    fmt: str = "entra-csv",
    encryption: str = "password",
    packaging: str = "combined",
    password: str | None = support.STRONG,
    key: str | None = None,
    shipments: tuple[str, ...] = ("SH-1", "SH-2"),
) -> int:
    visit = verified_visit(dl, shipments)
    return create_request(
        dl,
        visit,
        RequestSpec(
            shipment_ids=tuple(s.id for s in visit.order.shipments if s.number in shipments),
            packaging=packaging,
            format=fmt,
            encryption=encryption,
            password=Secret(password.encode()) if password else None,
            pgp_key=key,
            layout=LAYOUT if fmt == "custom-csv" else None,
        ),
    )
