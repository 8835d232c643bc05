"""Inventory use cases as functions with explicit dependencies: import, queries, lifecycle, sync,
reconcile, reports, audit and keys. Every state change is audited. See docs/inventory.md.

The names below are imported on first use (PEP 562): opening a seed file
(``service.seedfile``) must not load the store, SQLAlchemy, HTTP clients or Graph code, which
would cost most of a second and some 50 MiB before a single row is read.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from oathdesk.service.handout import (
        HandoutReport,
        HandoutSettings,
        check_choice,
        handout_outcomes,
        handout_status,
        open_handout,
        run_handout,
        start_handout,
    )
    from oathdesk.service.handout_plan import (
        RosterInvalid,
        RosterPlan,
        plan_handout,
        roster_from_batch,
        roster_from_file,
    )
    from oathdesk.service.identify import identify
    from oathdesk.service.import_desk import HeldUpload, ImportDesk, ImportRefused
    from oathdesk.service.import_jobs import ImportJob, ImportJobs, run_push
    from oathdesk.service.importing import ImportReport, import_seeds
    from oathdesk.service.legacy import CleanReport, clean_legacy
    from oathdesk.service.legacy_migration import MigrationReport, migrate_legacy
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
    from oathdesk.service.notify import (
        NotifySettings,
        notify_event,
        outbox_status,
        send_pending,
        send_reminders,
        send_test,
    )
    from oathdesk.service.ports import EntraPort
    from oathdesk.service.queries import TokenPage, list_batches, list_tokens, show_token
    from oathdesk.service.reconcile import reconcile
    from oathdesk.service.reports import inventory_report
    from oathdesk.service.seedfile import OpenedSeedFile, SeedFileOptions, open_seed_file
    from oathdesk.service.sync import PushReport, push
    from oathdesk.store import TokenFilter, TokenState

_LAZY = {
    "NotifySettings": "oathdesk.service.notify",
    "notify_event": "oathdesk.service.notify",
    "outbox_status": "oathdesk.service.notify",
    "send_pending": "oathdesk.service.notify",
    "send_reminders": "oathdesk.service.notify",
    "send_test": "oathdesk.service.notify",
    "Action": "oathdesk.service.lifecycle",
    "ActionRequest": "oathdesk.service.lifecycle",
    "ActionResult": "oathdesk.service._common",
    "ChainReport": "oathdesk.service.admin",
    "Checkpoint": "oathdesk.service.admin",
    "CodeRejected": "oathdesk.service.errors",
    "EntraPort": "oathdesk.service.ports",
    "HandoutReport": "oathdesk.service.handout",
    "HandoutSettings": "oathdesk.service.handout",
    "handout_outcomes": "oathdesk.service.handout",
    "check_choice": "oathdesk.service.handout",
    "handout_status": "oathdesk.service.handout",
    "open_handout": "oathdesk.service.handout",
    "run_handout": "oathdesk.service.handout",
    "start_handout": "oathdesk.service.handout",
    "RosterInvalid": "oathdesk.service.handout_plan",
    "RosterPlan": "oathdesk.service.handout_plan",
    "plan_handout": "oathdesk.service.handout_plan",
    "roster_from_batch": "oathdesk.service.handout_plan",
    "roster_from_file": "oathdesk.service.handout_plan",
    "HeldUpload": "oathdesk.service.import_desk",
    "ImportDesk": "oathdesk.service.import_desk",
    "ImportRefused": "oathdesk.service.import_desk",
    "ImportJob": "oathdesk.service.import_jobs",
    "ImportJobs": "oathdesk.service.import_jobs",
    "run_push": "oathdesk.service.import_jobs",
    "CleanReport": "oathdesk.service.legacy",
    "clean_legacy": "oathdesk.service.legacy",
    "MigrationReport": "oathdesk.service.legacy_migration",
    "migrate_legacy": "oathdesk.service.legacy_migration",
    "ImportReport": "oathdesk.service.importing",
    "Inventory": "oathdesk.service.context",
    "OpenedSeedFile": "oathdesk.service.seedfile",
    "PushReport": "oathdesk.service.sync",
    "SeedFileOptions": "oathdesk.service.seedfile",
    "ServiceError": "oathdesk.service.errors",
    "TokenFilter": "oathdesk.store",
    "TokenPage": "oathdesk.service.queries",
    "TokenState": "oathdesk.store",
    "activate": "oathdesk.service.lifecycle",
    "assign": "oathdesk.service.lifecycle",
    "checkpoint_audit": "oathdesk.service.admin",
    "deactivate": "oathdesk.service.lifecycle",
    "delete": "oathdesk.service.lifecycle",
    "export_audit": "oathdesk.service.admin",
    "export_secrets": "oathdesk.service.admin",
    "identify": "oathdesk.service.identify",
    "import_seeds": "oathdesk.service.importing",
    "inventory_report": "oathdesk.service.reports",
    "list_batches": "oathdesk.service.queries",
    "list_tokens": "oathdesk.service.queries",
    "mark_lost": "oathdesk.service.lifecycle",
    "open_seed_file": "oathdesk.service.seedfile",
    "perform": "oathdesk.service.lifecycle",
    "push": "oathdesk.service.sync",
    "push_one": "oathdesk.service.lifecycle",
    "reconcile": "oathdesk.service.reconcile",
    "replace": "oathdesk.service.lifecycle",
    "resync": "oathdesk.service.lifecycle",
    "rotate_keys": "oathdesk.service.admin",
    "show_token": "oathdesk.service.queries",
    "unassign": "oathdesk.service.lifecycle",
    "verify_audit": "oathdesk.service.admin",
}


if not TYPE_CHECKING:  # hidden from mypy, which would otherwise accept any name here

    def __getattr__(name: str) -> Any:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value


class _Package(types.ModuleType):
    """Keeps an exported name from being shadowed by its submodule: importing
    ``service.identify`` binds the module on the package, and ``identify`` (the function) must
    still be what ``from oathdesk.service import identify`` gives, as when it was imported here."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__all__ = [
    "Action",
    "ActionRequest",
    "ActionResult",
    "ChainReport",
    "Checkpoint",
    "CleanReport",
    "CodeRejected",
    "EntraPort",
    "HandoutReport",
    "HandoutSettings",
    "HeldUpload",
    "ImportDesk",
    "ImportJob",
    "ImportJobs",
    "ImportRefused",
    "ImportReport",
    "Inventory",
    "MigrationReport",
    "NotifySettings",
    "OpenedSeedFile",
    "PushReport",
    "RosterInvalid",
    "RosterPlan",
    "SeedFileOptions",
    "ServiceError",
    "TokenFilter",
    "TokenPage",
    "TokenState",
    "activate",
    "assign",
    "check_choice",
    "checkpoint_audit",
    "clean_legacy",
    "deactivate",
    "delete",
    "export_audit",
    "export_secrets",
    "handout_outcomes",
    "handout_status",
    "identify",
    "import_seeds",
    "inventory_report",
    "list_batches",
    "list_tokens",
    "mark_lost",
    "migrate_legacy",
    "notify_event",
    "open_handout",
    "open_seed_file",
    "outbox_status",
    "perform",
    "plan_handout",
    "push",
    "push_one",
    "reconcile",
    "replace",
    "resync",
    "roster_from_batch",
    "roster_from_file",
    "rotate_keys",
    "run_handout",
    "run_push",
    "send_pending",
    "send_reminders",
    "send_test",
    "show_token",
    "start_handout",
    "unassign",
    "verify_audit",
]
