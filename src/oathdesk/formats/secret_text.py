"""Decode a secret field and, when it fails, tell the user which encoding it really is."""

from __future__ import annotations

from oathdesk.domain import Problem, Secret, SecretEncodingError, Severity

ENCODINGS = ("hex", "base32", "base64")
USUAL_LENGTHS = frozenset({10, 16, 20, 32, 64})
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_SEPARATORS = str.maketrans("", "", " \t-:")


def hex_size(text: str) -> int | None:
    """The byte length ``text`` has as hex when it is made of hex digits only, of a usual length."""
    cleaned = text.translate(_SEPARATORS)
    if not cleaned or len(cleaned) % 2 or not set(cleaned) <= _HEX_DIGITS:
        return None
    size = len(cleaned) // 2
    return size if size in USUAL_LENGTHS else None


def _decodes_as(text: str, encoding: str) -> Secret | None:
    try:
        return Secret.decode(text, encoding)
    except SecretEncodingError:
        return None


def decode_secret(
    text: str,
    encoding: str,
    locator: str,
    serial: str | None,
    problems: list[Problem],
    *,
    guess_hex: bool = False,
) -> Secret | None:
    """Return the secret, or ``None`` after appending a problem that names the fix.

    ``guess_hex``: the format declared base32 and the user named no encoding. A secret of hex
    digits only (vendors ship hex in Entra's layout, and Entra refuses it) is then:

    - ``seed.hex_secret`` (an error) when it is not base32 (a random hex secret nearly always
      holds a 0, 1, 8 or 9): the file is hex, and the fix is ``--secret-encoding hex``;
    - ``seed.secret_maybe_hex`` (a warning, read as base32) when it is base32 too (only A-F and
      2-7). A random base32 secret looks like that about once in 10^16, but a made-up one does
      (all zero bytes is ``AAAA...``), so the declared encoding wins and the user is told.
    """
    if guess_hex and encoding == "base32":
        size = hex_size(text)
        as_base32 = _decodes_as(text, "base32") if size is not None else None
        if size is not None and as_base32 is None:
            problems.append(
                Problem(
                    locator,
                    "seed.hex_secret",
                    f"the secret is hex ({size} bytes), but this format holds base32 and Entra "
                    "refuses hex. Read the file with --secret-encoding hex; converting it "
                    "(seeds convert --secret-encoding hex --to entra-csv) writes base32",
                    serial=serial,
                )
            )
            return None
        if size is not None and as_base32 is not None:
            problems.append(
                Problem(
                    locator,
                    "seed.secret_maybe_hex",
                    f"the secret is base32 ({len(as_base32)} bytes) but also reads as hex "
                    f"({size} bytes); it was read as base32, as this format says. If the vendor "
                    "shipped hex, read the file with --secret-encoding hex",
                    Severity.WARNING,
                    serial,
                )
            )
            return as_base32
    try:
        secret = Secret.decode(text, encoding)
    except SecretEncodingError as exc:
        hint = ""
        for other in ENCODINGS:
            if other == encoding:
                continue
            candidate = _decodes_as(text, other)
            if candidate is not None and len(candidate) in USUAL_LENGTHS:
                hint = (
                    f"; it decodes as {other} ({len(candidate)} bytes): "
                    f"pass --secret-encoding {other} if the file is {other}"
                )
                break
        problems.append(
            Problem(
                locator,
                exc.code,
                f"secret is {exc.reason} (declared {encoding}){hint}",
                serial=serial,
            )
        )
        return None
    if len(secret) not in USUAL_LENGTHS:
        problems.append(
            Problem(
                locator,
                "seed.secret_unusual_length",
                f"secret decodes to {len(secret)} bytes; tokens use 10, 16, 20, 32 or 64: "
                "check the secret encoding",
                Severity.WARNING,
                serial,
            )
        )
    return secret
