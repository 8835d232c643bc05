"""Delivery envelopes around seed files: password ZIPs (WinZip AES, ZipCrypto) and OpenPGP.

Vendors mail seed files inside one or two envelopes; :func:`unwrap` peels them by magic bytes
within ZIP-bomb caps, :func:`wrap_zip` and :func:`encrypt_pgp` make them for seed delivery.
The rules, caps and error codes are in ``docs/containers.md``.
"""

from oathdesk.containers.envelope import MAX_DEPTH, detect_envelope, unwrap
from oathdesk.containers.options import RATIO_FLOOR, UnwrapOptions, Unwrapped
from oathdesk.containers.pgp import encrypt_pgp
from oathdesk.containers.pgp_signature import PgpSignature
from oathdesk.containers.zipwrite import ZIP_METHODS, wrap_zip

__all__ = [
    "MAX_DEPTH",
    "RATIO_FLOOR",
    "ZIP_METHODS",
    "PgpSignature",
    "UnwrapOptions",
    "Unwrapped",
    "detect_envelope",
    "encrypt_pgp",
    "unwrap",
    "wrap_zip",
]
