"""The suite's SQLite: a database file in the test's own ``tmp_path`` (``sqlite_url``).

A pytest plugin (the root conftest lists it); nothing is shared between tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """The URL of an empty (not yet created) SQLite file in this test's ``tmp_path``."""
    return f"sqlite:///{tmp_path / 'test.db'}"
