"""Validation problems: one entry per thing wrong in an input, with where and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding. ``locator`` names the file and line or XML element; never holds a secret."""

    locator: str
    code: str
    message: str
    severity: Severity = Severity.ERROR
    serial: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_dict(self) -> dict[str, Any]:
        return {
            "locator": self.locator,
            "serial": self.serial,
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
        }
