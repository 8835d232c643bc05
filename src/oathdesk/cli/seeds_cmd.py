"""``oathdesk seeds``: list formats, inspect a seed file, convert between formats.

Files are opened by ``SeedSource.open``: ``service.open_seed_file``, the pipeline the import
uses too, imported only when a command opens a file (this module never loads the store).
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer
from rich.markup import escape
from rich.table import Table

from oathdesk.cli import console
from oathdesk.cli.context import cli_context
from oathdesk.cli.exits import Exit
from oathdesk.cli.options import (
    DEFAULT_SOURCE,
    ConfigOpt,
    JsonOpt,
    SeedSource,
    config_from,
    read_bytes,
    read_hex_key_file,
    read_secret_file,
    seed_file_options,
)
from oathdesk.cli.seeds_progress import ReadWatch
from oathdesk.containers import encrypt_pgp, wrap_zip
from oathdesk.domain import InputFileError, Problem, SeedFileInvalid, UsageError
from oathdesk.formats import (
    FORMAT_IDS,
    WriteOptions,
    all_formats,
    get_format,
    write_seeds,
    write_seeds_to,
)
from oathdesk.formats.csv_engine import load_profile
from oathdesk.formats.validation import TARGETS

app = typer.Typer(
    help="Read, check and convert vendor seed files (no secret is ever printed).",
    no_args_is_help=True,
)

TargetOpt = Annotated[
    str | None,
    typer.Option(
        "--target",
        help="Also apply a destination's rules: entra (TOTP, 6 digits, "
        "30/60 s, SHA-1/SHA-256, base32 of at most 128 characters).",
        show_default=False,
    ),
]


@app.command("formats")
def formats_command(ctx: typer.Context, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """List the seed file formats oathdesk reads and writes."""
    config_from(ctx, config)
    formats = all_formats()
    if as_json:
        console.print_json(
            {
                "formats": [
                    {
                        "id": f.id,
                        "title": f.title,
                        "extensions": list(f.extensions),
                        "read": True,
                        "write": True,
                        "detected": f.id != "custom-csv",
                    }
                    for f in formats
                ]
            }
        )
        return
    table = Table("format", "description", "extensions", "detected")
    for f in formats:
        table.add_row(
            f.id,
            escape(f.title),
            " ".join(f.extensions),
            "yes" if f.id != "custom-csv" else "no (--from)",
        )
    console.out.print(table)


def _target(target: str | None) -> str | None:
    if target and target not in TARGETS:
        raise UsageError(f"--target must be one of {', '.join(TARGETS)}, not {target!r}.")
    return target or None


def _summary_table(title: str, counts: Counter[str]) -> Table:
    table = Table(title, "tokens", title_justify="left")
    for key, count in sorted(counts.items()):
        table.add_row(escape(key), str(count))
    return table


def _print_problems(problems: list[Problem]) -> None:
    """One line per problem, greppable: ``where [serial] severity code: message``."""
    errors = sum(p.is_error for p in problems)
    console.out.print(f"[bold]{errors} error(s), {len(problems) - errors} warning(s)[/]")
    for p in problems:
        style = "red" if p.is_error else "yellow"
        serial = f" [{escape(p.serial)}]" if p.serial else ""
        console.out.print(
            f"{escape(p.locator)}{escape(serial)} [{style}]{p.severity}[/] "
            f"{p.code}: {escape(p.message)}"
        )


@app.command("inspect")
@seed_file_options
def inspect_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Seed file (plain, ZIP, PGP, or nested).")],
    source: SeedSource = DEFAULT_SOURCE,
    target: TargetOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a seed file's format, token count, summary and every problem; never a secret.

    A read that takes a while is announced on stderr (token count, time estimate) and shown
    with a progress bar; a signed PGP file's signer and signature status are shown.

    Exits 0 when the file has no errors, 3 when it has (the report says which and where).
    """
    cfg = config_from(ctx, config)
    with ReadWatch(cli_context(ctx).clock, str(file)) as watch:
        result = source.open(
            file,
            cfg,
            target=_target(target),
            before_read=watch.before_read,
            progress=watch.progress,
        )
    problems = result.report
    errors = [p for p in problems if p.is_error]
    if as_json:
        document: dict[str, Any] = {
            "format": result.format,
            "count": len(result.records),
            "signatures": [s.to_dict() for s in result.signatures],
            "tokens": [
                {k: v for k, v in r.describe().items() if k in _TOKEN_KEYS} for r in result.records
            ],
            "problems": [p.to_dict() for p in problems],
        }
        console.print_json(document)
    else:
        envelope = f" inside {' > '.join(result.layers)}" if result.layers else ""
        console.out.print(
            f"[bold]{escape(str(file))}[/]: {result.format}{envelope}, "
            f"{len(result.records)} token(s)"
        )
        for signature in result.signatures:
            style = "green" if signature.status == "valid" else "yellow"
            console.out.print(f"[{style}]{escape(signature.describe())}[/]")
        if result.records:
            console.out.print(
                _summary_table(
                    "model",
                    Counter(
                        f"{r.manufacturer} {r.model}".strip() or "(none)" for r in result.records
                    ),
                )
            )
            console.out.print(
                _summary_table(
                    "type",
                    Counter(
                        f"{r.kind.value.upper()} {r.digits} digits "
                        + (f"{r.period} s" if r.kind.value == "totp" else "counter")
                        + f" {r.algorithm.value.upper()}"
                        for r in result.records
                    ),
                )
            )
        if problems:
            _print_problems(problems)
        else:
            console.out.print("[green]no problems found[/]")
    if errors:
        raise typer.Exit(int(Exit.INVALID_INPUT))


_TOKEN_KEYS = ("serial", "kind", "period", "digits", "algorithm", "manufacturer", "model", "user")


def _write_atomically(path: Path, data: bytes | Callable[[BinaryIO], None], force: bool) -> None:
    """``data``, or what the callable writes (streamed), into a private temp file renamed to
    ``path``; on any failure the temp file is removed and ``path`` is left as it was."""
    if path.exists() and not force:
        raise InputFileError(
            f"{path}: already exists; pass --force to replace it.", code="file.exists"
        )
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise InputFileError(
            f"{path}: cannot write here ({exc.strerror}).", code="file.unwritable"
        ) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            if callable(data):
                data(fh)
            else:
                fh.write(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputFileError(
            f"{path}: cannot write ({exc.strerror}).", code="file.unwritable"
        ) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _member_name(output_file: Path, fmt: str) -> str:
    """The seed file's name inside the ZIP: OUT without envelope suffixes, with its extension."""
    name = output_file.name
    for suffix in (".pgp", ".gpg", ".asc", ".zip"):
        name = name.removesuffix(suffix)
    if "." not in name:
        name = f"{name or 'seeds'}{get_format(fmt).extensions[0]}"
    return name


@app.command("convert")
@seed_file_options
def convert_command(
    ctx: typer.Context,
    input_file: Annotated[Path, typer.Argument(metavar="IN", help="Seed file to read.")],
    output_file: Annotated[Path, typer.Argument(metavar="OUT", help="File to write.")],
    to: Annotated[str, typer.Option("--to", help=f"Output format: {', '.join(FORMAT_IDS)}.")],
    out_profile: Annotated[
        Path | None,
        typer.Option(
            "--out-profile",
            help="TOML profile for --to custom-csv when it differs from --profile.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    source: SeedSource = DEFAULT_SOURCE,
    pskc_key_file: Annotated[
        Path | None,
        typer.Option(
            "--pskc-key-file",
            help="Encrypt PSKC output with this pre-shared key (hex).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    pskc_password_file: Annotated[
        Path | None,
        typer.Option(
            "--pskc-password-file",
            help="Encrypt PSKC output with a key derived "
            "(PBKDF2) from the passphrase in this file.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    zip_password_file: Annotated[
        Path | None,
        typer.Option(
            "--zip-password-file",
            help="Wrap the output in an AES-256 ZIP with the password in this file.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    encrypt_to: Annotated[
        Path | None,
        typer.Option(
            "--encrypt-to",
            metavar="KEYFILE",
            help="Encrypt the output (after any "
            "ZIP) to the OpenPGP public key in this file (armoured).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace OUT if it exists.")] = False,
    keep_formulas: Annotated[
        bool,
        typer.Option(
            "--keep-formulas",
            help="Write CSV fields starting with = + - @ as they are, without the ' that stops "
            "a spreadsheet running them (only for an importer that refuses it).",
        ),
    ] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Convert a seed file to another format; all or nothing.

    Any error in the input, or any token the output format cannot hold, stops it: nothing is
    written. Converting to entra-csv or entra-json also applies Entra's rules (--target entra).

    Example (CSV2JSON): oathdesk seeds convert tokens.csv tokens.json --to entra-json
    """
    if to not in FORMAT_IDS:
        raise UsageError(f"--to must be one of {', '.join(FORMAT_IDS)}, not {to!r}.")
    cfg = config_from(ctx, config)
    result = source.open(input_file, cfg, target="entra" if to.startswith("entra-") else None)
    result.raise_if_invalid()
    if to.startswith("entra-"):
        problems = result.target_problems
        if problems:
            raise SeedFileInvalid(
                f"{len(problems)} problem(s) for Entra: {problems[0].locator}: "
                f"{problems[0].message}; nothing was written.",
                problems,
            )
    write_profile = out_profile or source.profile
    options = WriteOptions(
        profile=load_profile(read_bytes(write_profile, "profile"), str(write_profile))
        if write_profile and to == "custom-csv"
        else None,
        pskc_key=read_hex_key_file(pskc_key_file) if pskc_key_file else None,
        passphrase=read_secret_file(pskc_password_file, "PSKC password file")
        if pskc_password_file
        else None,
        keep_formulas=keep_formulas,
    )
    layers = []
    if not (zip_password_file or encrypt_to):  # streamed: the output is never whole in memory
        records = result.records
        _write_atomically(output_file, lambda fh: write_seeds_to(records, to, fh, options), force)
    else:
        data = write_seeds(result.records, to, options)
        if zip_password_file:
            member = _member_name(output_file, to)
            data = wrap_zip(data, member, read_secret_file(zip_password_file, "ZIP password file"))
            layers.append("zip-aes")
        if encrypt_to:
            data = encrypt_pgp(data, encrypt_to)
            layers.append("pgp")
        _write_atomically(output_file, data, force)
    summary = {
        "input": str(input_file),
        "from": result.format,
        "output": str(output_file),
        "to": to,
        "count": len(result.records),
        "layers": layers,
        "warnings": [p.to_dict() for p in result.problems if not p.is_error],
    }
    if as_json:
        console.print_json(summary)
    else:
        wrapped = f" (wrapped: {', '.join(layers)})" if layers else ""
        console.out.print(
            f"wrote {len(result.records)} token(s) from {result.format} to "
            f"{escape(str(output_file))} as {to}{wrapped}"
        )
        for p in result.problems:
            console.err.print(f"[yellow]warning[/] {escape(p.locator)}: {escape(p.message)}")
