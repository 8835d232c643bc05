"""The PSKC reader's problem messages, each saying what is wrong and what to do about it.

Kept apart from ``pskc`` so the reader stays readable; ``{...}`` fields are filled by the reader.
"""

from __future__ import annotations

MESSAGES = {
    "not_pskc": "the root element is <{tag}>, not <KeyContainer>: this is not a PSKC file; "
    "name its real format with --from",
    "version": "PSKC version {version!r} is not supported; RFC 6030 files say 1.0",
    "empty": "the file holds no <KeyPackage>: no tokens",
    "signature": "the file carries an XML signature; oathdesk does not verify it",
    "encryption": "the encryption description cannot be read ({error})",
    "package": "the key package cannot be read: a date, number or base64 value in it is "
    "malformed ({error})",
    "mac": "the MAC of <{tag}> does not match: this value was altered or damaged after the "
    "vendor wrote it; ask the vendor for a new file",
    "undecryptable": "<{tag}> does not decrypt with the key that opens the rest of the file; "
    "the value is damaged",
    "mac_missing": "encrypted values without a MAC (MACMethod, ValueMAC): their integrity "
    "cannot be checked",
    "key_id": "no <DeviceInfo><SerialNo>; the key Id {serial!r} is used as the serial",
    "kind": "key algorithm {algorithm!r} is not OATH HOTP or TOTP; oathdesk handles HOTP and "
    "TOTP tokens only",
    "no_kind": "the key has no Algorithm: it is unknown whether it is TOTP or HOTP; pass --kind",
    "hash": "hash {suite!r} is not supported; tokens use SHA-1, SHA-256 or SHA-512",
    "response": "the token shows {encoding} codes; oathdesk handles decimal codes only",
    "no_secret": "the key has no secret value (<Data><Secret><PlainValue>)",
}
