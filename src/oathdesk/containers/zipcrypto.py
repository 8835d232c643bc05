"""Traditional PKWARE ("ZipCrypto") encryption and a one-member archive around it.

Why this exists: some recipients can only open ZipCrypto archives (Windows Explorer does not read
WinZip AES), and ``pyzipper`` reads ZipCrypto but cannot write it. The cipher is the stream cipher
of PKWARE APPNOTE.TXT section 6.1; it is cryptographically weak (known-plaintext attacks), which is
why :func:`oathdesk.containers.wrap_zip` only uses it when asked by name. Reading is left to
``pyzipper``, an independent implementation, so our writer is never checked by itself.
"""

from __future__ import annotations

import secrets
import struct
import time
import zlib


def _crc_table() -> tuple[int, ...]:
    table = []
    for n in range(256):
        for _ in range(8):
            n = (n >> 1) ^ 0xEDB88320 if n & 1 else n >> 1
        table.append(n)
    return tuple(table)


_CRC_TABLE = _crc_table()
_MAX_32 = 0xFFFFFFFF
_VERSION_NEEDED = 20  # 2.0: deflate and traditional encryption
_VERSION_MADE_BY = (3 << 8) | 20  # made on Unix, spec 2.0 (so the external attributes are modes)
_FLAG_ENCRYPTED = 0x0001
_FLAG_UTF8 = 0x0800
_METHOD_DEFLATED = 8
_FILE_MODE = 0o100600  # a regular file readable by its owner only


class ZipCryptoCipher:
    """The three-key state of APPNOTE 6.1, seeded from the password."""

    __slots__ = ("_k0", "_k1", "_k2")

    def __init__(self, password: bytes) -> None:
        self._k0, self._k1, self._k2 = 0x12345678, 0x23456789, 0x34567890
        for byte in password:
            self._update(byte)

    def _update(self, byte: int) -> None:
        self._k0 = (self._k0 >> 8) ^ _CRC_TABLE[(self._k0 ^ byte) & 0xFF]
        self._k1 = ((self._k1 + (self._k0 & 0xFF)) * 134775813 + 1) & _MAX_32
        self._k2 = (self._k2 >> 8) ^ _CRC_TABLE[(self._k2 ^ (self._k1 >> 24)) & 0xFF]

    def encrypt(self, plain: bytes) -> bytes:
        out = bytearray(len(plain))
        table = _CRC_TABLE
        k0, k1, k2 = self._k0, self._k1, self._k2
        for i, p in enumerate(plain):
            t = (k2 | 2) & 0xFFFF
            out[i] = p ^ (((t * (t ^ 1)) >> 8) & 0xFF)
            k0 = (k0 >> 8) ^ table[(k0 ^ p) & 0xFF]
            k1 = ((k1 + (k0 & 0xFF)) * 134775813 + 1) & _MAX_32
            k2 = (k2 >> 8) ^ table[(k2 ^ (k1 >> 24)) & 0xFF]
        self._k0, self._k1, self._k2 = k0, k1, k2
        return bytes(out)


def _dos_time(moment: time.struct_time) -> tuple[int, int]:
    year = max(moment.tm_year, 1980)
    dos_date = ((year - 1980) << 9) | (moment.tm_mon << 5) | moment.tm_mday
    dos_time = (moment.tm_hour << 11) | (moment.tm_min << 5) | (moment.tm_sec // 2)
    return dos_time, dos_date


def zipcrypto_archive(data: bytes, member_name: str, password: bytes) -> bytes:
    """A ZIP holding ``data`` as ``member_name``, deflated then ZipCrypto-encrypted.

    The 12-byte encryption header is 11 random bytes plus the CRC's high byte (the check byte
    readers use to spot a wrong password); no data descriptor, so sizes sit in the headers.
    """
    crc = zlib.crc32(data) & _MAX_32
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = compressor.compress(data) + compressor.flush()
    cipher = ZipCryptoCipher(password)
    header = secrets.token_bytes(11) + bytes([crc >> 24])
    body = cipher.encrypt(header) + cipher.encrypt(deflated)
    if len(data) > _MAX_32 or len(body) > _MAX_32:
        raise ValueError("ZipCrypto archives are limited to 4 GiB here")
    name = member_name.encode("utf-8")
    flags = _FLAG_ENCRYPTED | (0 if member_name.isascii() else _FLAG_UTF8)
    mtime, mdate = _dos_time(time.localtime())
    common = struct.pack(
        "<HHHHHIII",
        _VERSION_NEEDED,
        flags,
        _METHOD_DEFLATED,
        mtime,
        mdate,
        crc,
        len(body),
        len(data),
    )
    local = b"PK\x03\x04" + common + struct.pack("<HH", len(name), 0) + name
    central = (
        b"PK\x01\x02"
        + struct.pack("<H", _VERSION_MADE_BY)
        + common
        + struct.pack("<HHHHHI", len(name), 0, 0, 0, 0, _FILE_MODE << 16)
        + struct.pack("<I", 0)  # offset of the local header
        + name
    )
    directory_offset = len(local) + len(body)
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, len(central), directory_offset, 0)
    return local + body + central + end
