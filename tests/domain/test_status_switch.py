"""The registry's HTTP statuses against the suffix rules the web apps still use
(web/errors.py and delivery/web_status.py ``status_for``): equal for every code except the
fixes listed here, so switching the apps to ``http_status`` changes exactly these answers.

Delete this file once both apps call ``oathdesk.domain.http_status``.
"""

from __future__ import annotations

from oathdesk.delivery.web_status import status_for as delivery_status_for
from oathdesk.domain import http_status
from oathdesk.domain.error_codes import CODES
from oathdesk.web.errors import status_for

# Answered without status_for: the handlers give http.* the framework's status and ``internal``
# 500; the emulator answers its codes with the status Graph would send.
NOT_THROUGH_STATUS_FOR = {"http.not_found", "http.method_not_allowed", "internal"}

# code -> (console status_for today, http_status): the intended fixes, each with its reason.
CONSOLE_FIXES = {
    # a conflict is 409: these fell through the suffix rules to 400
    "inventory.batch_conflict": (400, 409),
    "inventory.job_finished": (400, 409),
    "service.missing_in_entra": (400, 409),
    "service.no_seed": (400, 409),
    "service.no_user": (400, 409),
    "service.not_assigned_in_entra": (400, 409),
    "service.push_running": (400, 409),
    "store.key_in_use": (400, 409),
    "store.seed_destroyed": (400, 409),
    # nothing matched is 404, as the CLI's exit 8 already said
    "delivery.order_not_found": (400, 404),
    "otp.no_match": (400, 404),
    "service.no_stock": (400, 404),
    # the delivery app's answer (410, and 403 as docs/delivery.md says), now the console's too
    "delivery.link_gone": (400, 410),
    "delivery.link_forbidden": (400, 403),
    # files and configuration: a missing file is not a missing page, an existing one no conflict
    "config.not_found": (404, 400),
    "file.exists": (409, 400),
    "file.not_found": (404, 400),
    # wait and retry, or try again shortly
    "import.busy": (400, 429),
    "auth.entra_unreachable": (400, 503),
    "store.audit_head_missing": (400, 503),
    # the default of AuthError (sign-in or session failure) is unauthenticated
    "auth.error": (400, 401),
    # stored data that does not verify, and bugs, are the server's fault, not the request's
    "store.error": (400, 500),
    "store.audit_broken": (400, 500),
    "store.key_unknown": (400, 500),
    "store.seal_invalid": (400, 500),
    "store.audit_bad_details": (400, 500),
    "store.audit_secret": (400, 500),
    "store.read_only": (400, 500),
}
# The delivery app already answered its own two as fixed above, and lacked the console's
# explicit entries for Graph, the database and self-service.
ALREADY_IN_DELIVERY = {"delivery.link_gone", "delivery.order_not_found"}
DELIVERY_FIXES = {
    **{c: pair for c, pair in CONSOLE_FIXES.items() if c not in ALREADY_IN_DELIVERY},
    "graph.conflict": (400, 409),
    "graph.outcome_unknown": (400, 503),
    "graph.unavailable": (400, 503),
    "selfservice.not_claimable": (400, 404),
    "service.not_migrated": (400, 503),
    "store.unreachable": (400, 503),
}


def _compared() -> list[str]:
    return [c for c in CODES if c not in NOT_THROUGH_STATUS_FOR and not c.startswith("emulator.")]


def test_the_console_keeps_its_statuses_but_for_the_listed_fixes() -> None:
    changed = {c: (status_for(c), http_status(c)) for c in _compared()}
    changed = {c: pair for c, pair in changed.items() if pair[0] != pair[1]}
    assert changed == CONSOLE_FIXES


def test_the_delivery_app_keeps_its_statuses_but_for_the_listed_fixes() -> None:
    changed = {c: (delivery_status_for(c), http_status(c)) for c in _compared()}
    changed = {c: pair for c, pair in changed.items() if pair[0] != pair[1]}
    assert changed == DELIVERY_FIXES
