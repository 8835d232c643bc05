"""Code run in other OS processes by the inventory tests (multiprocessing spawn, or ``python -m``).

``python -m tests.service.workers push-and-die SETTINGS_JSON N`` pushes stock and kills its own
process with SIGKILL right after Entra accepted the N-th token, before oathdesk marked it.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any

from oathdesk.bootstrap import build_inventory
from oathdesk.config import Config
from oathdesk.domain import OathdeskError
from oathdesk.service import assign, push


def race_assign(sections: dict[str, Any], serial: str, user: str, barrier: Any, out: Any) -> None:
    """Try to assign ``serial`` to ``user`` at the same moment as another process."""
    try:
        with build_inventory(Config(sections=sections)) as inv:
            inv.entra()  # sign in before the race, so both start from the same line
            barrier.wait(timeout=60)
            try:
                assign(inv, serial, user, actor=f"race:{user}", reason="race")
                out.put((user, "won"))
            except OathdeskError as exc:
                out.put((user, exc.code))
    except Exception as exc:  # report, so the parent fails with a reason rather than a hang
        out.put((user, f"crash:{type(exc).__name__}:{exc}"))


def push_and_die(sections: dict[str, Any], die_at: int) -> None:
    sent = 0

    def hook(serial: str, phase: str) -> None:
        nonlocal sent
        if phase == "sent":
            sent += 1
            if sent == die_at:
                os.kill(os.getpid(), signal.SIGKILL)

    with build_inventory(Config(sections=sections)) as inv:
        push(inv, actor="killed", hook=hook)


if __name__ == "__main__":
    if sys.argv[1] == "push-and-die":
        push_and_die(json.loads(sys.argv[2]), int(sys.argv[3]))


def push_once(sections: dict[str, Any], barrier: Any, out: Any) -> None:
    """Push stock at the same moment as another process."""
    try:
        with build_inventory(Config(sections=sections)) as inv:
            inv.entra()
            barrier.wait(timeout=60)
            try:
                report = push(inv, actor=f"push:{os.getpid()}")
            except OathdeskError as exc:
                out.put((exc.code, 0, 0, 0))
                return
            out.put(("ok", report.created, report.present, report.job_id))
    except Exception as exc:
        out.put((f"crash:{type(exc).__name__}:{exc}", 0, 0, 0))
