"""The customer's e-mail address: exactly one addr-spec, normalised, at the customer's domain.

Why a real parser: the link mailed to this address is the way to the seed file. A string check
on the text after the last ``@`` let ``attacker@evil.example (it@contoso.example`` and lists with
a comma through, and ``smtplib`` then took its envelope recipients from the parsed ``To:``
header, which named the attacker. Here ``email-validator`` accepts one bare addr-spec (no display
name, angle brackets, comments, quoted local part, domain literal or list); the domain is
compared in its IDNA (ASCII) form, so a look-alike in another script is another domain; only the
manifest's exact domain receives (a subdomain does not). The normalised address is what is
stored, shown and used as the one envelope recipient.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from oathdesk.delivery.context import DeliveryError

MAX_LENGTH = 254  # RFC 5321's limit on a forward path


def parse_address(typed: str) -> str:
    """The one normalised addr-spec in ``typed`` (ASCII local part, domain in IDNA form,
    lower case), or ``delivery.invalid_email``."""
    text = typed.strip()
    try:
        if len(text) > MAX_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in text):
            raise EmailNotValidError("control characters or too long")
        found = validate_email(
            text,
            allow_smtputf8=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
            check_deliverability=False,
            globally_deliverable=False,
        )
    except EmailNotValidError:
        raise DeliveryError(
            "Type one e-mail address only (name@company.example): no name, brackets, "
            "comments or second address.",
            code="delivery.invalid_email",
        ) from None
    return found.ascii_email or f"{found.local_part}@{found.ascii_domain}"


def domain_of(address: str) -> str:
    """The domain of an address :func:`parse_address` returned."""
    return address.rpartition("@")[2]


def same_domain(address: str, customer_domain: str) -> bool:
    """Whether ``address`` (normalised) is at exactly the customer's domain (compared in IDNA
    form, so a manifest may name the domain in Unicode or ASCII)."""
    wanted = customer_domain.strip().lower().rstrip(".")
    try:
        wanted = domain_of(parse_address(f"postmaster@{wanted}"))
    except DeliveryError:
        return False
    return domain_of(address) == wanted
