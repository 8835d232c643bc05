"""The one record every seed format is a projection of."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from oathdesk.domain.secret import Secret


class OtpKind(StrEnum):
    TOTP = "totp"
    HOTP = "hotp"


class HashAlgorithm(StrEnum):
    SHA1 = "sha1"
    SHA256 = "sha256"
    SHA512 = "sha512"


_HASH_ALIASES = {
    "sha1": HashAlgorithm.SHA1,
    "sha256": HashAlgorithm.SHA256,
    "sha512": HashAlgorithm.SHA512,
}


def parse_hash(text: str) -> HashAlgorithm | None:
    """Read any spelling seen in the field: SHA1, HmacSHA256, hmacsha1, HMAC-SHA-512, sha-1."""
    key = re.sub(r"[\s_\-]", "", text).lower()
    key = key.removeprefix("hmac")
    return _HASH_ALIASES.get(key)


def spell_hash(algorithm: HashAlgorithm, style: str) -> str:
    """Write a hash name in a file's style: ``SHA1``, ``HmacSHA1``, ``hmacsha1``, ``HMAC-SHA1``,
    ``sha1`` or ``HMacSHA1`` (Okta)."""
    number = algorithm.value.removeprefix("sha")
    styles = {
        "SHA1": f"SHA{number}",
        "sha1": f"sha{number}",
        "HmacSHA1": f"HmacSHA{number}",
        "HMacSHA1": f"HMacSHA{number}",
        "hmacsha1": f"hmacsha{number}",
        "HMAC-SHA1": f"HMAC-SHA{number}",
    }
    try:
        return styles[style]
    except KeyError:
        raise ValueError(f"unknown hash spelling style {style!r}") from None


@dataclass(frozen=True, slots=True)
class SeedRecord:
    """One hardware token as delivered. ``serial`` is text: leading zeros and letters matter."""

    serial: str
    secret: Secret = field(repr=True, compare=True)
    kind: OtpKind = OtpKind.TOTP
    period: int = 30
    t0: int = 0
    digits: int = 6
    algorithm: HashAlgorithm = HashAlgorithm.SHA1
    counter: int = 0
    manufacturer: str = ""
    model: str = ""
    user: str = ""
    display_name: str = ""

    def with_(self, **changes: Any) -> SeedRecord:
        return replace(self, **changes)

    def describe(self) -> dict[str, Any]:
        """Everything but the secret, for reports and JSON output."""
        return {
            "serial": self.serial,
            "kind": self.kind.value,
            "period": self.period if self.kind is OtpKind.TOTP else None,
            "digits": self.digits,
            "algorithm": self.algorithm.value,
            "counter": self.counter if self.kind is OtpKind.HOTP else None,
            "manufacturer": self.manufacturer,
            "model": self.model,
            "user": self.user,
        }
