"""Run in another OS process by the migration tests: ``python -m tests.service.migrate_worker
SETTINGS_JSON N`` migrates legacy copies and kills its own process with SIGKILL at the N-th
assignment, i.e. after Entra created that copy's Graph device and before oathdesk recorded it."""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any

from oathdesk.bootstrap import build_inventory
from oathdesk.config import Config
from oathdesk.service import migrate_legacy


def migrate_and_die(sections: dict[str, Any], die_at: int) -> None:
    with build_inventory(Config(sections=sections)) as inv:
        entra = inv.entra()
        assign = entra.assign
        calls = 0

        def assign_or_die(user: str, device_id: str) -> None:
            nonlocal calls
            calls += 1
            if calls == die_at:
                os.kill(os.getpid(), signal.SIGKILL)
            assign(user, device_id)

        entra.assign = assign_or_die  # type: ignore[method-assign]
        migrate_legacy(inv, actor="killed")


if __name__ == "__main__":
    migrate_and_die(json.loads(sys.argv[1]), int(sys.argv[2]))
