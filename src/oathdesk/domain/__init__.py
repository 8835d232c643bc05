"""Pure types shared by every layer: secrets, seed records, problems, errors, the clock.

Standard library only; nothing here performs I/O.
"""

from oathdesk.domain.clock import Clock, FixedClock, SystemClock
from oathdesk.domain.error_codes import exit_status, http_status, kind_of
from oathdesk.domain.errors import (
    ArchiveError,
    ConfigError,
    ContainerError,
    DecryptionError,
    ErrorKind,
    InputFileError,
    OathdeskError,
    OtpError,
    SeedFileError,
    SeedFileInvalid,
    UnknownFormatError,
    UsageError,
)
from oathdesk.domain.report import Problem, Severity
from oathdesk.domain.secret import Secret, SecretEncodingError
from oathdesk.domain.seed import HashAlgorithm, OtpKind, SeedRecord, parse_hash, spell_hash

__all__ = [
    "ArchiveError",
    "Clock",
    "ConfigError",
    "ContainerError",
    "DecryptionError",
    "ErrorKind",
    "FixedClock",
    "HashAlgorithm",
    "InputFileError",
    "OathdeskError",
    "OtpError",
    "OtpKind",
    "Problem",
    "Secret",
    "SecretEncodingError",
    "SeedFileError",
    "SeedFileInvalid",
    "SeedRecord",
    "Severity",
    "SystemClock",
    "UnknownFormatError",
    "UsageError",
    "exit_status",
    "http_status",
    "kind_of",
    "parse_hash",
    "spell_hash",
]
