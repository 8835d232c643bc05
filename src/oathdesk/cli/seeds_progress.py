"""Tell the user what a long seed read will take, and show it going.

Why: reading 100,000 tokens or a PBKDF2-encrypted PSKC file of 10,000 keys takes seconds, and
a silent terminal for that long looks hung. Before the read, ``seeds inspect`` hears from the
pipeline (``SeedFileOptions.before_read``) how many tokens are coming and about how long they
take, and says so when that is a second or more. While reading, the readers report tokens done
(``ReadOptions.progress``); once the read has run past :data:`BAR_AFTER` seconds on the run's
clock, a Rich progress bar on stderr shows the rest. stdout keeps only the result (JSON stays
clean). Time comes from the run's ``Clock``, so a test drives the bar with a clock of its own.
"""

from __future__ import annotations

from types import TracebackType

from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from oathdesk.cli import console
from oathdesk.domain import Clock
from oathdesk.service.seedfile import ReadAhead

ANNOUNCE_AFTER = 1.0  # seconds of estimated reading before the count and estimate are printed
BAR_AFTER = 1.0  # seconds of actual reading before the progress bar appears


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{seconds / 60:.1f} min"


class ReadWatch:
    """The ``before_read`` and ``progress`` callbacks of one read, and the bar they drive."""

    def __init__(self, clock: Clock, label: str) -> None:
        self.clock = clock
        self.label = label
        self.ahead: ReadAhead | None = None
        self.started = 0.0
        self.done = 0
        self.bar: Progress | None = None
        self.task: TaskID | None = None
        self.shown = False  # the bar appeared at least once (tests and the summary read it)

    def before_read(self, ahead: ReadAhead) -> None:
        self.ahead = ahead
        self.started = self.clock.monotonic()
        if ahead.seconds >= ANNOUNCE_AFTER:
            console.err.print(
                f"{escape(self.label)}: {ahead.count} token(s) in {ahead.format}; reading takes "
                f"about {_duration(ahead.seconds)}"
            )

    def progress(self, tokens: int) -> None:
        self.done += tokens
        if self.bar is None:
            if self.ahead is None or self.clock.monotonic() - self.started <= BAR_AFTER:
                return
            self._start_bar(self.ahead)
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, completed=self.done)

    def _start_bar(self, ahead: ReadAhead) -> None:
        self.bar = Progress(
            TextColumn("reading {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console.err,
            get_time=self.clock.monotonic,
            transient=False,
        )
        self.task = self.bar.add_task(
            escape(ahead.format), total=max(ahead.count, self.done), completed=self.done
        )
        self.bar.start()
        self.shown = True

    def __enter__(self) -> ReadWatch:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.bar is not None:
            if kind is None and self.task is not None:
                self.bar.update(self.task, total=self.done, completed=self.done)
            self.bar.stop()
            self.bar = None
