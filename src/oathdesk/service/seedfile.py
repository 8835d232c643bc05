"""Open a seed file: remove its envelopes, read it with the right format, check it for a target.

Why one pipeline: the CLI's seed commands, the import use case and the web preview all open
vendor files, and they must name the same problems at the same places; a fix to one path (a new
envelope, a locator rule) then reaches every front end at once. The pipeline keeps nothing and
never decides to refuse: the caller looks at the report and chooses. Imports here are the light
layers only (formats, containers, domain), so opening a file costs no database or Graph code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from oathdesk.containers import PgpSignature, UnwrapOptions, Unwrapped, unwrap
from oathdesk.domain import (
    ArchiveError,
    OathdeskError,
    Problem,
    Secret,
    SeedRecord,
    UnknownFormatError,
    UsageError,
)
from oathdesk.formats import (
    ReadOptions,
    ReadResult,
    check_target,
    detect,
    get_format,
    read_seeds,
)
from oathdesk.formats.estimate import count_tokens, estimate_seconds
from oathdesk.formats.text import utf16_to_utf8
from oathdesk.formats.validation import TARGETS

# The largest seed file taken as given (before envelopes are removed), by the console's upload
# and the CLI alike: a delivery of 100,000 tokens is about 10 MiB of CSV. The envelopes' own caps
# (``containers.UnwrapOptions``) bound what a ZIP or PGP file may expand to.
MAX_SEED_FILE = 16 * 1024 * 1024
# At most this many candidate members of an ambiguous ZIP are opened to look at their content.
PROBE_MEMBERS = 8


@dataclass(frozen=True)
class SeedFileOptions:
    """How to open one seed file: decryption material, the format, defaults, a target's rules.

    ``password`` opens a password ZIP and is also the PSKC passphrase unless ``read`` names its
    own: every front end asks for one password, and vendors use it for either envelope.
    """

    fmt: str | None = None  # a format id; detected from the content when None
    password: Secret | None = None  # ZIP password (and PSKC passphrase)
    gpg_home: Path | None = None  # GnuPG home holding the private key for PGP files
    pgp_passphrase: Secret | None = None  # passphrase of that private key
    read: ReadOptions = field(default_factory=ReadOptions)  # defaults, CSV profile, PSKC key
    target: str | None = None  # also apply this destination's rules (``entra``)
    # the ZIP member to read when an archive holds several seed files (``--member``)
    member: str | None = None
    # told, once the envelopes are off and before the read starts, what is coming: a
    # ``ReadAhead`` (format, about how many tokens, about how many seconds), so a front end can
    # say so and size a progress bar (fed by ``read.progress``) before a long read
    before_read: Callable[[ReadAhead], None] | None = field(default=None, compare=False, repr=False)

    def unwrap_options(self) -> UnwrapOptions:
        return UnwrapOptions(
            password=self.password if self.password is not None else self.read.passphrase,
            gpg_home=self.gpg_home,
            pgp_passphrase=self.pgp_passphrase,
            member=self.member,
        )

    def read_options(self) -> ReadOptions:
        if self.read.passphrase is not None or self.password is None:
            return self.read
        return replace(self.read, passphrase=self.password)


@dataclass(frozen=True)
class ReadAhead:
    """What a read is about to do: the format, about how many tokens, about how long."""

    format: str
    count: int
    seconds: float


@dataclass
class OpenedSeedFile:
    """A seed file read through its envelopes: records, where each came from, every problem.

    ``problems`` are the file's own (an error there means nothing may be kept from it);
    ``target_problems`` are what the target would refuse, reported apart so each caller decides
    whether they block (a conversion to Entra's format) or only warn (an import, pushed later).
    """

    name: str  # the file as given (an upload's name, a path's last part)
    inner_name: str  # the seed file inside the envelopes (a ZIP member, a name minus .pgp)
    layers: list[str]  # envelopes removed, outermost first; empty for a plain file
    result: ReadResult = field(repr=False)
    target: str | None = None
    target_problems: list[Problem] = field(default_factory=list)
    # the signatures of a signed PGP envelope: who signed, and whether it checked out
    signatures: list[PgpSignature] = field(default_factory=list)

    @property
    def format(self) -> str:
        return self.result.format

    @property
    def records(self) -> list[SeedRecord]:
        return self.result.records

    @property
    def locators(self) -> list[str]:
        return self.result.locators

    @property
    def problems(self) -> list[Problem]:
        return self.result.problems

    @property
    def errors(self) -> list[Problem]:
        """The file's own errors (the target's are in ``target_problems``)."""
        return self.result.errors

    @property
    def report(self) -> list[Problem]:
        """Every problem, the file's first, then the target's: what a preview lists."""
        return [*self.result.problems, *self.target_problems]

    def raise_if_invalid(self) -> None:
        """``SeedFileInvalid`` when the file itself has an error; target problems do not count."""
        self.result.raise_if_invalid()


def _unwrap(data: bytes, name: str, options: SeedFileOptions) -> Unwrapped:
    """``containers.unwrap``; when a ZIP holds several files that could be the seed file, the one
    whose content is a seed format oathdesk knows is taken (a vendor's ``tokens.csv.txt`` beside
    ``instructions.txt``). Only when that is not exactly one does ``container.multiple_files``
    stand, and the user names the member (``--member``)."""
    unwrap_options = options.unwrap_options()
    try:
        return unwrap(data, name, unwrap_options)
    except ArchiveError as exc:
        candidates = exc.details.get("candidates", [])
        if exc.code != "container.multiple_files" or options.member is not None:
            raise
        if len(candidates) > PROBE_MEMBERS:  # a delivery has a few files, not thousands
            raise
        seeds: list[Unwrapped] = []
        for candidate in candidates:
            try:
                inner = unwrap(data, name, replace(unwrap_options, member=candidate))
            except OathdeskError:
                raise exc from None  # a member that cannot be opened: let the user choose
            if _is_seed(inner, options.fmt):
                seeds.append(inner)
        if len(seeds) != 1:
            raise
        return seeds[0]


def _is_seed(opened: Unwrapped, fmt: str | None) -> bool:
    """Whether the content is a seed file: of ``fmt`` when named, else of any format known."""
    try:
        content = utf16_to_utf8(opened.data, opened.name)
        if fmt is not None:
            return get_format(fmt).sniff(content) > 0
        detect(content, opened.name)
    except UnknownFormatError as exc:
        return exc.code == "seed.ambiguous_format"  # a seed file, of a format to name
    except OathdeskError:
        return False
    return True


def open_seed_file(
    data: bytes, name: str, options: SeedFileOptions | None = None, *, label: str | None = None
) -> OpenedSeedFile:
    """Unwrap ``data`` (named ``name``), read and validate it, then apply ``options.target``.

    Problems name the file as ``label`` (default ``name``; the CLI shows the path as typed),
    followed by ``!member`` when an envelope was removed. Container and format errors (wrong
    password, unknown format...) raise with their own codes; row problems are only reported.
    """
    options = options or SeedFileOptions()
    if options.target is not None and options.target not in TARGETS:
        raise UsageError(
            f"The target must be one of {', '.join(TARGETS)}, not {options.target!r}.",
            code="usage.unknown_target",
        )
    opened = _unwrap(data, name, options)
    label = label or name
    source = label if not opened.layers else f"{label}!{opened.name}"
    content, fmt = opened.data, options.fmt
    if options.before_read is not None:
        content = utf16_to_utf8(content, source)
        if fmt is None:
            fmt = "custom-csv" if options.read.profile is not None else detect(content, source).id
        count = count_tokens(content, fmt)
        options.before_read(ReadAhead(fmt, count, estimate_seconds(content, fmt, count)))
    result = read_seeds(content, source, fmt, options.read_options())
    result.layers = list(opened.layers)
    checked = (
        check_target(result.records, result.locators, options.target) if options.target else []
    )
    return OpenedSeedFile(
        name=name,
        inner_name=opened.name,
        layers=list(opened.layers),
        result=result,
        target=options.target,
        target_problems=checked,
        signatures=list(opened.signatures),
    )
