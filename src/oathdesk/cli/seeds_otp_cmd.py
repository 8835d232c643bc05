"""``oathdesk seeds codes`` and ``seeds identify``: the codes a seed file's tokens show, and
which token shows a given code.

Why: before a token goes to Entra (or when its serial has worn off) a person needs to compare
what the token displays with what the seed file says. Codes are printed (that is the point of
``codes``); seeds never are. The time is ``--at`` or the clock of the run (this machine's), read
here and passed to ``oathdesk.otp``, which never reads a clock itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Column, Table

from oathdesk.cli import console
from oathdesk.cli.context import cli_context
from oathdesk.cli.options import (
    DEFAULT_SOURCE,
    ConfigOpt,
    JsonOpt,
    SeedSource,
    config_from,
    seed_file_options,
)
from oathdesk.domain import OtpError, OtpKind, SeedRecord, UsageError
from oathdesk.domain.clock import utc
from oathdesk.otp import Candidate, CodeIndex, OtpKey, normalize_code, step_start, well_formed

FileArg = Annotated[Path, typer.Argument(help="Seed file (plain, ZIP, PGP, or nested).")]
AtOpt = Annotated[
    float | None,
    typer.Option(
        "--at",
        metavar="UNIXTIME",
        help="Unix time to compute for (default: now, from this machine's clock).",
        show_default=False,
    ),
]


def _when(ctx: typer.Context, at: float | None) -> float:
    if at is None:
        return cli_context(ctx).clock.now()
    if at < 0:
        raise UsageError(f"--at is Unix seconds since 1970, 0 or more, not {at}.")
    return at


def _records(
    ctx: typer.Context, file: Path, config: Path | None, source: SeedSource
) -> list[SeedRecord]:
    result = source.load(file, config_from(ctx, config))
    result.raise_if_invalid()
    return result.records


def _stamp(at: float) -> str:
    return utc(at).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _number(at: float) -> int | float:
    """Unix time as JSON shows it best: whole seconds as an integer."""
    return int(at) if float(at).is_integer() else at


def _token_codes(record: SeedRecord, at: float, count: int) -> dict[str, Any]:
    key = OtpKey.of(record)
    entry: dict[str, Any] = {
        "serial": record.serial,
        "kind": record.kind.value,
        "digits": record.digits,
        "algorithm": record.algorithm.value,
    }
    if record.kind is OtpKind.HOTP:
        entry["codes"] = [
            {"counter": c, "code": key.code(c)}
            for c in range(record.counter, record.counter + count)
        ]
        return entry
    first = key.spec.step(at)
    entry["period"] = record.period
    entry["codes"] = [
        {
            "step": s,
            "code": key.code(s),
            "from": step_start(s, period=record.period, t0=record.t0),
            "until": step_start(s + 1, period=record.period, t0=record.t0),
        }
        for s in range(first, first + count)
    ]
    return entry


@seed_file_options
def codes_command(
    ctx: typer.Context,
    file: FileArg,
    serial: Annotated[
        list[str] | None,
        typer.Option("--serial", help="Only this token (repeat for several).", show_default=False),
    ] = None,
    at: AtOpt = None,
    count: Annotated[
        int,
        typer.Option("--count", min=1, max=1000, help="Consecutive codes per token, from now."),
    ] = 1,
    source: SeedSource = DEFAULT_SOURCE,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the codes each token in a seed file shows now (or at --at); never the seeds.

    TOTP: the code of the current time step, then the next ones (--count).

    HOTP: the codes of the next counters, from the counter in the file.

    Example: oathdesk seeds codes tokens.csv --serial 0001234 --count 3
    """
    when = _when(ctx, at)
    records = _records(ctx, file, config, source)
    if serial:
        wanted = set(serial)
        missing = sorted(wanted - {r.serial for r in records})
        if missing:
            raise OtpError(
                f"{file}: no token with serial {', '.join(missing)} among its {len(records)} "
                "token(s); serials are compared exactly (leading zeros count).",
                code="otp.not_found",
            )
        records = [r for r in records if r.serial in wanted]
    tokens = [_token_codes(r, when, count) for r in records]
    if as_json:
        console.print_json({"at": _number(when), "at_utc": _stamp(when), "tokens": tokens})
        return
    console.out.print(f"codes at {_stamp(when)} (Unix {_number(when)}), {len(tokens)} token(s)")
    table = Table(  # serials and codes fold onto more lines, never cut short with "…"
        Column("serial", overflow="fold"),
        "type",
        "step / counter",
        Column("codes", overflow="fold"),
        "valid until (UTC)",
    )
    for entry in tokens:
        codes = entry["codes"]
        if entry["kind"] == OtpKind.HOTP.value:
            kind_text, first, until = f"HOTP {entry['digits']}", f"#{codes[0]['counter']}", "-"
        else:
            kind_text = f"TOTP {entry['digits']} {entry['period']} s"
            first, until = str(codes[0]["step"]), _stamp(codes[0]["until"])[11:]  # time of day
        shown = " ".join(c["code"] for c in codes)
        table.add_row(escape(entry["serial"]), kind_text, first, shown, until)
    console.out.print(table)


def _offset_text(candidate: Candidate, record: SeedRecord) -> str:
    if record.kind is OtpKind.HOTP:
        return "next counter" if not candidate.offset else f"{candidate.offset} counter(s) ahead"
    if not candidate.offset:
        return "on time"
    seconds = candidate.offset * record.period
    return f"token clock {'ahead' if seconds > 0 else 'behind'} by about {abs(seconds)} s"


@seed_file_options
def identify_command(
    ctx: typer.Context,
    file: FileArg,
    code: Annotated[str, typer.Argument(help="The code the token shows.")],
    code2: Annotated[
        str | None,
        typer.Argument(metavar="[CODE2]", help="The next code it shows, to single it out."),
    ] = None,
    at: AtOpt = None,
    window: Annotated[
        int,
        typer.Option("--window", min=0, max=100, help="Time steps searched either side of --at."),
    ] = 1,
    source: SeedSource = DEFAULT_SOURCE,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Find which token in a seed file shows CODE (and then CODE2); prints the serial(s).

    In a large file one code can be shown by several tokens: the next code singles it out.

    Exits 8 when no token matches. Example: oathdesk seeds identify tokens.csv 123456 654321
    """
    codes = [normalize_code(c) for c in (code, code2) if c is not None]
    for shown in codes:
        if not (6 <= len(shown) <= 8 and well_formed(shown, len(shown))):
            raise UsageError(
                f"{shown!r} is not a code: type the 6 to 8 digits the token shows.",
                code="usage.malformed_code",
            )
    if len(codes) == 2 and len(codes[0]) != len(codes[1]):
        raise UsageError("The two codes have different lengths; one token shows one length.")
    when = _when(ctx, at)
    records = _records(ctx, file, config, source)
    index = CodeIndex.of_records(records, at=when, window=window)
    found = index.identify(codes, when)
    if not found:
        which = " then ".join(codes)
        raise OtpError(
            f"No token in {file} shows {which} within ±{window} step(s) of {_stamp(when)}; "
            "check the time (--at), widen --window, or check that the token is in this file.",
            code="otp.no_match",
        )
    by_serial = {r.serial: r for r in records}
    if as_json:
        matches = [
            {
                "serial": c.serial,
                "kind": by_serial[c.serial].kind.value,
                "step": c.step,
                "offset": c.offset,
            }
            for c in found
        ]
        console.print_json(
            {
                "at": _number(when),
                "at_utc": _stamp(when),
                "codes": codes,
                "window": window,
                "unique": len(found) == 1,
                "matches": matches,
            }
        )
        return
    table = Table(Column("serial", overflow="fold"), "step / counter", "clock")
    for candidate in found:
        record = by_serial[candidate.serial]
        table.add_row(
            escape(candidate.serial), str(candidate.step), _offset_text(candidate, record)
        )
    console.out.print(table)
    if len(found) > 1:
        console.err.print(
            f"{len(found)} tokens show {escape(codes[-1])}; run again with the next code the "
            "token shows as CODE2 to single it out"
        )


def register(app: typer.Typer) -> None:
    """Add ``codes`` and ``identify`` to the ``seeds`` command group."""
    app.command("codes")(codes_command)
    app.command("identify")(identify_command)
