"""Why ``oathdesk.service`` imports its names on first use: opening a seed file
(``service.seedfile``) must not load the store, SQLAlchemy, HTTP clients or Graph code. Each
probe runs in a fresh interpreter, so what it finds in ``sys.modules`` is what the import did."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("sqlalchemy", "httpx", "oathdesk.store", "oathdesk.graph", "oathdesk.service.context")


def _probe(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout.strip()


def test_opening_a_seed_file_loads_no_store_graph_or_http_code() -> None:
    code = (
        "import sys\nfrom oathdesk.service.seedfile import open_seed_file\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    assert _probe(code) == ""


def test_the_probe_sees_the_heavy_modules_once_a_use_case_is_asked_for() -> None:
    code = (
        "import sys\nfrom oathdesk.service import Inventory\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    assert set(_probe(code).split(",")) == set(HEAVY)


def test_every_exported_name_resolves_and_a_function_wins_over_its_submodule() -> None:
    code = (
        "import types\nimport oathdesk.service.identify\nimport oathdesk.service as s\n"
        "from oathdesk.service import identify\n"
        "assert all(getattr(s, n) is not None for n in s.__all__)\n"
        "print(isinstance(identify, types.ModuleType), identify is s.identify, callable(identify))"
    )
    assert _probe(code) == "False True True"


def test_an_unknown_name_is_an_import_error() -> None:
    code = (
        "try:\n    from oathdesk.service import no_such_use_case\n"
        "except ImportError as exc:\n    print(type(exc).__name__)"
    )
    assert _probe(code) == "ImportError"
