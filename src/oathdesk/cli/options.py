"""Options shared by every command that reads a seed file, and how they open it (through the
one pipeline, ``service.open_seed_file``).

Secrets (passwords, keys, passphrases) are only ever read from files, never taken as plain
command-line values, so they stay out of shell history and process listings.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from oathdesk.cli.context import cli_context
from oathdesk.config import Config
from oathdesk.domain import HashAlgorithm, InputFileError, OtpKind, Secret, UsageError
from oathdesk.formats import FORMAT_IDS, ReadOptions, ReadResult
from oathdesk.formats.csv_engine import load_profile
from oathdesk.service.seedfile import (
    MAX_SEED_FILE,
    OpenedSeedFile,
    ReadAhead,
    SeedFileOptions,
    open_seed_file,
)

R = TypeVar("R")

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Configuration file (default ./oathdesk.toml or $OATHDESK_CONFIG).",
        dir_okay=False,
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]
FromOpt = Annotated[
    str | None,
    typer.Option(
        "--from",
        help=f"Input format ({', '.join(FORMAT_IDS)}); detected when omitted.",
        show_default=False,
    ),
]
ProfileOpt = Annotated[
    Path | None,
    typer.Option(
        "--profile",
        help="TOML file describing a custom CSV layout (implies --from "
        "custom-csv when reading, used by --to custom-csv when writing).",
        dir_okay=False,
        show_default=False,
    ),
]
PasswordFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--password-file",
        help="File holding the ZIP password or PSKC passphrase.",
        dir_okay=False,
        show_default=False,
    ),
]
KeyFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--key-file",
        help="File holding the PSKC pre-shared key in hex.",
        dir_okay=False,
        show_default=False,
    ),
]
GpgHomeOpt = Annotated[
    Path | None,
    typer.Option(
        "--gpg-home",
        help="GnuPG home folder holding the private key for PGP files.",
        file_okay=False,
        show_default=False,
    ),
]
PgpPassphraseOpt = Annotated[
    Path | None,
    typer.Option(
        "--pgp-passphrase-file",
        help="File holding the passphrase of the PGP private key.",
        dir_okay=False,
        show_default=False,
    ),
]
MemberOpt = Annotated[
    str | None,
    typer.Option(
        "--member",
        metavar="NAME",
        help="The file to read in a ZIP holding several seed files (its name or path in the "
        "archive).",
        show_default=False,
    ),
]
SecretEncodingOpt = Annotated[
    str | None,
    typer.Option(
        "--secret-encoding",
        help="Override the secret encoding: hex, base32 or base64.",
        show_default=False,
    ),
]
KindOpt = Annotated[
    str | None,
    typer.Option(
        "--kind", help="totp or hotp, for files that do not say (Duo).", show_default=False
    ),
]
DigitsOpt = Annotated[
    int | None,
    typer.Option("--digits", help="Digits, for files that do not say.", show_default=False),
]
PeriodOpt = Annotated[
    int | None,
    typer.Option(
        "--period", help="TOTP time step in seconds, for files that do not say.", show_default=False
    ),
]
HashOpt = Annotated[
    str | None,
    typer.Option(
        "--hash", help="sha1, sha256 or sha512, for files that do not say.", show_default=False
    ),
]
ManufacturerOpt = Annotated[
    str | None,
    typer.Option(
        "--manufacturer", help="Manufacturer, for files that do not say.", show_default=False
    ),
]
ModelOpt = Annotated[
    str | None,
    typer.Option("--model", help="Model, for files that do not say.", show_default=False),
]


@dataclass(frozen=True)
class Decryption:
    password_file: Path | None = None
    key_file: Path | None = None
    gpg_home: Path | None = None
    pgp_passphrase_file: Path | None = None


@dataclass(frozen=True)
class Defaults:
    secret_encoding: str | None = None
    kind: str | None = None
    digits: int | None = None
    period: int | None = None
    algorithm: str | None = None
    manufacturer: str | None = None
    model: str | None = None


def read_bytes(path: Path, what: str = "file", limit: int = MAX_SEED_FILE) -> bytes:
    """The file's bytes, refused (``file.too_large``) when over ``limit``: from its size before
    reading, and by reading at most one byte past the limit (a pipe has no size to ask)."""
    try:
        with path.open("rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            data = b"" if size > limit else stream.read(limit + 1)
    except FileNotFoundError:
        raise InputFileError(f"{path}: {what} not found.", code="file.not_found") from None
    except IsADirectoryError:
        raise InputFileError(
            f"{path}: is a folder, not a {what}.", code="file.is_directory"
        ) from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read the {what} ({exc.strerror}).") from None
    if size > limit or len(data) > limit:
        raise InputFileError(
            f"{path}: the {what} is larger than {limit // (1024 * 1024)} MiB, the most oathdesk "
            "reads (as for a console upload); a seed file is far smaller. The limit has no "
            "setting: split the file.",
            code="file.too_large",
            details={"limit": limit},
        )
    return data


def read_secret_file(path: Path, what: str) -> Secret:
    """A password or passphrase file: its content without the final line break."""
    raw = read_bytes(path, what)
    if raw.endswith(b"\r\n"):
        raw = raw[:-2]
    elif raw.endswith(b"\n"):
        raw = raw[:-1]
    if not raw:
        raise UsageError(f"{path}: the {what} is empty.", code="usage.empty_secret_file")
    return Secret(raw)


def read_hex_key_file(path: Path) -> Secret:
    text = read_bytes(path, "key file").decode("ascii", "replace").strip()
    try:
        return Secret.from_hex(text)
    except ValueError:
        raise UsageError(
            f"{path}: the pre-shared key file must hold the key in hex (e.g. 32 hex digits for "
            "AES-128).",
            code="usage.bad_key_file",
        ) from None


def _choice(value: str | None, allowed: tuple[str, ...], flag: str) -> str | None:
    if value is None:
        return None
    lowered = value.lower()
    if lowered not in allowed:
        raise UsageError(f"{flag} must be one of {', '.join(allowed)}, not {value!r}.")
    return lowered


def build_read_options(
    decryption: Decryption, defaults: Defaults, profile: Path | None
) -> ReadOptions:
    password = (
        read_secret_file(decryption.password_file, "password file")
        if decryption.password_file
        else None
    )
    kind = _choice(defaults.kind, ("totp", "hotp"), "--kind")
    algorithm = _choice(defaults.algorithm, ("sha1", "sha256", "sha512"), "--hash")
    return ReadOptions(
        secret_encoding=_choice(
            defaults.secret_encoding, ("hex", "base32", "base64"), "--secret-encoding"
        ),
        kind=OtpKind(kind) if kind else None,
        digits=defaults.digits,
        period=defaults.period,
        algorithm=HashAlgorithm(algorithm) if algorithm else None,
        manufacturer=defaults.manufacturer,
        model=defaults.model,
        profile=load_profile(read_bytes(profile, "profile"), str(profile)) if profile else None,
        pskc_key=read_hex_key_file(decryption.key_file) if decryption.key_file else None,
        passphrase=password,
    )


def open_options(
    source: SeedSource, config: Config, *, target: str | None = None
) -> SeedFileOptions:
    """The pipeline's options from the shared flags: keys read from their files, the GnuPG home
    from ``--gpg-home`` or the configuration."""
    fmt = source.fmt
    if fmt is not None and fmt not in FORMAT_IDS:
        raise UsageError(f"--from must be one of {', '.join(FORMAT_IDS)}, not {fmt!r}.")
    decryption = source.decryption
    options = build_read_options(decryption, source.defaults, source.profile)
    return SeedFileOptions(
        fmt=fmt,
        password=options.passphrase,
        gpg_home=decryption.gpg_home or config.gpg_home,
        pgp_passphrase=read_secret_file(decryption.pgp_passphrase_file, "PGP passphrase file")
        if decryption.pgp_passphrase_file
        else None,
        read=options,
        target=target,
        member=source.member,
    )


def config_from(ctx: typer.Context, path: Path | None) -> Config:
    """The configuration a command's ``--config`` names, this run's root options on top."""
    return cli_context(ctx).config(path)


@dataclass(frozen=True)
class SeedSource:
    """How to read a seed file, as the shared options said: format, profile, keys, defaults."""

    fmt: str | None = None
    profile: Path | None = None
    decryption: Decryption = Decryption()
    defaults: Defaults = Defaults()
    member: str | None = None  # --member: the seed file inside a ZIP of several

    def open(
        self,
        path: Path,
        config: Config,
        *,
        target: str | None = None,
        before_read: Callable[[ReadAhead], None] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> OpenedSeedFile:
        """Read a seed file through any envelopes, detect or apply its format, validate it and
        apply ``target``'s rules: ``service.open_seed_file`` with problems naming ``path``.
        ``before_read`` and ``progress`` let a command report a long read (``seeds_progress``)."""
        options = open_options(self, config, target=target)
        if before_read is not None or progress is not None:
            options = replace(
                options, before_read=before_read, read=replace(options.read, progress=progress)
            )
        return open_seed_file(read_bytes(path, "seed file"), path.name, options, label=str(path))

    def load(self, path: Path, config: Config) -> ReadResult:
        return self.open(path, config).result


# The options every seed-reading command takes, in --help order: name -> annotated type.
_SEED_OPTIONS: dict[str, Any] = {
    "from_": FromOpt,
    "profile": ProfileOpt,
    "password_file": PasswordFileOpt,
    "key_file": KeyFileOpt,
    "gpg_home": GpgHomeOpt,
    "pgp_passphrase_file": PgpPassphraseOpt,
    "member": MemberOpt,
    "secret_encoding": SecretEncodingOpt,
    "kind": KindOpt,
    "digits": DigitsOpt,
    "period": PeriodOpt,
    "hash_": HashOpt,
    "manufacturer": ManufacturerOpt,
    "model": ModelOpt,
}
_TRAILING = ("config", "as_json")  # kept last in --help


def seed_file_options(func: Callable[..., R]) -> Callable[..., R]:
    """Give a command the shared seed-file options; it receives them as ``source: SeedSource``.

    One definition instead of fourteen parameters repeated on every command that reads a seed
    file, so they cannot drift apart.
    """
    signature = inspect.signature(func, eval_str=True)
    own = [p for name, p in signature.parameters.items() if name != "source"]
    head = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own if p.name not in _TRAILING]
    tail = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own if p.name in _TRAILING]
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=kind)
        for name, kind in _SEED_OPTIONS.items()
    ]

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> R:
        values = {name: kwargs.pop(name, None) for name in _SEED_OPTIONS}
        source = SeedSource(
            fmt=values["from_"],
            profile=values["profile"],
            decryption=Decryption(
                values["password_file"],
                values["key_file"],
                values["gpg_home"],
                values["pgp_passphrase_file"],
            ),
            defaults=Defaults(
                values["secret_encoding"],
                values["kind"],
                values["digits"],
                values["period"],
                values["hash_"],
                values["manufacturer"],
                values["model"],
            ),
            member=values["member"],
        )
        return func(source=source, **kwargs)

    parameters = [*head, *added, *tail]
    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    del wrapper.__wrapped__  # Typer must see the new signature, not the wrapped one
    return wrapper


# The default a ``@seed_file_options`` command declares for ``source``; the decorator always
# passes the real one.
DEFAULT_SOURCE = SeedSource()
