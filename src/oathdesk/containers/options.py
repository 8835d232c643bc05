"""What the caller tells the unwrapper (passwords, keys, caps) and what it gets back.

Kept apart from the readers so the ZIP and PGP modules share one definition of the caps and the
output-size rule without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from oathdesk.domain import Secret

if TYPE_CHECKING:
    from oathdesk.containers.pgp_signature import PgpSignature

# Below this uncompressed size a member (or a PGP plaintext) is never refused for its ratio:
# a file this small cannot exhaust memory, and short repetitive files compress very well.
RATIO_FLOOR = 1024 * 1024


@dataclass(frozen=True)
class UnwrapOptions:
    """Decryption material and the ZIP-bomb caps for one unwrap."""

    password: Secret | None = None  # ZIP password (bytes of the password file)
    gpg_home: Path | None = None  # GnuPG home holding the private key
    pgp_passphrase: Secret | None = None  # passphrase of that private key (loopback pinentry)
    max_total_size: int = 256 * 1024 * 1024  # ZIP bomb caps (uncompressed bytes, all members)
    max_ratio: int = 200  # uncompressed/compressed
    member: str | None = None  # pick one member of a ZIP holding several seed files


@dataclass(frozen=True)
class Unwrapped:
    """The innermost seed file and the envelopes that were removed to reach it.

    Its repr shows the size of ``data``, never the bytes: a seed file is full of secrets.
    """

    data: bytes  # the innermost seed file's bytes
    name: str  # its file name (ZIP member name; for PGP the input name minus .pgp/.gpg/.asc)
    layers: list[str] = field(default_factory=list)  # envelopes removed, outermost first
    signatures: list[PgpSignature] = field(default_factory=list)  # of signed PGP layers

    def __repr__(self) -> str:
        return (
            f"Unwrapped(data=<{len(self.data)} bytes>, name={self.name!r}, layers={self.layers!r})"
        )


def output_limit(options: UnwrapOptions, compressed_size: int) -> int:
    """The most bytes one layer may produce from ``compressed_size`` input bytes."""
    by_ratio = max(options.max_ratio * compressed_size, RATIO_FLOOR)
    return min(options.max_total_size, by_ratio)
