"""Code run in other OS processes by the held-upload tests (multiprocessing spawn): one process
holds an upload, or takes one, at the same moment as others on the same database."""

from __future__ import annotations

from typing import Any

from oathdesk.bootstrap import build_inventory
from oathdesk.config import Config
from oathdesk.domain import OathdeskError, Secret
from oathdesk.service import HeldUpload, ImportDesk


def put_at_once(
    sections: dict[str, Any], size: int, max_bytes: int, barrier: Any, out: Any
) -> None:
    """Hold ``size`` bytes under the cap ``max_bytes`` when every racing process is ready."""
    try:
        with build_inventory(Config(sections=sections)) as inv:
            desk = ImportDesk(inv, max_bytes=max_bytes)
            inv.check_schema()  # connect before the race
            barrier.wait(timeout=60)
            held = HeldUpload("session-a", "d.csv", b"y" * size, None, Secret(b"pw"), False)
            try:
                desk.put(held)
                out.put("held")
            except OathdeskError as exc:
                out.put(exc.code)
    except Exception as exc:  # report, so the parent fails with a reason rather than a hang
        out.put(f"crash:{type(exc).__name__}:{exc}")


def take_at_once(sections: dict[str, Any], key: str, barrier: Any, out: Any) -> None:
    """Take the upload held under ``key`` when every racing process is ready."""
    try:
        with build_inventory(Config(sections=sections)) as inv:
            desk = ImportDesk(inv)
            inv.check_schema()
            barrier.wait(timeout=60)
            taken = desk.take(key, "session-a")
            out.put("taken" if taken is not None and taken.data == b"z" * 20 else "none")
    except Exception as exc:
        out.put(f"crash:{type(exc).__name__}:{exc}")
