"""Decode a secret field and, when it fails, tell the user which encoding it really is."""

from __future__ import annotations

from oathdesk.domain import Problem, Secret, SecretEncodingError, Severity

ENCODINGS = ("hex", "base32", "base64")
USUAL_LENGTHS = frozenset({10, 16, 20, 32, 64})


def _decodes_as(text: str, encoding: str) -> Secret | None:
    try:
        return Secret.decode(text, encoding)
    except SecretEncodingError:
        return None


def decode_secret(
    text: str, encoding: str, locator: str, serial: str | None, problems: list[Problem]
) -> Secret | None:
    """Return the secret, or ``None`` after appending a problem that names the fix."""
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
