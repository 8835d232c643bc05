"""Inventory use cases as functions with explicit dependencies: import, queries, lifecycle, sync,
reconcile, reports, audit and keys. Every state change is audited. See docs/inventory.md.
"""

from oathdesk.service._common import ActionResult
from oathdesk.service.admin import (
    ChainReport,
    Checkpoint,
    checkpoint_audit,
    export_audit,
    export_secrets,
    rotate_keys,
    verify_audit,
)
from oathdesk.service.context import Inventory
from oathdesk.service.errors import CodeRejected, ServiceError
from oathdesk.service.identify import identify
from oathdesk.service.import_desk import HeldUpload, ImportDesk, ImportRefused
from oathdesk.service.import_jobs import ImportJob, ImportJobs, run_push
from oathdesk.service.importing import ImportReport, import_seeds
from oathdesk.service.legacy import CleanReport, clean_legacy
from oathdesk.service.lifecycle import (
    Action,
    ActionRequest,
    activate,
    assign,
    deactivate,
    delete,
    mark_lost,
    perform,
    push_one,
    replace,
    resync,
    unassign,
)
from oathdesk.service.ports import EntraPort
from oathdesk.service.queries import TokenPage, list_batches, list_tokens, show_token
from oathdesk.service.reconcile import reconcile
from oathdesk.service.reports import inventory_report
from oathdesk.service.seedfile import OpenedSeedFile, SeedFileOptions, open_seed_file
from oathdesk.service.sync import PushReport, push
from oathdesk.store import TokenFilter, TokenState

__all__ = [
    "Action",
    "ActionRequest",
    "ActionResult",
    "ChainReport",
    "Checkpoint",
    "CleanReport",
    "CodeRejected",
    "EntraPort",
    "HeldUpload",
    "ImportDesk",
    "ImportJob",
    "ImportJobs",
    "ImportRefused",
    "ImportReport",
    "Inventory",
    "OpenedSeedFile",
    "PushReport",
    "SeedFileOptions",
    "ServiceError",
    "TokenFilter",
    "TokenPage",
    "TokenState",
    "activate",
    "assign",
    "checkpoint_audit",
    "clean_legacy",
    "deactivate",
    "delete",
    "export_audit",
    "export_secrets",
    "identify",
    "import_seeds",
    "inventory_report",
    "list_batches",
    "list_tokens",
    "mark_lost",
    "open_seed_file",
    "perform",
    "push",
    "push_one",
    "reconcile",
    "replace",
    "resync",
    "rotate_keys",
    "run_push",
    "show_token",
    "unassign",
    "verify_audit",
]
