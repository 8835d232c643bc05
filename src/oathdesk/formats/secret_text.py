"""Decode a secret field and, when it fails, tell the user which encoding it really is."""

from __future__ import annotations

from oathdesk.domain import Problem, Secret, SecretEncodingError, Severity

ENCODINGS = ("hex", "base32", "base64")
USUAL_LENGTHS = frozenset({10, 16, 20, 32, 64})
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_SEPARATORS = str.maketrans("", "", " \t-:")


def hex_size(text: str) -> int | None:
    """The byte length ``text`` has as hex when it is plainly a hex secret of a usual length.

    Why this is safe to act on in a base32 column: a random base32 secret of 20 bytes is made
    only of A-F and 2-7 with a chance of about 1 in 10^16, while hex never holds G-Z. So a
    secret of hex digits only is a hex secret (vendors ship hex in Entra's layout; Entra refuses
    it), not base32 that happens to look like hex.
    """
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

    ``guess_hex``: the format declared base32 and the user did not name an encoding, so a
    secret of hex digits only is reported as ``seed.hex_secret`` rather than read as base32 (or
    refused as bad base32): the file is hex, and the fix is ``--secret-encoding hex``.
    """
    if guess_hex and encoding == "base32":
        size = hex_size(text)
        if size is not None:
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
