"""A shipment holding tokens of several models names every one of them, with its count, in the
customer's shipment list (the list named only one, hiding the others), on both databases and on
the web page."""

from __future__ import annotations

import httpx

from oathdesk.delivery import Delivery, find_order, load
from oathdesk.domain import SeedRecord
from oathdesk.formats import write_seeds
from tests.backends import sqlite_only
from tests.delivery import support
from tests.delivery.web_support import find

MODELS = {
    "MX000001": "C301",
    "MX000002": "C200",
    "MX000003": "C301",
    "MX000004": "C200",
    "MX000005": "C200",
    "MX000006": "C200",  # shipment SH-8, a single model
}
SHIPMENT_OF = {serial: "SH-7" for serial in list(MODELS)[:5]} | {"MX000006": "SH-8"}


def _load_mixed(dl: Delivery) -> None:
    records = [
        SeedRecord(serial=s, secret=support.secret_of(s), manufacturer="Acme", model=m)
        for s, m in MODELS.items()
    ]
    rows = ["customer,email_domain,account_manager,po_number,invoice_number,shipment_number,serial"]
    rows += [f"Woodgrove,woodgrove.example,Mia,PO-3003,,{SHIPMENT_OF[s]},{s}" for s in MODELS]
    manifest = ("\n".join(rows) + "\n").encode()
    load(dl, write_seeds(records, "safeid-csv"), "mixed.csv", manifest, "o.csv", actor="t")


def test_a_shipment_of_two_models_lists_both_with_their_counts(dl: Delivery) -> None:
    _load_mixed(dl)
    _token, visit = find_order(dl, "PO-3003", "it@woodgrove.example", address="10.0.0.9")
    shown = {s.number: (s.tokens, s.models) for s in visit.order.shipments}
    assert shown == {"SH-7": (5, "C200 \u00d73, C301 \u00d72"), "SH-8": (1, "C200")}


def test_models_text_names_a_token_without_a_model() -> None:
    from oathdesk.store.delivery_orders import models_text

    assert models_text([("", 2)]) == ""
    assert models_text([("", 1), ("C200", 4)]) == "model not given \u00d71, C200 \u00d74"


@sqlite_only
def test_the_shipment_page_shows_both_models(loaded: Delivery, web: httpx.Client) -> None:
    _load_mixed(loaded)
    answer = find(web, "PO-3003", "it@woodgrove.example")
    assert answer.status_code == 303, answer.text
    page = web.get("/order/shipments")
    assert page.status_code == 200
    assert "<td>C200 \u00d73, C301 \u00d72</td>" in page.text
