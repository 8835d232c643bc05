"""Secret key bytes that never print themselves.

Seed secrets are the one thing oathdesk must never leak: ``repr``/``str``/f-strings show only the
length, comparisons are constant-time, and the encoders take tolerant input (spaces, hyphens,
lower case, missing ``=`` padding) because vendor files carry all of those.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from typing import Any, NoReturn

_SEPARATORS = re.compile(r"[\s\-:]+")
_HEX = re.compile(r"[0-9a-fA-F]*")
_B32 = re.compile(r"[A-Z2-7]*=*")
_B64 = re.compile(r"[A-Za-z0-9+/]*=*")


class SecretEncodingError(ValueError):
    """Text does not decode in the encoding asked for; the message never repeats the text."""

    def __init__(self, reason: str, code: str = "seed.secret_not_decodable") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class Secret:
    """Raw key bytes. Read them with :meth:`reveal` only where they must leave oathdesk."""

    __slots__ = ("_value",)
    _value: bytes

    def __init__(self, value: bytes) -> None:
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError("Secret takes bytes")
        object.__setattr__(self, "_value", bytes(value))

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError("Secret is immutable")

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_hex(cls, text: str) -> Secret:
        cleaned = _SEPARATORS.sub("", text)
        if not cleaned:
            raise SecretEncodingError("the secret is empty", "seed.secret_empty")
        if not _HEX.fullmatch(cleaned):
            raise SecretEncodingError(
                "not hex: only 0-9 and a-f are allowed", "seed.secret_not_hex"
            )
        if len(cleaned) % 2:
            raise SecretEncodingError(
                f"hex has an odd number of digits ({len(cleaned)})", "seed.secret_odd_length"
            )
        return cls(bytes.fromhex(cleaned))

    @classmethod
    def from_base32(cls, text: str) -> Secret:
        cleaned = _SEPARATORS.sub("", text).upper()
        if not cleaned:
            raise SecretEncodingError("the secret is empty", "seed.secret_empty")
        if not _B32.fullmatch(cleaned):
            raise SecretEncodingError(
                "not base32: only A-Z and 2-7 are allowed", "seed.secret_not_base32"
            )
        body = cleaned.rstrip("=")
        if len(body) % 8 in (1, 3, 6):
            raise SecretEncodingError(
                f"base32 of {len(body)} characters cannot be whole bytes", "seed.secret_not_base32"
            )
        try:
            return cls(base64.b32decode(body + "=" * (-len(body) % 8)))
        except binascii.Error as exc:  # pragma: no cover - guarded by the checks above
            raise SecretEncodingError("not valid base32", "seed.secret_not_base32") from exc

    @classmethod
    def from_base64(cls, text: str) -> Secret:
        cleaned = re.sub(r"\s+", "", text)
        if not cleaned:
            raise SecretEncodingError("the secret is empty", "seed.secret_empty")
        if not _B64.fullmatch(cleaned):
            raise SecretEncodingError(
                "not base64: only A-Z, a-z, 0-9, + and / are allowed", "seed.secret_not_base64"
            )
        body = cleaned.rstrip("=")
        if len(body) % 4 == 1:
            raise SecretEncodingError(
                "base64 of this length is not whole bytes", "seed.secret_not_base64"
            )
        try:
            return cls(base64.b64decode(body + "=" * (-len(body) % 4), validate=True))
        except binascii.Error as exc:  # pragma: no cover - guarded by the checks above
            raise SecretEncodingError("not valid base64", "seed.secret_not_base64") from exc

    @classmethod
    def decode(cls, text: str, encoding: str) -> Secret:
        """Decode ``text`` declared as ``hex``, ``base32`` or ``base64``."""
        if encoding == "hex":
            return cls.from_hex(text)
        if encoding == "base32":
            return cls.from_base32(text)
        if encoding == "base64":
            return cls.from_base64(text)
        raise ValueError(f"unknown secret encoding {encoding!r}")

    # -- output -------------------------------------------------------------------------
    def reveal(self) -> bytes:
        return self._value

    def to_hex(self, *, upper: bool = False) -> str:
        text = self._value.hex()
        return text.upper() if upper else text

    def to_base32(self, *, padding: bool = False, upper: bool = True) -> str:
        text = base64.b32encode(self._value).decode("ascii")
        if not padding:
            text = text.rstrip("=")
        return text if upper else text.lower()

    def to_base64(self, *, padding: bool = True) -> str:
        text = base64.b64encode(self._value).decode("ascii")
        return text if padding else text.rstrip("=")

    def encode(
        self, encoding: str, *, upper: bool | None = None, padding: bool | None = None
    ) -> str:
        """Encode for a file: ``upper``/``padding`` default to each encoding's usual form."""
        if encoding == "hex":
            return self.to_hex(upper=bool(upper))
        if encoding == "base32":
            return self.to_base32(padding=bool(padding), upper=True if upper is None else upper)
        if encoding == "base64":
            return self.to_base64(padding=True if padding is None else padding)
        raise ValueError(f"unknown secret encoding {encoding!r}")

    # -- behaviour ----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value, other._value)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Secret(<redacted, {len(self._value)} bytes>)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret is not pickled; seal it instead")

    def __bool__(self) -> bool:
        return bool(self._value)
