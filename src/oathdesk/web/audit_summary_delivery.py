"""The sentences of the delivery service's (and the legacy migration's and Temporary Access
Pass's) audit actions, for the audit page's summaries.

Kept apart from ``audit_summary`` (which fills them in) so that each file stays readable:
``{actor}``, ``{subject}`` and the entry's detail keys fill the sentence; a missing one reads "—".
"""

from __future__ import annotations

DELIVERY_TEXTS: dict[str, str] = {
    "delivery.order_loaded": "{actor} loaded order {subject}",
    "delivery.order_found": "{actor} found order {subject}",
    "delivery.find_failed": "{actor} looked for order number {subject} in vain",
    "delivery.find_throttled": "{actor} was paused looking for orders",
    "delivery.possession_verified": "{actor} proved holding shipment(s) {shipments} of {subject}",
    "delivery.possession_failed": (
        "{actor} typed a wrong serial for shipment(s) {shipments} of {subject}"
    ),
    "delivery.request_created": "{actor} requested seed file(s) for order {order} ({subject})",
    "delivery.request_approved": "{actor} approved {subject}",
    "delivery.request_rejected": "{actor} rejected {subject}",
    "delivery.file_built": "{actor} built file {file} for {subject}",
    "delivery.mail_sent": "{actor} mailed the download links of {subject} to {to}",
    "delivery.mail_failed": "{actor} could not mail the download links of {subject}",
    "delivery.downloaded": "{actor} downloaded {file} of {subject}",
    "delivery.download_refused": "{actor} gave a wrong password for {file}",
    "delivery.confirmed": "{actor} confirmed receiving {file} of {subject}",
    "delivery.expired": "{actor} deleted the expired file {file} of {subject}",
}

# the legacy migration (service/legacy_migration.py) and the Temporary Access Pass (service/tap.py)
MIGRATION_TEXTS: dict[str, str] = {
    "legacy.migrate.start": "{actor} started migrating {copies} legacy copies ({subject})",
    "legacy.migrate.resume": "{actor} resumed migrating {copies} legacy copies ({subject})",
    "legacy.migrate": (
        "{actor} moved the legacy copy of token {subject} (user {user}) into the Graph inventory "
        "({activation})"
    ),
    "legacy.migrate.finish": (
        "{actor} finished migrating legacy copies ({subject}): {done} moved, {skipped} left "
        "alone, {failed} failed"
    ),
    "user.tap_issued": (
        "{actor} issued a Temporary Access Pass to {user} for {lifetime_minutes} minutes "
        "(until {expires}; usable once: {one_time})"
    ),
}
