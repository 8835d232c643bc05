"""Seed file formats: one reader/writer per layout, detection, validation reports.

Depends on ``domain`` only and performs no I/O beyond the bytes it is given.
"""

from oathdesk.formats.base import Capabilities, ReadOptions, ReadResult, SeedFormat, WriteOptions
from oathdesk.formats.registry import (
    FORMAT_IDS,
    all_formats,
    detect,
    get_format,
    read_seeds,
    write_seeds,
    write_seeds_to,
)
from oathdesk.formats.validation import check_target

__all__ = [
    "FORMAT_IDS",
    "Capabilities",
    "ReadOptions",
    "ReadResult",
    "SeedFormat",
    "WriteOptions",
    "all_formats",
    "check_target",
    "detect",
    "get_format",
    "read_seeds",
    "write_seeds",
    "write_seeds_to",
]
