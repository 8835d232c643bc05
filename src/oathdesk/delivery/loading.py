"""``oathdesk delivery load``: orders and shipments from a seed file plus an order manifest.

Why a manifest: a seed file says nothing about who bought which token; the vendor's ERP export
(CSV or JSON) says which serial is in which shipment of which order of which customer. Loading
is all or nothing: every manifest serial must be in the seed file, nothing may exist already.

The seed file goes through ``service.open_seed_file``, the one pipeline every import uses, so a
password ZIP or a PGP message opens here as it does for ``tokens import`` (and a wrong password
is named as one, not as an unknown format).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from oathdesk.delivery.context import Delivery, DeliveryError
from oathdesk.domain import SeedRecord
from oathdesk.service import SeedFileOptions, open_seed_file
from oathdesk.store import DELIVERY_TENANT, Customer, OrderRepository, ShipmentToken

CSV_COLUMNS = (
    "customer",
    "email_domain",
    "account_manager",
    "po_number",
    "invoice_number",
    "shipment_number",
    "serial",
)


@dataclass
class ManifestShipment:
    number: str
    serials: list[str] = field(default_factory=list)


@dataclass
class ManifestOrder:
    customer: str
    email_domain: str
    account_manager: str
    po_number: str | None
    invoice_number: str | None
    shipments: dict[str, ManifestShipment] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadResult:
    customers: int
    orders: int
    shipments: int
    tokens: int
    unused: int  # tokens of the seed file no manifest row names

    def to_dict(self) -> dict[str, int]:
        return self.__dict__.copy()


def _bad(message: str) -> DeliveryError:
    return DeliveryError(message, code="delivery.bad_manifest")


def _rows_from_json(data: Any) -> list[dict[str, str]]:
    if isinstance(data, list):
        return [{k: str(v) for k, v in row.items()} for row in data if isinstance(row, dict)]
    rows: list[dict[str, str]] = []
    for cust in data.get("customers", []):
        for order in cust.get("orders", []):
            for ship in order.get("shipments", []):
                for serial in ship.get("serials", []):
                    rows.append(
                        {
                            "customer": str(cust.get("name", "")),
                            "email_domain": str(cust.get("email_domain", "")),
                            "account_manager": str(cust.get("account_manager", "")),
                            "po_number": str(order.get("po_number") or ""),
                            "invoice_number": str(order.get("invoice_number") or ""),
                            "shipment_number": str(ship.get("number", "")),
                            "serial": str(serial),
                        }
                    )
    return rows


def parse_manifest(data: bytes, name: str) -> list[ManifestOrder]:
    """The orders a manifest describes (CSV with the columns of ``CSV_COLUMNS``, or JSON)."""
    text = data.decode("utf-8-sig", errors="strict")
    if text.lstrip().startswith(("{", "[")):
        try:
            rows = _rows_from_json(json.loads(text))
        except (ValueError, AttributeError) as exc:
            raise _bad(f"{name}: not a valid JSON manifest ({exc}).") from None
    else:
        reader = csv.DictReader(io.StringIO(text))
        missing = set(CSV_COLUMNS) - {h.strip().lower() for h in reader.fieldnames or []}
        if missing:
            raise _bad(f"{name}: the manifest lacks column(s) {', '.join(sorted(missing))}.")
        rows = [{k.strip().lower(): (v or "").strip() for k, v in r.items() if k} for r in reader]
    orders: dict[tuple[str | None, str | None], ManifestOrder] = {}
    for number, row in enumerate(rows, start=2):
        po, inv = row.get("po_number") or None, row.get("invoice_number") or None
        domain = row.get("email_domain", "").strip().lower().lstrip("@")
        if not (po or inv) or not domain or not row.get("shipment_number") or not row.get("serial"):
            raise _bad(
                f"{name}: row {number} needs a PO or invoice number, an e-mail domain, a "
                "shipment number and a serial."
            )
        order = orders.setdefault(
            (po, inv),
            ManifestOrder(
                row.get("customer", domain), domain, row.get("account_manager", ""), po, inv
            ),
        )
        if order.email_domain != domain:
            raise _bad(f"{name}: row {number}: one order cannot belong to two e-mail domains.")
        ship = order.shipments.setdefault(
            row["shipment_number"], ManifestShipment(row["shipment_number"])
        )
        ship.serials.append(row["serial"])
    if not orders:
        raise _bad(f"{name}: the manifest names no token.")
    return list(orders.values())


def _customer(orders: OrderRepository, order: ManifestOrder) -> tuple[Customer, bool]:
    found = orders.customer_by_domain(order.email_domain)
    if found is not None:
        return found, False
    name = order.customer or order.email_domain
    return orders.add_customer(name, order.email_domain, order.account_manager), True


def _check_new(orders: OrderRepository, order: ManifestOrder) -> None:
    taken = orders.taken_number(order.po_number, order.invoice_number)
    if taken:
        raise DeliveryError(f"Order {taken} is already loaded.", code="delivery.exists")
    for number in order.shipments:
        if orders.shipment_exists(number):
            raise DeliveryError(f"Shipment {number} is already loaded.", code="delivery.exists")


def load(
    dl: Delivery,
    seed_data: bytes,
    seed_name: str,
    manifest_data: bytes,
    manifest_name: str,
    *,
    actor: str,
    options: SeedFileOptions | None = None,
) -> LoadResult:
    """Seal every manifest token's seed and record customers, orders and shipments.

    ``options`` carry what opening the seed file needs: its format when not detected, the ZIP
    password, the PGP key's home and passphrase, defaults for what the file does not say.
    """
    result = open_seed_file(seed_data, seed_name, options).result
    result.raise_if_invalid()
    records: dict[str, SeedRecord] = {r.serial: r for r in result.records}
    orders = parse_manifest(manifest_data, manifest_name)
    wanted = [s for o in orders for sh in o.shipments.values() for s in sh.serials]
    if len(set(wanted)) != len(wanted):
        raise _bad(f"{manifest_name}: a serial appears twice in the manifest.")
    absent = [s for s in wanted if s not in records]
    if absent:
        raise _bad(
            f"{manifest_name}: {len(absent)} serial(s) are not in {seed_name}, e.g. {absent[0]}."
        )
    sealer = dl.inv.sealer
    counts = {"customers": 0, "shipments": 0}
    with dl.uow() as uow:
        repo = uow.delivery_orders
        taken = repo.loaded_serial(wanted)
        if taken:
            raise DeliveryError(
                f"Serial {taken} is already loaded.", code="delivery.serial_conflict"
            )
        for order in orders:
            _check_new(repo, order)
            customer, new = _customer(repo, order)
            counts["customers"] += new
            row = repo.add_order(customer, order.po_number, order.invoice_number, dl.now())
            for ship in order.shipments.values():
                shipment = repo.add_shipment(row, ship.number)
                counts["shipments"] += 1
                for serial in ship.serials:
                    rec = records[serial]
                    sealed = sealer.seal(rec.secret, serial=serial, tenant=DELIVERY_TENANT)
                    repo.add_token(
                        ShipmentToken(
                            shipment_id=shipment.id,
                            serial=serial,
                            key_id=sealed.key_id,
                            sealed=sealed.blob,
                            kind=rec.kind.value,
                            period=rec.period,
                            t0=rec.t0,
                            digits=rec.digits,
                            algorithm=rec.algorithm.value,
                            counter=rec.counter,
                            manufacturer=rec.manufacturer,
                            model=rec.model,
                        )
                    )
            loaded = {
                "customer": customer.email_domain,
                "shipments": sorted(order.shipments),
                "tokens": sum(len(s.serials) for s in order.shipments.values()),
                "seed_file": seed_name,
            }
            subject = f"order:{order.po_number or order.invoice_number}"
            uow.delivery_audit.append(
                "delivery.order_loaded", actor=actor, subject=subject, details=loaded
            )
    return LoadResult(
        customers=counts["customers"],
        orders=len(orders),
        shipments=counts["shipments"],
        tokens=len(wanted),
        unused=len(records) - len(wanted),
    )
