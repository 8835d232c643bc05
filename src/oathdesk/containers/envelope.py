"""Tell an envelope by its magic bytes and peel nested envelopes down to the seed file.

Why by magic bytes: vendors name files freely (``seeds.dat`` may be a ZIP, ``order.txt`` a PGP
message), and whether "password and PGP" means a ZIP inside PGP or PGP inside a ZIP is unknown,
so every layer is looked at afresh and the depth is bounded.
"""

from __future__ import annotations

from oathdesk.containers.options import UnwrapOptions, Unwrapped
from oathdesk.containers.pgp import decrypt_pgp
from oathdesk.containers.pgp_signature import PgpSignature
from oathdesk.containers.zipread import member_matches, read_zip
from oathdesk.domain import ArchiveError

MAX_DEPTH = 4  # envelopes peeled at most; a fifth is refused as container.too_deep

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header; an empty archive's end record
_ARMOR = b"-----BEGIN PGP MESSAGE-----"
# The first packet of an encrypted OpenPGP message and the versions its body starts with:
# 1 public-key and 3 symmetric-key encrypted session key, 10 the "PGP" marker packet.
_FIRST_PACKETS = {1: (3, 6), 3: (4, 5, 6)}
_OLD_LENGTH_BYTES = (1, 2, 4, 0)  # old-format length types 0..3 (3: indeterminate)


def _binary_message(data: bytes) -> bool:
    """A session key (or marker) packet header followed by a known version byte.

    The header alone is not enough: 0xC3 is also how UTF-8 writes "À".."ÿ" in a plain CSV.
    """
    if len(data) < 3 or not data[0] & 0x80:
        return False
    first = data[0]
    if first & 0x40:  # new-format header: tag in the low 6 bits, then a 1, 2 or 5 byte length
        tag, octet = first & 0x3F, data[1]
        if octet >= 224 and octet != 255:
            return False  # a partial length never starts a message
        body = 2 if octet < 192 else 3 if octet < 224 else 6
    else:  # old-format header: tag in bits 2-5, length type in bits 0-1
        tag, body = (first >> 2) & 0x0F, 1 + _OLD_LENGTH_BYTES[first & 0x03]
    if tag == 10:
        return data[body : body + 3] == b"PGP"
    return len(data) > body and data[body] in _FIRST_PACKETS.get(tag, ())


def detect_envelope(data: bytes) -> str | None:
    """``"zip"``, ``"pgp"`` or ``None`` for anything else (a plain seed file)."""
    if data.startswith(_ZIP_MAGIC):
        return "zip"
    head = data[:64].removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if head.startswith(_ARMOR) or _binary_message(data):
        return "pgp"
    return None


def unwrap(data: bytes, name: str, options: UnwrapOptions) -> Unwrapped:
    """Remove every envelope, outermost first; plain data comes back unchanged."""
    layers: list[str] = []
    signatures: list[PgpSignature] = []
    outer_name = name
    member_found = False
    while (kind := detect_envelope(data)) is not None:
        if len(layers) == MAX_DEPTH:
            raise ArchiveError(
                f"{name}: more than {MAX_DEPTH} nested envelopes ({' > '.join(layers)} > {kind}"
                "...); a real delivery has one or two, so this is refused.",
                code="container.too_deep",
                details={"file": name, "layers": layers},
            )
        if kind == "zip":
            data, name, layer = read_zip(data, name, options)
            member_found = member_found or (
                options.member is not None and member_matches(name, options.member)
            )
        else:
            data, name, signed = decrypt_pgp(data, name, options)
            signatures.extend(signed)
            layer = "pgp"
            if not data:
                raise ArchiveError(
                    f"{name}: the PGP message holds an empty file.",
                    code="container.empty",
                    details={"file": name},
                )
        layers.append(layer)
    if options.member is not None and not member_found:
        raise ArchiveError(
            f"{outer_name}: no archive in it has a member named {options.member!r} (the file "
            f"inside is {name!r}); leave the member option out or correct it.",
            code="container.member_not_found",
            details={"file": outer_name, "member": options.member, "found": name},
        )
    return Unwrapped(data=data, name=name, layers=layers, signatures=signatures)
