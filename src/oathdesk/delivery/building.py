"""Turn sealed tokens into the file a customer asked for: format, custom CSV layout, encryption.

Why here and nowhere else: the same function checks a request when it is made (can this format
hold these tokens? does this key encrypt?) and builds the file on approval, so what the
delivery team approves is exactly what the customer chose. Everything stays in memory.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oathdesk.containers import encrypt_pgp, wrap_zip
from oathdesk.delivery.context import DeliveryError
from oathdesk.domain import ContainerError, HashAlgorithm, OtpKind, Secret, SeedRecord
from oathdesk.domain.wording import sentence
from oathdesk.formats import FORMAT_IDS, WriteOptions, write_seeds
from oathdesk.formats.csv_engine import PROPERTIES, Column, CsvProfile
from oathdesk.store import DELIVERY_TENANT, OrderRepository, SealedValue, Sealer

ENCRYPTIONS = ("password", "pgp", "both")
PACKAGINGS = ("combined", "per_shipment")
ENCODINGS = ("hex", "base32", "base64")
FIELD_PROPERTIES = tuple(p for p in PROPERTIES if p != "ignore")
EXTENSIONS = {
    "entra-json": ".json",
    "pskc": ".xml",
    "dualshield-xml": ".xml",
    "otpauth": ".txt",
}


@dataclass(frozen=True)
class CustomField:
    header: str
    property: str | None = None  # a token property, or None for a fixed value
    value: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"header": self.header, "property": self.property, "value": self.value}


@dataclass(frozen=True)
class CustomLayout:
    """The custom CSV builder's answer: fields in order, header row on/off, secret encoding."""

    fields: tuple[CustomField, ...]
    header_row: bool = True
    secret_encoding: str = "base32"

    def to_dict(self) -> dict[str, Any]:
        return {
            "fields": [f.to_dict() for f in self.fields],
            "header_row": self.header_row,
            "secret_encoding": self.secret_encoding,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CustomLayout:
        return cls(
            fields=tuple(
                CustomField(str(f["header"]), f.get("property"), str(f.get("value", "")))
                for f in data.get("fields", [])
            ),
            header_row=bool(data.get("header_row", True)),
            secret_encoding=str(data.get("secret_encoding", "base32")),
        )

    def profile(self) -> CsvProfile:
        """The CSV engine profile this layout describes (checked: serial and secret present)."""
        if self.secret_encoding not in ENCODINGS:
            raise _invalid(f"Secret encoding must be one of {', '.join(ENCODINGS)}.")
        if not self.fields:
            raise _invalid("Add at least the serial and the secret fields.")
        columns = []
        for number, item in enumerate(self.fields, start=1):
            if item.property is not None and item.property not in FIELD_PROPERTIES:
                raise _invalid(f"Field {number}: unknown token property {item.property!r}.")
            if self.header_row and not item.header.strip():
                raise _invalid(f"Field {number} needs a header text (or turn the header row off).")
            columns.append(
                Column(
                    header=item.header.strip() or f"field{number}",
                    property=item.property,
                    value=None if item.property else item.value,
                )
            )
        props = {c.property for c in columns}
        if not {"serial", "secret"} <= props:
            raise _invalid("The layout needs a 'serial' field and a 'secret' field.")
        return CsvProfile(
            name="custom layout",
            columns=tuple(columns),
            header_row=self.header_row,
            secret_encoding=self.secret_encoding,
            secret_case="lower" if self.secret_encoding == "hex" else "upper",
            secret_padding=self.secret_encoding == "base64",
        )


def _invalid(message: str) -> DeliveryError:
    return DeliveryError(message, code="delivery.invalid_layout")


def check_format(fmt: str) -> None:
    if fmt not in FORMAT_IDS:
        raise DeliveryError(
            f"Unknown format {fmt!r}; formats are {', '.join(FORMAT_IDS)}.",
            code="delivery.invalid_format",
        )


def records_by_shipment(
    orders: OrderRepository, sealer: Sealer, shipment_ids: Sequence[int]
) -> dict[str, list[SeedRecord]]:
    """Open the sealed seeds of the shipments, grouped by shipment number in serial order."""
    grouped: dict[str, list[SeedRecord]] = {}
    for number, tok in orders.sealed_tokens(shipment_ids):
        secret = sealer.open(
            SealedValue(tok.key_id, tok.sealed), serial=tok.serial, tenant=DELIVERY_TENANT
        )
        grouped.setdefault(number, []).append(
            SeedRecord(
                serial=tok.serial,
                secret=secret,
                kind=OtpKind(tok.kind),
                period=tok.period,
                t0=tok.t0,
                digits=tok.digits,
                algorithm=HashAlgorithm(tok.algorithm),
                counter=tok.counter,
                manufacturer=tok.manufacturer,
                model=tok.model,
            )
        )
    return grouped


def render(records: Sequence[SeedRecord], fmt: str, layout: CustomLayout | None) -> bytes:
    """The plain seed file; ``seed.not_expressible`` when the format cannot hold the tokens."""
    options = WriteOptions(profile=layout.profile()) if fmt == "custom-csv" and layout else None
    if fmt == "custom-csv" and options is None:
        raise _invalid("The custom CSV format needs a layout.")
    return write_seeds(records, fmt, options)


def plain_name(label: str, fmt: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in label)[:80] or "seeds"
    return f"seeds-{safe}{EXTENSIONS.get(fmt, '.csv')}"


def pgp_encrypt(data: bytes, public_key: str) -> bytes:
    """Encrypt to the pasted key (gpg in a throw-away home); errors say what is wrong with it."""
    with tempfile.TemporaryDirectory(prefix="oathdesk-key-") as folder:
        key_file = Path(folder) / "recipient.asc"
        key_file.write_text(public_key, encoding="utf-8")
        try:
            return encrypt_pgp(data, key_file, armor=True)
        except ContainerError as exc:  # the message names our temporary file: drop it
            exc.message = sentence(exc.message.removeprefix(f"{key_file}: "))
            raise


def envelope(
    data: bytes, name: str, encryption: str, password: Secret | None, public_key: str | None
) -> tuple[bytes, str]:
    """Encrypt as chosen: a password ZIP, a PGP message, or PGP inside a password ZIP."""
    if encryption in ("pgp", "both"):
        if not public_key:
            raise DeliveryError("A PGP public key is needed.", code="delivery.pgp_key_missing")
        data, name = pgp_encrypt(data, public_key), name + ".asc"
    if encryption in ("password", "both"):
        if password is None:
            raise DeliveryError("A password is needed.", code="delivery.password_missing")
        data = wrap_zip(data, name, password)
        name = name.rsplit(".", 1)[0] if name.endswith(".asc") else name
        name = name.rsplit(".", 1)[0] + ".zip"
    return data, name
