"""The signatures inside a signed-and-encrypted PGP message, read from gpg's status lines.

Why this matters: vendors often sign the seed file as well as encrypting it. gpg then decrypts
it fine but exits non-zero whenever it cannot check the signature (the vendor's public key is
not in the user's GnuPG home), which once made such a file look corrupt. The plaintext is good
either way (the encryption's integrity check, MDC, vouches for it), so the signature is only
reported: who signed (key id, user id when known) and whether the signature checked out. A
signature that does *not* match is different: the file was altered after signing, and it is
refused (``container.pgp_bad_signature``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import unquote

from oathdesk.domain import ArchiveError

# status keyword -> our status; each starts or completes one signature
_RESULTS = {
    "GOODSIG": "valid",
    "EXPSIG": "expired_signature",
    "EXPKEYSIG": "expired_key",
    "REVKEYSIG": "revoked_key",
    "BADSIG": "bad",
}
_TRUST = {
    "TRUST_UNDEFINED": "undefined",
    "TRUST_NEVER": "never",
    "TRUST_MARGINAL": "marginal",
    "TRUST_FULLY": "full",
    "TRUST_ULTIMATE": "ultimate",
}
_ERRSIG_NO_PUBKEY = "9"
_SAYS = {
    "valid": "good signature",
    "expired_signature": "good signature, but it has expired",
    "expired_key": "good signature by an expired key",
    "revoked_key": "good signature by a REVOKED key",
    "bad": "BAD signature",
    "unknown_signer": "signer unknown: its public key is not in the GnuPG home, so the "
    "signature was not checked (import the vendor's public key to check it)",
    "error": "the signature could not be checked",
}


@dataclass(frozen=True)
class PgpSignature:
    """One signature: the signing key, what gpg made of it, and the signer as the home knows it."""

    key_id: str  # the signing key's long key id (16 hex digits)
    status: str  # valid, unknown_signer, expired_signature, expired_key, revoked_key, bad, error
    fingerprint: str | None = None  # the signing key's fingerprint, when gpg has the key
    signer: str | None = None  # the signer's user id, when gpg has the key
    trust: str | None = None  # how far the home trusts that key: undefined ... ultimate

    @property
    def checked(self) -> bool:
        return self.status not in ("unknown_signer", "error")

    def describe(self) -> str:
        who = f"key {self.key_id}" + (f" ({self.signer})" if self.signer else "")
        trust = f"; the GnuPG home's trust in the key: {self.trust}" if self.trust else ""
        return f"signed by {who}: {_SAYS.get(self.status, self.status)}{trust}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _key_id(value: str) -> str:
    return value[-16:].upper()


def signatures_of(status: list[tuple[str, str]]) -> list[PgpSignature]:
    """Every signature gpg reported, in message order (``NEWSIG`` opens each one)."""
    found: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for keyword, value in status:
        if keyword == "NEWSIG":
            current = {}
            found.append(current)
            continue
        if keyword not in (*_RESULTS, "ERRSIG", "VALIDSIG", *_TRUST):
            continue
        if current is None:
            current = {}
            found.append(current)
        if keyword in _RESULTS:
            key, _, user = value.partition(" ")
            current.update(key_id=_key_id(key), status=_RESULTS[keyword])
            if user:
                current["signer"] = unquote(user)
        elif keyword == "ERRSIG":
            fields = value.split(" ")
            current["key_id"] = _key_id(fields[0])
            code = fields[5] if len(fields) > 5 else ""
            current["status"] = "unknown_signer" if code == _ERRSIG_NO_PUBKEY else "error"
            if len(fields) > 6 and fields[6] not in ("", "-"):
                current["fingerprint"] = fields[6].upper()
        elif keyword == "VALIDSIG":
            fields = value.split(" ")
            current["fingerprint"] = fields[0].upper()  # the key that made the signature
        else:
            current["trust"] = _TRUST[keyword]
    return [
        PgpSignature(
            key_id=s.get("key_id", "?"),
            status=s.get("status", "error"),
            fingerprint=s.get("fingerprint"),
            signer=s.get("signer"),
            trust=s.get("trust"),
        )
        for s in found
        if s
    ]


def refuse_bad(signatures: list[PgpSignature], name: str, details: dict[str, Any]) -> None:
    """``container.pgp_bad_signature`` when a signature does not match the message."""
    bad = [s for s in signatures if s.status == "bad"]
    if bad:
        raise ArchiveError(
            f"{name}: the signature by key {bad[0].key_id} does not match the message: the file "
            "was altered after it was signed, or damaged. Do not use it; ask the vendor for a "
            "new file.",
            code="container.pgp_bad_signature",
            details={**details, "key_ids": [s.key_id for s in bad]},
        )
