"""The seed delivery service (vendor side): from an order to a one-time encrypted download.

A customer finds the order (PO, invoice or shipment number plus business e-mail), proves
possession of each shipment by a serial, picks packaging, format and encryption; the delivery
team approves or rejects; on approval the file is built, encrypted and stored, and a single-use
link is mailed. See ``docs/delivery.md``.
"""

from oathdesk.delivery.addresses import parse_address
from oathdesk.delivery.building import CustomField, CustomLayout
from oathdesk.delivery.context import Delivery, DeliveryError, checkpoint_audit, verify_audit
from oathdesk.delivery.finding import find_order, resolve_visit, verify_possession
from oathdesk.delivery.links import (
    Download,
    LinkView,
    check_receipt,
    confirm,
    download,
    open_link,
    purge_expired,
)
from oathdesk.delivery.loading import LoadResult, load
from oathdesk.delivery.releasing import approve
from oathdesk.delivery.requesting import (
    RequestSpec,
    check_password,
    create_request,
    get_request,
    list_requests,
    reject,
)
from oathdesk.delivery.settings import DeliverySettings, FindPolicy, SmtpSettings

__all__ = [
    "CustomField",
    "CustomLayout",
    "Delivery",
    "DeliveryError",
    "DeliverySettings",
    "Download",
    "FindPolicy",
    "LinkView",
    "LoadResult",
    "RequestSpec",
    "SmtpSettings",
    "approve",
    "check_password",
    "check_receipt",
    "checkpoint_audit",
    "confirm",
    "create_request",
    "download",
    "find_order",
    "get_request",
    "list_requests",
    "load",
    "open_link",
    "parse_address",
    "purge_expired",
    "reject",
    "resolve_visit",
    "verify_audit",
    "verify_possession",
]
