"""Opening encrypted PSKC values so that a wrong key and a tampered value get different answers.

python-pskc would report both as "MAC value does not match". Here every encrypted value is
opened with python-pskc's primitives (``decrypt``, ``mac``, PBKDF2) and judged in this order:

1. the MAC key (``MACMethod/MACKey``) is decrypted first; invalid PKCS#7 padding means the
   key or passphrase is wrong (``seed.pskc_wrong_key``);
2. a MAC key of exactly the MAC's digest size (20 bytes for HMAC-SHA1: RFC 6030, python-pskc
   and every writer seen) confirms the key, since a wrong key yields that much valid padding
   with odds below 2^-96. With a confirmed key, a ``ValueMAC`` that does not match means that
   one value was altered or damaged: the reader reports ``seed.pskc_mac_mismatch`` there;
3. when the key cannot be confirmed that way (another MAC key length, or no MAC key so the
   encryption key doubles as MAC key, as python-pskc does), the file is judged as a whole:
   if no encrypted value opens (MAC and padding), the key is wrong; if some open, each one
   that does not is reported on its own.

A tampered ``MACKey`` itself reads as a wrong key: nothing in the file can tell them apart.
MACs are compared with ``hmac.compare_digest``, over IV‖ciphertext (RFC 6030) or, for
pre-RFC files, over the plaintext.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import Literal

from pskc import PSKC
from pskc.encryption import algorithm_key_lengths, decrypt
from pskc.exceptions import DecryptionError as PskcDecryptionError
from pskc.exceptions import KeyDerivationError
from pskc.key import EncryptedValue
from pskc.mac import mac as compute_mac
from pskc.mac import mac_key_length

from oathdesk.domain import DecryptionError
from oathdesk.formats.base import ReadOptions

Status = Literal["ok", "mac", "undecryptable"]


class FileProblem(Exception):
    """A problem with the file's encryption description; ``where`` names the element."""

    def __init__(self, where: str, code: str, message: str) -> None:
        super().__init__(message)
        self.where, self.code, self.message = where, code, message


def check_algorithms(pskc: PSKC, algorithms: Sequence[str | None]) -> None:
    """Refuse ciphers and MACs python-pskc cannot run, before any key is asked for."""
    for algorithm in [*algorithms, None]:  # None: the file-wide algorithm
        try:
            algorithm_key_lengths(algorithm or pskc.encryption.algorithm)
        except PskcDecryptionError:
            named = f"encryption {algorithm!r} is" if algorithm else "no encryption algorithm"
            raise FileProblem(
                "EncryptionMethod",
                "seed.unsupported_algorithm",
                f"{named} not supported; oathdesk reads AES, 3DES and Camellia (CBC or key wrap)",
            ) from None
    if pskc.mac.algorithm:
        try:
            compute_mac(pskc.mac.algorithm, b"k", b"")
        except PskcDecryptionError:
            raise FileProblem(
                "MACMethod",
                "seed.unsupported_algorithm",
                f"MAC algorithm {pskc.mac.algorithm!r} is not supported",
            ) from None


def encryption_key(
    pskc: PSKC, options: ReadOptions, source: str, derived: bytes | None = None
) -> bytes:
    """The key from ``options``: derived (PBKDF2 files, passphrase) or given (pre-shared).

    ``derived`` is the PBKDF2 key a first look at this file already derived from the same
    passphrase and parameters: PBKDF2 is slow by design, so it runs once per file.
    """
    encryption = pskc.encryption
    pbkdf2 = encryption.derivation.algorithm is not None
    key: bytes | None = None
    if pbkdf2 and options.passphrase is not None and derived is not None:
        key = derived
    elif pbkdf2 and options.passphrase is not None:
        try:
            encryption.derive_key(options.passphrase.reveal())
        except KeyDerivationError as exc:
            if "nsupported" in str(exc):
                raise FileProblem(
                    "EncryptionKey",
                    "seed.unsupported_algorithm",
                    "the key derivation is not supported (only PBKDF2 with HMAC-SHA*)",
                ) from None
            raise FileProblem(
                "EncryptionKey", "seed.pskc_invalid", "the PBKDF2 parameters are incomplete"
            ) from None
        key = encryption.key
    elif options.pskc_key is not None:
        key = options.pskc_key.reveal()  # also accepted for a PBKDF2 file: the derived key
    if key is None:
        raise key_required(pskc, options, source)
    lengths = algorithm_key_lengths(encryption.algorithm)
    if len(key) not in lengths:
        needs = " or ".join(str(n) for n in lengths)
        raise wrong_key(
            pskc, options, source, f" (it is {len(key)} bytes; the cipher needs {needs})"
        )
    return key


def open_values(
    pskc: PSKC, key: bytes, values: Sequence[EncryptedValue], options: ReadOptions, source: str
) -> list[tuple[Status, bytes | None]]:
    """Each value's outcome; raises ``seed.pskc_wrong_key`` when the key is judged wrong."""
    encryption = pskc.encryption
    mac_algorithm = pskc.mac.algorithm
    stored = getattr(pskc.mac, "_key", None)
    if isinstance(stored, EncryptedValue):
        try:
            mac_key = decrypt(
                stored.algorithm or encryption.algorithm, key, stored.cipher_value, encryption.iv
            )
        except PskcDecryptionError:
            raise wrong_key(pskc, options, source) from None
        confirmed = len(mac_key) == mac_key_length(mac_algorithm)
    else:
        mac_key, confirmed = key, False
    outcomes: list[tuple[Status, bytes | None]] = []
    for value in values:
        try:
            plain: bytes | None = decrypt(
                value.algorithm or encryption.algorithm, key, value.cipher_value, encryption.iv
            )
        except PskcDecryptionError:
            plain = None
        if value.mac_value is not None and mac_algorithm:
            candidates = [value.cipher_value] + ([plain] if plain is not None else [])
            if not any(
                hmac.compare_digest(compute_mac(mac_algorithm, mac_key, c), value.mac_value)
                for c in candidates
            ):
                outcomes.append(("mac", None))
                continue
        outcomes.append(("ok", plain) if plain is not None else ("undecryptable", None))
    if not confirmed and all(status != "ok" for status, _ in outcomes):
        raise wrong_key(pskc, options, source)
    return outcomes


def unlock(
    pskc: PSKC,
    algorithms: Sequence[str | None],
    values: Sequence[EncryptedValue],
    options: ReadOptions,
    source: str,
    derived: bytes | None = None,
) -> list[tuple[Status, bytes | None]]:
    """Check the algorithms, get the key, open every value (see the module docstring)."""
    check_algorithms(pskc, algorithms)
    key = encryption_key(pskc, options, source, derived)
    return open_values(pskc, key, values, options, source)


def _key_name(pskc: PSKC) -> str | None:
    name = pskc.encryption.key_name
    return str(name) if name else None


def key_required(pskc: PSKC, options: ReadOptions, source: str) -> DecryptionError:
    name = _key_name(pskc)
    named = f" named {name!r}" if name else ""
    if pskc.encryption.derivation.algorithm is not None:
        needs = "password-file"
        message = (
            f"{source}: the PSKC file is encrypted with a passphrase (PBKDF2, key{named}); "
            "pass the passphrase with --password-file"
        )
    else:
        needs = "key-file"
        message = (
            f"{source}: the PSKC file is encrypted with a pre-shared key{named}; "
            "pass the key in hex with --key-file"
        )
        if options.passphrase is not None:
            message += " (a passphrase does not open this file)"
    return DecryptionError(
        message, code="seed.pskc_key_required", details={"key_name": name, "needs": needs}
    )


def wrong_key(pskc: PSKC, options: ReadOptions, source: str, extra: str = "") -> DecryptionError:
    pbkdf2 = pskc.encryption.derivation.algorithm is not None
    if pbkdf2 and options.passphrase is not None:
        what, flag = "passphrase", "--password-file"
    else:
        what, flag = "pre-shared key", "--key-file"
    name = _key_name(pskc)
    named = f" (the file names its key {name!r})" if name else ""
    return DecryptionError(
        f"{source}: the {what}{extra} does not open this PSKC file{named}; check {flag}.",
        code="seed.pskc_wrong_key",
        details={"key_name": name},
    )
