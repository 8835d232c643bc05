"""Exit statuses: stable numbers scripts can rely on, one per error kind (domain/error_codes.py)."""

from __future__ import annotations

from enum import IntEnum

from oathdesk.domain import OathdeskError, exit_status


class Exit(IntEnum):
    OK = 0
    INTERNAL = 1  # a bug: please report it
    USAGE = 2  # wrong options or arguments
    INVALID_INPUT = 3  # the seed file (or other input) has problems; nothing was done
    DECRYPTION = 4  # wrong or missing password, key or passphrase
    ARCHIVE = 5  # corrupt, oversized or ambiguous ZIP / PGP envelope
    FILE = 6  # a file could not be read or written
    CONFIG = 7  # configuration file or variables are wrong
    NOT_FOUND = 8  # the thing asked for does not exist (no token matches a code, ...)
    SERVICE = 9  # a service (Graph, database) failed, refused or throttled; stored data is bad
    CONFLICT = 10  # the token's state does not allow this now (or changed at the same moment)


EXIT_DESCRIPTIONS: dict[Exit, str] = {
    Exit.OK: "success",
    Exit.INTERNAL: "internal error (a bug; run with OATHDESK_DEBUG=1 and report it)",
    Exit.USAGE: "usage error: wrong options or arguments",
    Exit.INVALID_INPUT: "invalid input: the file has problems, nothing was done",
    Exit.DECRYPTION: "decryption failed: wrong or missing password, key or passphrase",
    Exit.ARCHIVE: "archive error: corrupt, oversized or ambiguous ZIP or PGP envelope",
    Exit.FILE: "a file could not be read or written",
    Exit.CONFIG: "configuration error",
    Exit.NOT_FOUND: "nothing matched",
    Exit.SERVICE: "a service (Graph, the database, the mail server) failed, refused or "
    "throttled the request, or stored data does not verify",
    Exit.CONFLICT: "conflict: the token's state does not allow this now, or someone else "
    "changed it at the same moment; look at it again",
}


def exit_for(error: OathdeskError) -> Exit:
    """The exit status of the error's kind; the same table gives the web its HTTP status."""
    return Exit(exit_status(error))


# Which command-line option answers an error raised below the CLI (layers below know no flags).
HINTS: dict[str, str] = {
    "container.password_required": "give the ZIP password with --password-file FILE",
    "container.wrong_password": "check the password in the file given with --password-file",
    "container.gpg_home_required": "name the GnuPG home holding the private key: --gpg-home DIR",
    "container.pgp_key_missing": "name the GnuPG home holding that private key: --gpg-home DIR",
    "container.pgp_passphrase_required": "give the key's passphrase: --pgp-passphrase-file FILE",
    "container.wrong_pgp_passphrase": "check the file given with --pgp-passphrase-file",
    "container.multiple_files": "the message lists the files; convert or inspect them one by one",
    "seed.ambiguous_format": "name the format with --from",
    "seed.unknown_format": "name the format with --from, or describe a CSV with --profile",
}
