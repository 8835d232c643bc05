"""Open a (possibly encrypted) ZIP, pick the one seed file in it, and read it within the caps.

Why so careful: the archive comes from outside. Its headers can lie about sizes (a ZIP bomb),
it can hold a vendor's README beside the seed file, and the only sign of a wrong ZipCrypto
password may be garbage after decryption. Every outcome is an ``OathdeskError`` with a code.
"""

from __future__ import annotations

import copy
import io
import posixpath
import struct
import zlib
from collections.abc import Sequence
from typing import Any

import pyzipper

from oathdesk.containers.options import UnwrapOptions, output_limit
from oathdesk.domain import ArchiveError, DecryptionError

_STORED, _DEFLATED = 0, 8
_METHOD_NAMES = {
    1: "Shrink",
    6: "Implode",
    9: "Deflate64",
    12: "BZip2",
    14: "LZMA",
    93: "Zstd",
    95: "XZ",
    98: "PPMd",
}
_JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
# Members set aside when something better is present: documents a vendor puts beside the seeds.
_DOCUMENT_EXTENSIONS = frozenset(
    {
        ".pdf",
        ".doc",
        ".docx",
        ".odt",
        ".rtf",
        ".htm",
        ".html",
        ".md",
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".sig",
    }
)
_DOCUMENT_STEMS = ("readme", "read_me", "read-me", "license", "licence")
# Extensions a seed file (or a nested envelope) has; ".txt" is weaker (README.txt, notes.txt).
SEED_EXTENSIONS = frozenset(
    {".csv", ".tsv", ".json", ".xml", ".pskc", ".dat", ".zip", ".pgp", ".gpg", ".asc"}
)
_CHUNK = 64 * 1024
_READ_ERRORS = (pyzipper.BadZipFile, zlib.error, EOFError, OSError, ValueError, struct.error)


def is_junk(name: str) -> bool:
    """Folders and the litter of file managers, never a seed file."""
    if name.endswith("/"):
        return True
    parts = name.split("/")
    base = parts[-1]
    return "__MACOSX" in parts or base.startswith("._") or base.lower() in _JUNK_NAMES


def _is_document(name: str) -> bool:
    base = posixpath.basename(name).lower()
    stem, ext = posixpath.splitext(base)
    return ext in _DOCUMENT_EXTENSIONS or stem.startswith(_DOCUMENT_STEMS)


def choose_member(names: Sequence[str], archive: str, wanted: str | None) -> str:
    """The one member that is the seed file; see ``docs/containers.md`` for the rules.

    ``wanted`` (the member option) wins when it names a member here; when it does not, the
    usual choice stands if there is one, since the member may sit in a nested archive.
    """
    entries = [n for n in names if not is_junk(n)]
    if wanted is not None:
        if wanted in entries:
            return wanted
        by_base = [n for n in entries if posixpath.basename(n) == wanted]
        if len(by_base) == 1:
            return by_base[0]
        try:
            return choose_member(names, archive, None)
        except ArchiveError:
            raise ArchiveError(
                f"{archive}: there is no member {wanted!r}; members are: {_listing(entries)}.",
                code="container.member_not_found",
                details={"archive": archive, "candidates": entries},
            ) from None
    if not entries:
        raise ArchiveError(
            f"{archive}: the archive holds no file (only folders or system files).",
            code="container.empty",
            details={"archive": archive},
        )
    if len(entries) == 1:
        return entries[0]
    seeds = [n for n in entries if not _is_document(n)]
    if len(seeds) == 1:
        return seeds[0]
    strong = [n for n in seeds if posixpath.splitext(n.lower())[1] in SEED_EXTENSIONS]
    if len(strong) == 1:
        return strong[0]
    candidates = seeds or entries
    raise ArchiveError(
        f"{archive}: the archive holds several files that could be the seed file: "
        f"{_listing(candidates)}. Name the one to read with --member NAME (e.g. --member "
        f"{candidates[0]}; in the console, the field 'File inside the ZIP').",
        code="container.multiple_files",
        details={"archive": archive, "candidates": candidates},
    )


def member_matches(member: str, wanted: str) -> bool:
    return member == wanted or posixpath.basename(member) == wanted


def _listing(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names) if names else "(none)"


def layer_of(info: Any) -> str:
    if getattr(info, "wz_aes_version", None) is not None:
        return "zip-aes"
    return "zip-zipcrypto" if info.flag_bits & 0x1 else "zip"


def _check_headers(infos: Sequence[Any], archive: str, options: UnwrapOptions, size: int) -> None:
    """Refuse a bomb from what the central directory declares, before any decompression."""
    total = sum(i.file_size for i in infos)
    if total > options.max_total_size:
        raise ArchiveError(
            f"{archive}: the archive declares {total} bytes uncompressed, over the cap of "
            f"{options.max_total_size} bytes; this looks like a ZIP bomb. Raise the cap only "
            "if you trust the file.",
            code="container.too_large",
            details={"archive": archive, "declared": total, "cap": options.max_total_size},
        )
    for info in infos:
        limit = output_limit(options, min(info.compress_size, size))
        if info.file_size > limit:
            raise ArchiveError(
                f"{archive}: member {info.filename!r} declares {info.file_size} bytes from "
                f"{info.compress_size} compressed, over the ratio cap of {options.max_ratio}:1; "
                "this looks like a ZIP bomb.",
                code="container.too_large",
                details={
                    "archive": archive,
                    "member": info.filename,
                    "declared": info.file_size,
                    "ratio_cap": options.max_ratio,
                },
            )


def read_zip(data: bytes, archive: str, options: UnwrapOptions) -> tuple[bytes, str, str]:
    """The chosen member's bytes, its name and the layer name (``zip``, ``zip-aes``...)."""
    try:
        zf = pyzipper.AESZipFile(io.BytesIO(data))
    except (*_READ_ERRORS, NotImplementedError, RuntimeError) as exc:
        raise ArchiveError(
            f"{archive}: not a readable ZIP archive ({exc}); the file is damaged or truncated.",
            code="container.corrupt",
            details={"archive": archive, "envelope": "zip"},
        ) from None
    with zf:
        infos = zf.infolist()
        _check_headers(infos, archive, options, len(data))
        member = choose_member([i.filename for i in infos], archive, options.member)
        info = zf.getinfo(member)
        layer = layer_of(info)
        where = f"{archive}: member {member!r}"
        details = {"archive": archive, "member": member}
        if info.compress_type not in (_STORED, _DEFLATED):
            method = _METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
            raise ArchiveError(
                f"{where} is compressed with {method}, which oathdesk does not read; re-pack it "
                "with Deflate (the default of zip, 7-Zip and Windows).",
                code="container.unsupported",
                details=details,
            )
        password = options.password.reveal() if options.password is not None else None
        if layer != "zip" and not password:
            kind = "WinZip AES" if layer == "zip-aes" else "ZipCrypto"
            raise DecryptionError(
                f"{where} is encrypted ({kind}); give the ZIP password.",
                code="container.password_required",
                details=details,
            )
        content = _read_member(zf, info, password, where, details, options, len(data))
    if not content:
        raise ArchiveError(f"{where} is empty.", code="container.empty", details=details)
    return content, member, layer


def _read_member(
    zf: Any,
    info: Any,
    password: bytes | None,
    where: str,
    details: dict[str, Any],
    options: UnwrapOptions,
    size: int,
) -> bytes:
    """Read no more than the header declares (itself within the caps), whatever the data says.

    pyzipper stops at the declared size and then reports a bad checksum, which would hide a
    forged header; so the size it is given is unbounded, and we stop at the declared size.
    """
    limit = min(info.file_size, output_limit(options, min(info.compress_size, size)))
    probe = copy.copy(info)
    probe.file_size = 1 << 62
    chunks: list[bytes] = []
    total = 0
    try:
        with zf.open(probe, pwd=password if layer_of(info) != "zip" else None) as stream:
            while chunk := stream.read(_CHUNK):
                total += len(chunk)
                if total > limit:
                    raise ArchiveError(
                        f"{where} expands past the {info.file_size} bytes its header declares; "
                        "the header is forged (a ZIP bomb) or the archive is damaged.",
                        code="container.too_large",
                        details={**details, "declared": info.file_size},
                    )
                chunks.append(chunk)
    except RuntimeError as exc:  # pyzipper's "Bad password for file"
        if "bad password" in str(exc).lower():
            raise DecryptionError(
                f"{where}: wrong ZIP password.", code="container.wrong_password", details=details
            ) from None
        raise ArchiveError(
            f"{where} cannot be read ({exc}).",
            code="container.corrupt",
            details={**details, "envelope": "zip"},
        ) from None
    except NotImplementedError as exc:
        raise ArchiveError(
            f"{where} uses a ZIP feature oathdesk does not read ({exc}).",
            code="container.unsupported",
            details=details,
        ) from None
    except _READ_ERRORS as exc:
        if layer_of(info) == "zip-zipcrypto" and ("CRC" in str(exc) or isinstance(exc, zlib.error)):
            # ZipCrypto's one check byte lets 1 wrong password in 256 through to garbage.
            raise DecryptionError(
                f"{where}: wrong ZIP password (or the member is damaged).",
                code="container.wrong_password",
                details=details,
            ) from None
        raise ArchiveError(
            f"{where} is damaged ({exc}).",
            code="container.corrupt",
            details={**details, "envelope": "zip"},
        ) from None
    if total != info.file_size:
        raise ArchiveError(
            f"{where} holds {total} bytes but its header declares {info.file_size}; the archive "
            "is damaged or forged.",
            code="container.corrupt",
            details={**details, "envelope": "zip"},
        )
    return b"".join(chunks)
