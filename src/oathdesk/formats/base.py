"""What every seed format provides, and the options and results that pass between them.

A format reads bytes into :class:`SeedRecord` values plus a list of :class:`Problem` (a reader
never stops at the first problem: the report lists them all), and writes records back to bytes.
Formats perform no I/O beyond the bytes they are given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol

from oathdesk.domain import (
    HashAlgorithm,
    OtpKind,
    Problem,
    Secret,
    SeedFileError,
    SeedFileInvalid,
    SeedRecord,
)
from oathdesk.domain.wording import clause

if TYPE_CHECKING:
    from oathdesk.formats.csv_engine import CsvProfile


@dataclass(frozen=True)
class ReadOptions:
    """What the file does not say, said by the user: defaults and decryption material."""

    secret_encoding: str | None = None  # override the format's declared secret encoding
    kind: OtpKind | None = None
    digits: int | None = None
    period: int | None = None
    algorithm: HashAlgorithm | None = None
    manufacturer: str | None = None
    model: str | None = None
    profile: CsvProfile | None = None  # custom-csv layout
    pskc_key: Secret | None = None  # PSKC pre-shared key
    passphrase: Secret | None = None  # PSKC PBKDF2 passphrase
    # called with the number of tokens just read, as a long read goes (for a progress bar)
    progress: Callable[[int], None] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class WriteOptions:
    """How to write: secret encoding/case for formats that let the writer choose, encryption."""

    secret_encoding: str | None = None
    upper: bool | None = None
    profile: CsvProfile | None = None
    pskc_key: Secret | None = None  # write PSKC encrypted with this pre-shared key
    passphrase: Secret | None = None  # write PSKC encrypted with a PBKDF2 key from this
    pbkdf2_iterations: int = 100_000
    # write CSV text fields as they are, even one a spreadsheet would run as a formula
    # (csv_safety); only for a vendor whose importer refuses the neutralising quote
    keep_formulas: bool = False


@dataclass
class ReadResult:
    """Records in file order, the locator each came from, and every problem found."""

    format: str
    source: str
    records: list[SeedRecord] = field(default_factory=list)
    locators: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    layers: list[str] = field(default_factory=list)  # envelopes removed, outermost first

    def add(self, record: SeedRecord, locator: str) -> None:
        self.records.append(record)
        self.locators.append(locator)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    def raise_if_invalid(self) -> None:
        errors = self.errors
        if errors:
            first = errors[0]
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise SeedFileInvalid(
                f"{first.locator}: {first.message}{more}; nothing was imported or written.",
                self.problems,
            )


@dataclass(frozen=True)
class Capabilities:
    """What a format can express; writing anything else is refused, never silently changed."""

    kinds: frozenset[OtpKind] = frozenset(OtpKind)
    digits: frozenset[int] = frozenset({6, 7, 8})
    periods: frozenset[int] | None = None  # None: any positive period
    algorithms: frozenset[HashAlgorithm] = frozenset(HashAlgorithm)
    max_secret_bytes: int | None = None
    exact_secret_bytes: int | None = None
    t0: bool = False  # can carry a non-zero T0
    uniform: bool = False  # one file holds one token type only (Duo)


class SeedFormat(Protocol):
    """A reader and writer for one layout; ``id`` is the name used by flags, API and docs."""

    id: ClassVar[str]
    title: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]]
    capabilities: ClassVar[Capabilities]

    def sniff(self, data: bytes) -> int:
        """0: not this format; 1: could be; 2: surely this format."""
        ...

    def read(self, data: bytes, source: str, options: ReadOptions) -> ReadResult: ...

    def write(self, records: Sequence[SeedRecord], options: WriteOptions) -> bytes: ...


def unsupported(problems: Sequence[Problem], fmt: str) -> SeedFileError:
    """The error a writer raises when records cannot be expressed in its format."""
    return SeedFileInvalid(
        f"{len(problems)} token(s) cannot be written as {fmt}: {clause(problems[0].message)}.",
        problems,
    )
