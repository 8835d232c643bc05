"""Bulk upload: thousands of seed records into the Entra inventory, fast and exactly once.

Records go out in ``#$delta`` chunks with several requests in flight, sharing one adaptive rate
limit. Serials already in the inventory are reported as present, never created twice. A chunk
whose outcome is unknown (timeout, dropped connection, 5xx) is never blindly re-sent: its serials
are looked up first and only the missing ones go out again. A journal beside the seed file lets
an interrupted upload resume. Secrets exist only inside request bodies.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from oathdesk.domain import SeedRecord
from oathdesk.graph.client import GraphClient
from oathdesk.graph.errors import (
    GraphAuthError,
    GraphError,
    GraphNotFound,
    GraphOutcomeUnknown,
    GraphRequestError,
    GraphThrottled,
    GraphUnavailable,
)
from oathdesk.graph.journal import Journal, JournalState
from oathdesk.graph.models import device_body
from oathdesk.graph.report import ItemResult, UploadReport

log = logging.getLogger("oathdesk.graph")
ASSUMED_PAGE = 100  # Graph's usual page size, until a listing shows the real one


@dataclass(frozen=True)
class UploadOptions:
    chunk_size: int = 50
    concurrency: int = 4
    unknown_grace: float = 2.0  # wait this long before looking up an unknown outcome
    max_rounds: int = 6  # sends of the same serial before giving up for this run
    dry_run: bool = False


@dataclass
class _Item:
    record: SeedRecord
    assign_to: str | None = None

    @property
    def serial(self) -> str:
        return self.record.serial


def _entry_serial(entry: dict[str, Any]) -> str:
    """The serial a bulk result speaks of: the nested ``device.serialNumber`` (the documented
    user-method shape), else a flat ``serialNumber`` (a flat device, or a failure entry)."""
    inner = entry.get("device")
    if isinstance(inner, dict) and inner.get("serialNumber"):
        return str(inner["serialNumber"])
    return str(entry.get("serialNumber") or "")


def _redact(text: str, item: _Item) -> str:
    """Belt and braces: a service message must not carry the seed back into our output."""
    secret = item.record.secret
    for spelled in {secret.to_base32(), secret.to_base32(upper=False), secret.to_hex()}:
        if spelled:
            text = text.replace(spelled, "[secret]")
    return text[:300]


class Uploader:
    def __init__(
        self,
        client: GraphClient,
        options: UploadOptions | None = None,
        *,
        journal: Journal | None = None,
        progress: Callable[[int], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.options = options or UploadOptions()
        self.journal = journal
        self._progress = progress
        self._sleep = sleep
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.report = UploadReport(order=[])
        self._inventory_size = -1  # devices in Entra before this run, once a listing told us

    # -- bookkeeping ---------------------------------------------------------------------
    def _finish(self, results: Sequence[ItemResult], *, journal: bool = True) -> None:
        with self._lock:
            for r in results:
                self.report.results[r.serial] = r
        if journal and self.journal is not None:
            self.journal.result(
                created={r.serial: r.device_id for r in results if r.outcome == "created"},
                present={r.serial: r.device_id for r in results if r.outcome == "present"},
                failed={r.serial: r.code for r in results if r.outcome == "failed"},
            )
        if self._progress and results:
            self._progress(len(results))

    def _count(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self.report, name, getattr(self.report, name) + n)

    # -- the run -------------------------------------------------------------------------
    def upload(self, records: Sequence[SeedRecord]) -> UploadReport:
        self.report = UploadReport(order=[r.serial for r in records])
        state = JournalState()
        if self.journal is not None:
            state = self.journal.load()
            if not self.options.dry_run:  # a dry run reads the journal, never writes it
                self.journal.open(fresh=not (state.done or state.sent or state.failed))
        try:
            self._run(records, state)
        finally:
            if self.journal is not None:
                self.journal.close()
        return self.report

    def _run(self, records: Sequence[SeedRecord], state: JournalState) -> None:
        earlier = [
            ItemResult(r.serial, state.done[r.serial][0], state.done[r.serial][1])
            for r in records
            if r.serial in state.done
        ]
        self._finish(earlier, journal=False)
        pending = [r for r in records if r.serial not in state.done]
        items, user_failures = self._resolve_users(pending)
        self._finish(user_failures)
        found = self._lookup(items, first=True) if items else {}
        self._finish(
            [
                ItemResult(s, "created" if s in state.sent else "present", d.id)
                for s, d in found.items()
            ]
        )
        to_send = [i for i in items if i.serial not in found]
        if self.options.dry_run:
            self._finish([ItemResult(i.serial, "planned") for i in to_send], journal=False)
            return
        size = max(1, self.options.chunk_size)
        chunks = [to_send[n : n + size] for n in range(0, len(to_send), size)]
        workers = max(1, min(self.options.concurrency, len(chunks) or 1))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="upload") as pool:
            futures = [pool.submit(self._chunk, c) for c in chunks]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                self._stop.set()
                pool.shutdown(wait=True, cancel_futures=True)
                raise

    def _resolve_users(self, records: Sequence[SeedRecord]) -> tuple[list[_Item], list[ItemResult]]:
        """UPNs or ids in the file → object ids; unknown users and guests fail their tokens."""
        wanted = sorted({r.user.strip() for r in records if r.user.strip()})
        ids: dict[str, str] = {}
        refused: dict[str, tuple[str, str]] = {}
        for name in wanted:
            try:
                user = self.client.get_user(name)
            except GraphNotFound:
                refused[name] = ("graph.user_not_found", f"user {name} does not exist in Entra")
                continue
            if not user.user_type:  # User.ReadBasic.All: Graph leaves userType out
                refused[name] = (
                    "graph.user_type_unknown",
                    f"cannot tell whether user {name} is a guest: Entra did not return userType "
                    "(the app may read only basic profiles); grant User.Read.All",
                )
                continue
            if user.user_type.lower() == "guest":
                refused[name] = (
                    "graph.user_is_guest",
                    f"user {name} is a guest; Entra cannot assign tokens to guests",
                )
                continue
            ids[name] = user.id
        items: list[_Item] = []
        failures: list[ItemResult] = []
        for r in records:
            name = r.user.strip()
            if name in refused:
                failures.append(ItemResult(r.serial, "failed", "", *refused[name]))
            else:
                items.append(_Item(r, ids.get(name)))
        return items, failures

    # -- one chunk -----------------------------------------------------------------------
    def _chunk(self, chunk: list[_Item]) -> None:
        work: list[list[_Item]] = [chunk]
        ours: set[str] = set()  # serials a request of ours may have created
        rounds: dict[str, int] = {}
        while work and not self._stop.is_set():
            again = self._send(work.pop(), ours)
            if isinstance(again, tuple):  # the whole request was refused: split it
                work.extend(x for x in again if x)
                continue
            for item in again or []:
                rounds[item.serial] = rounds.get(item.serial, 0) + 1
            give_up = [i for i in again or [] if rounds[i.serial] >= self.options.max_rounds]
            self._fail(give_up, "graph.gave_up", "no definite answer after several attempts")
            rest = [i for i in again or [] if i not in give_up]
            if rest:
                work.append(rest)

    def _fail(self, items: list[_Item], code: str, why: str) -> None:
        """Give up on ``items`` for this run; the journal makes the next run look them up."""
        reason = f"{why}; run the same upload again to resume"
        self._finish([ItemResult(i.serial, "failed", "", code, reason) for i in items])

    def _send(
        self, batch: list[_Item], ours: set[str]
    ) -> list[_Item] | tuple[list[_Item], list[_Item]] | None:
        """Send one bulk request; return what must go again (a pair means 'split')."""
        serials = [i.serial for i in batch]
        if self.journal is not None:
            self.journal.sent(serials)
        bodies = [
            {"@contentId": str(n), **device_body(i.record, i.assign_to)}
            for n, i in enumerate(batch, 1)
        ]
        self._count("bulk_requests")
        try:
            entries = self.client.bulk_create(bodies)
        except GraphOutcomeUnknown:
            self._count("unknown_outcomes")
            ours.update(serials)
            return self._settle(batch, ours)
        except (GraphThrottled, GraphUnavailable) as exc:
            log.warning("graph: bulk request not accepted (%s); will send again", exc.code)
            self._sleep(self.options.unknown_grace)
            return batch
        except GraphRequestError as exc:
            if len(batch) > 1 and exc.status == 400:
                half = len(batch) // 2
                return (batch[:half], batch[half:])
            self._finish(
                [
                    ItemResult(i.serial, "failed", "", exc.code, _redact(exc.message, i))
                    for i in batch
                ]
            )
            return None
        except GraphAuthError:
            raise
        except GraphError as exc:
            self._finish(
                [
                    ItemResult(i.serial, "failed", "", exc.code, _redact(exc.message, i))
                    for i in batch
                ]
            )
            return None
        return self._read_entries(batch, entries, ours)

    def _read_entries(
        self, batch: list[_Item], entries: list[dict[str, Any]], ours: set[str]
    ) -> list[_Item] | None:
        by_serial = {s: e for e in entries if (s := _entry_serial(e))}
        by_id = {str(e["@contentId"]): e for e in entries if "@contentId" in e}
        done: list[ItemResult] = []
        conflicts: list[_Item] = []
        missing: list[_Item] = []
        for n, item in enumerate(batch, 1):
            # Entra answers in no documented order and echoes no @contentId: the serial is the
            # key. A failure entry may carry only its @contentId. Never the position.
            entry = by_serial.get(item.serial) or by_id.get(str(n))
            if entry is None:
                missing.append(item)
                continue
            failure = entry.get("@Core.DataModificationException")
            if not isinstance(failure, dict):
                inner = entry.get("device")
                device: dict[str, Any] = inner if isinstance(inner, dict) else entry
                done.append(ItemResult(item.serial, "created", str(device.get("id") or "")))
                continue
            raw_info = failure.get("info")
            info: dict[str, Any] = raw_info if isinstance(raw_info, dict) else {}
            status = failure.get("responseCode")
            graph_code = str(info.get("code") or "")
            if status == 409 or graph_code.lower() in ("conflict", "duplicate"):
                conflicts.append(item)
                continue
            message = _redact(str(info.get("message") or "refused"), item)
            done.append(
                ItemResult(item.serial, "failed", "", f"graph.item.{graph_code or status}", message)
            )
        self._finish(done)
        if conflicts:
            found = self._lookup_or_fail(conflicts)
            if found is None:
                return None
            self._finish(
                [
                    ItemResult(
                        i.serial, "created" if i.serial in ours else "present", found[i.serial].id
                    )
                    for i in conflicts
                    if i.serial in found
                ]
            )
            self._finish(
                [
                    ItemResult(
                        i.serial,
                        "failed",
                        "",
                        "graph.conflict",
                        "Entra reported a conflict but no token with this serial is listed",
                    )
                    for i in conflicts
                    if i.serial not in found
                ]
            )
        if missing:  # Graph said nothing about them: treat as unknown
            ours.update(i.serial for i in missing)
            return self._settle(missing, ours)
        return None

    def _lookup(self, batch: list[_Item], *, first: bool = False) -> dict[str, Any]:
        """Find serials with a ``$filter`` each, or with one listing when that takes fewer
        requests (judged from the inventory's size and Graph's page size seen so far)."""
        serials = [i.serial for i in batch]
        with self._lock:
            known = self._inventory_size >= 0
            size = self._inventory_size + len(self.report.of("created"))
        page = self.client.session.largest_page or ASSUMED_PAGE
        # the first look covers the whole input; later ones a chunk, judged by page count
        listing = len(serials) > 20 if first else known and size // page + 1 < len(serials)
        if not listing:
            self._count("lookups", len(serials))
            return self.client.find_serials(serials, listing_above=len(serials))
        before = self.client.session.largest_page
        everything = self.client.inventory()
        with self._lock:
            self._inventory_size = len(everything) - len(self.report.of("created"))
        pages = len(everything) // max(1, self.client.session.largest_page, before) + 1
        self._count("lookups", pages)
        return {s: everything[s] for s in serials if s in everything}

    def _lookup_or_fail(self, batch: list[_Item]) -> dict[str, Any] | None:
        """Look up with a few tries; if Graph keeps failing, fail the items for this run
        rather than send them again without knowing."""
        for attempt in range(3):
            try:
                return self._lookup(batch)
            except (GraphUnavailable, GraphThrottled) as exc:
                log.warning("graph: lookup failed (%s), attempt %d", exc.code, attempt + 1)
                self._sleep(self.options.unknown_grace)
        self._fail(batch, "graph.outcome_unknown", "Graph could not be asked whether they exist")
        return None

    def _settle(self, batch: list[_Item], ours: set[str]) -> list[_Item]:
        """After an unknown outcome: wait, look the serials up, keep only the missing ones."""
        self._sleep(self.options.unknown_grace)
        found = self._lookup_or_fail(batch)
        if found is None:
            return []
        self._finish(
            [
                ItemResult(i.serial, "created", found[i.serial].id)
                for i in batch
                if i.serial in found
            ]
        )
        return [i for i in batch if i.serial not in found]
