"""Make a password ZIP around one seed file: WinZip AES-256 by default, ZipCrypto when asked.

Why both: AES is the safe choice but Windows Explorer cannot open it, so a recipient stuck with
Explorer needs ZipCrypto, which is broken (known-plaintext attacks) and therefore never a default.
"""

from __future__ import annotations

import io
import time

import pyzipper

from oathdesk.containers.zipcrypto import zipcrypto_archive
from oathdesk.domain import ContainerError, DecryptionError, Secret

ZIP_METHODS = ("aes", "zipcrypto")


def _check_member_name(member_name: str) -> None:
    parts = member_name.replace("\\", "/").split("/")
    if (
        not member_name
        or member_name.startswith(("/", "\\"))
        or member_name.endswith(("/", "\\"))
        or "\0" in member_name
        or ".." in parts
    ):
        raise ContainerError(
            f"{member_name!r} cannot be a ZIP member name; use a plain file name such as "
            "'seeds.csv'.",
            code="container.bad_member_name",
        )


def wrap_zip(data: bytes, member_name: str, password: Secret, *, method: str = "aes") -> bytes:
    """A ZIP holding ``data`` as ``member_name``, encrypted with ``password``."""
    if method not in ZIP_METHODS:
        raise ContainerError(
            f"Unknown ZIP encryption {method!r}; choose 'aes' (WinZip AES-256) or 'zipcrypto' "
            "(legacy, weak, only for tools that cannot read AES).",
            code="container.unknown_method",
        )
    _check_member_name(member_name)
    if not password:
        raise DecryptionError(
            "A password-protected ZIP needs a non-empty password.",
            code="container.password_required",
        )
    if method == "zipcrypto":
        return zipcrypto_archive(data, member_name, password.reveal())
    buffer = io.BytesIO()
    with pyzipper.AESZipFile(
        buffer, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as archive:
        archive.setpassword(password.reveal())
        archive.setencryption(pyzipper.WZ_AES, nbits=256)
        info = archive.zipinfo_cls(member_name, date_time=time.localtime()[:6])
        info.compress_type = pyzipper.ZIP_DEFLATED
        info.external_attr = 0o100600 << 16
        archive.writestr(info, data)
    return buffer.getvalue()
