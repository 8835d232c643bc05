"""The upload journal: an append-only JSON-lines file beside the seed file, so an interrupted
upload resumes where it stopped. It holds serials, device ids and error codes, never a secret.

Lines: a header naming the tenant and Graph URL, then ``sent`` (serials whose request left),
then ``result`` entries (created / present with ids, failed with a code). A half-written last
line (the process was killed) is ignored.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oathdesk.domain import InputFileError

SUFFIX = ".oathdesk-upload.jsonl"


def journal_path(seed_file: Path) -> Path:
    return seed_file.with_name(seed_file.name + SUFFIX)


@dataclass
class JournalState:
    """What earlier runs established: ``done`` serial → (outcome, device id); ``sent`` serials
    whose outcome was never recorded (look them up before sending again)."""

    done: dict[str, tuple[str, str]] = field(default_factory=dict)
    sent: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)


class Journal:
    def __init__(self, path: Path, *, tenant: str, base_url: str) -> None:
        self.path = path
        self.target = {"tenant": tenant, "base_url": base_url}
        self._lock = threading.Lock()
        self._fd: int | None = None

    def load(self) -> JournalState:
        """Read what earlier runs for the same tenant and Graph URL recorded."""
        state = JournalState()
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return state
        except (OSError, UnicodeDecodeError) as exc:
            raise InputFileError(f"{self.path}: cannot read the upload journal ({exc}).") from None
        entries: list[dict[str, Any]] = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short by a kill
            if isinstance(entry, dict):
                entries.append(entry)
        if not entries or entries[0].get("kind") != "header":
            return state
        if {k: entries[0].get(k) for k in self.target} != self.target:
            return state  # another tenant or service: start afresh
        for entry in entries[1:]:
            if entry.get("kind") == "sent":
                state.sent.update(str(s) for s in entry.get("serials", []))
            elif entry.get("kind") == "result":
                for outcome in ("created", "present"):
                    for serial, device_id in dict(entry.get(outcome, {})).items():
                        state.done[str(serial)] = (outcome, str(device_id))
                        state.failed.pop(str(serial), None)
                for serial, code in dict(entry.get("failed", {})).items():
                    state.failed[str(serial)] = str(code)
        state.sent -= set(state.done)
        return state

    def open(self, *, fresh: bool) -> None:
        """Start writing; ``fresh`` replaces a journal left for another tenant or service."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        if fresh:
            flags |= os.O_TRUNC
        try:
            self._fd = os.open(self.path, flags, 0o600)
        except OSError as exc:
            raise InputFileError(
                f"{self.path}: cannot write the upload journal ({exc.strerror}); the folder of "
                "the seed file must be writable.",
                code="file.unwritable",
            ) from None
        size = self.path.stat().st_size
        if fresh or size == 0:
            self._write({"kind": "header", "v": 1, **self.target})
        else:
            with self.path.open("rb") as fh:
                fh.seek(size - 1)
                if fh.read(1) != b"\n":  # end a line a kill cut short, so ours start clean
                    os.write(self._fd, b"\n")

    def _write(self, entry: dict[str, Any]) -> None:
        if self._fd is None:
            return
        data = (json.dumps(entry, separators=(",", ":")) + "\n").encode()
        with self._lock:
            os.write(self._fd, data)

    def sent(self, serials: list[str]) -> None:
        self._write({"kind": "sent", "serials": serials})

    def result(
        self,
        *,
        created: dict[str, str] | None = None,
        present: dict[str, str] | None = None,
        failed: dict[str, str] | None = None,
    ) -> None:
        entry: dict[str, Any] = {"kind": "result"}
        for key, value in (("created", created), ("present", present), ("failed", failed)):
            if value:
                entry[key] = value
        if len(entry) > 1:
            self._write(entry)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.fsync(self._fd)
                os.close(self._fd)
                self._fd = None
