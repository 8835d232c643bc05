"""Uploads held between their preview and their confirm, each for one session, for a while.

Why: an administrator sees the validation report before anything is kept, so the validated
bytes (and the password that opens them) wait here under an unguessable key until the confirm.
Time comes from the injected ``Clock``, so expiry is tested without sleeping; the interface is
four calls (put, get, take, purge) so that the memory behind it can become a database table.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field

from oathdesk.domain import Clock, OathdeskError, Secret

HOLD_SECONDS = 15 * 60  # how long an upload waits for its confirm
MAX_HELD = 64 * 1024 * 1024  # every upload waiting for a confirm, together


class ImportRefused(OathdeskError):
    """An upload or job the import cannot use as sent (expired, too many waiting, ...)."""

    code = "import.invalid"


@dataclass(frozen=True)
class HeldUpload:
    """One validated upload and what opens it again; its repr shows no byte and no password."""

    owner: str = field(repr=False)  # the session that uploaded it; only it may confirm
    name: str
    data: bytes = field(repr=False)
    fmt: str | None
    password: Secret | None = field(repr=False)
    use_pgp: bool
    member: str | None = None  # the seed file inside a ZIP holding several


@dataclass
class _Entry:
    upload: HeldUpload
    expires: float  # epoch seconds, from the desk's clock


class ImportDesk:
    """Held uploads in memory behind one lock, each until ``hold_seconds`` after its put."""

    def __init__(
        self, clock: Clock, *, hold_seconds: float = HOLD_SECONDS, max_bytes: int = MAX_HELD
    ) -> None:
        self.clock = clock
        self.hold_seconds = hold_seconds
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._held: dict[str, _Entry] = {}

    def put(self, upload: HeldUpload) -> str:
        """Hold ``upload``; its new unguessable key. Refused when the waiting bytes would pass
        ``max_bytes`` (expired uploads are dropped first)."""
        with self._lock:
            now = self.clock.now()
            self._purge(now)
            waiting = sum(len(e.upload.data) for e in self._held.values())
            if waiting + len(upload.data) > self.max_bytes:
                raise ImportRefused(
                    "too many uploads are waiting for a confirm; confirm or wait a few minutes",
                    code="import.busy",
                )
            key = secrets.token_urlsafe(32)
            self._held[key] = _Entry(upload, now + self.hold_seconds)
            return key

    def get(self, key: str, owner: str) -> HeldUpload:
        """The upload held under ``key`` for ``owner``; expired, unknown and foreign alike are
        ``import.upload_expired`` (a key cannot be probed)."""
        with self._lock:
            entry = self._held.get(key)
            if entry is None or entry.upload.owner != owner or entry.expires < self.clock.now():
                raise ImportRefused(
                    "this upload has expired or was already imported; upload the file again",
                    code="import.upload_expired",
                )
            return entry.upload

    def take(self, key: str, owner: str) -> HeldUpload | None:
        """Remove the upload held under ``key`` for ``owner``; it, or ``None`` if it is gone."""
        with self._lock:
            entry = self._held.get(key)
            if entry is None or entry.upload.owner != owner:
                return None
            del self._held[key]
            return entry.upload

    def purge(self) -> int:
        """Drop every expired upload; how many were dropped."""
        with self._lock:
            return self._purge(self.clock.now())

    def _purge(self, now: float) -> int:
        expired = [k for k, e in self._held.items() if e.expires < now]
        for key in expired:
            del self._held[key]
        return len(expired)
