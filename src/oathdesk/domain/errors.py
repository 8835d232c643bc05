"""The oathdesk error tree.

Every failure a person can meet is an ``OathdeskError`` with a stable ``code`` (shown by the CLI
and by the API in ``{"error": {"code", "message", "details"}}``) and a message that says what to
do. The code names a ``kind`` (domain/error_registry.py), and the kind alone decides the HTTP
status and the CLI exit status (domain/error_codes.py). Messages never contain secret material.

    OathdeskError
    ├── ConfigError                 config.*
    ├── UsageError                  usage.*
    ├── InputFileError              file.*        (cannot read or write a file)
    ├── SeedFileError               seed.*
    │   ├── UnknownFormatError      seed.unknown_format / seed.ambiguous_format
    │   └── SeedFileInvalid         seed.invalid  (carries the problem report)
    ├── ContainerError              container.*
    │   ├── DecryptionError         container.wrong_password / wrong_key / key_required ...
    │   └── ArchiveError            container.corrupt / multiple_files / too_large ...
    └── OtpError                    otp.*
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from oathdesk.domain.report import Problem
from oathdesk.domain.wording import sentence


class ErrorKind(StrEnum):
    """What went wrong, in the terms a caller acts on; each kind has one HTTP and one exit
    status (``error_codes.KIND_STATUS``), the code says precisely what."""

    INVALID_INPUT = "invalid_input"
    USAGE = "usage"
    INVALID_REQUEST = "invalid_request"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    FILE = "file"
    DECRYPTION = "decryption"
    ARCHIVE = "archive"
    CONFIG = "config"
    NOT_FOUND = "not_found"
    GONE = "gone"
    CONFLICT = "conflict"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    THROTTLED = "throttled"
    UNAVAILABLE = "unavailable"
    REMOTE = "remote"
    INTEGRITY = "integrity"
    INTERNAL = "internal"


class OathdeskError(Exception):
    """Base of every error meant for a person; ``code`` is stable, ``message`` is actionable
    and a sentence (``domain.wording.sentence``: capital first letter, final full stop)."""

    code: str = "oathdesk.error"
    as_sentence: bool = True  # False: the message keeps its case (the emulator speaks Graph)

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        if self.as_sentence:
            message = sentence(message)  # a message composed at run time is one too
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = dict(details or {})

    def __str__(self) -> str:
        return self.message

    @property
    def kind(self) -> ErrorKind:
        """The registered kind of ``code`` (see ``error_codes.kind_of``)."""
        from oathdesk.domain.error_codes import kind_of  # the registry imports this module

        return kind_of(self)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class ConfigError(OathdeskError):
    """The configuration file or an ``OATHDESK_*`` variable is wrong."""

    code = "config.invalid"


class UsageError(OathdeskError):
    """A command was called with options that do not fit together."""

    code = "usage.invalid"


class InputFileError(OathdeskError):
    """A file could not be read or written (missing, unreadable, a directory...)."""

    code = "file.unreadable"


class SeedFileError(OathdeskError):
    """Something is wrong with a seed file's content."""

    code = "seed.error"


class UnknownFormatError(SeedFileError):
    """The format of a seed file could not be told, or a format id is unknown."""

    code = "seed.unknown_format"

    def __init__(
        self, message: str, *, code: str | None = None, candidates: Sequence[str] = ()
    ) -> None:
        super().__init__(message, code=code, details={"candidates": list(candidates)})
        self.candidates = list(candidates)


class SeedFileInvalid(SeedFileError):
    """A seed file has problems of error severity; nothing from it was used."""

    code = "seed.invalid"

    def __init__(self, message: str, problems: Sequence[Problem]) -> None:
        super().__init__(message, details={"problems": [p.to_dict() for p in problems]})
        self.problems = list(problems)


class ContainerError(OathdeskError):
    """A delivery envelope (ZIP, PGP) could not be opened or made."""

    code = "container.error"


class DecryptionError(ContainerError):
    """Wrong or missing password, key or passphrase."""

    code = "container.decryption_failed"


class ArchiveError(ContainerError):
    """A corrupt, oversized or ambiguous archive."""

    code = "container.corrupt"


class OtpError(OathdeskError):
    """An OTP computation was asked with impossible parameters."""

    code = "otp.invalid"
