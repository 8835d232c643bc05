"""RFC 4226/6238 codes, verification with windows, replay and drift, and the identify index.

Time is always an argument here: nothing in ``otp`` reads a clock.
"""

from oathdesk.otp.core import (
    MAX_DIGITS,
    MIN_DIGITS,
    OtpKey,
    OtpSpec,
    hotp,
    normalize_code,
    step_start,
    time_step,
    totp,
    well_formed,
)
from oathdesk.otp.identify import Candidate, CodeIndex
from oathdesk.otp.verify import (
    DEFAULT_HOTP_LOOKAHEAD,
    DEFAULT_TOTP_WINDOW,
    HOTP_RESYNC_WINDOW,
    OtpState,
    Outcome,
    Verification,
    activation_window,
    claim_window,
    match_totp,
    resync,
    sign_in_window,
    verify,
)

__all__ = [
    "DEFAULT_HOTP_LOOKAHEAD",
    "DEFAULT_TOTP_WINDOW",
    "HOTP_RESYNC_WINDOW",
    "MAX_DIGITS",
    "MIN_DIGITS",
    "Candidate",
    "CodeIndex",
    "OtpKey",
    "OtpSpec",
    "OtpState",
    "Outcome",
    "Verification",
    "activation_window",
    "claim_window",
    "hotp",
    "match_totp",
    "normalize_code",
    "resync",
    "sign_in_window",
    "step_start",
    "time_step",
    "totp",
    "verify",
    "well_formed",
]
