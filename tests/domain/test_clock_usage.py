"""One clock: only ``oathdesk.domain.clock`` reads the machine's time, and tests never wait blind.

Rules checked on the syntax tree (so comments and strings do not count):

* ``src/``: no ``datetime.now/utcnow/today``, ``date.today``, ``time.time``,
  ``time.monotonic``, ``time.perf_counter`` (called or passed as a function, ``_ns`` forms
  included, however imported) and no column ``default=``/``onupdate=`` of ``utcnow``, outside
  ``src/oathdesk/domain/clock.py``.
* ``tests/``: ``time.sleep`` only inside a ``while`` loop that compares against a deadline
  (a name or attribute with "deadline" in it, in the loop's condition or body): a polling loop
  that gives up. Anything else must wait for a signal or move a :class:`FixedClock`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "oathdesk"
TESTS = ROOT / "tests"
CLOCK_MODULE = SRC / "domain" / "clock.py"

TIME_READERS = {
    "time",
    "time_ns",
    "monotonic",
    "monotonic_ns",
    "perf_counter",
    "perf_counter_ns",
}
DATETIME_READERS = {"now", "utcnow", "today"}
COLUMN_HOOKS = {"default", "onupdate", "server_default", "server_onupdate"}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


class _Imports(ast.NodeVisitor):
    """Which local names stand for the ``time`` and ``datetime`` modules and their members."""

    def __init__(self) -> None:
        self.time_modules: set[str] = set()
        self.datetime_modules: set[str] = set()
        self.time_names: dict[str, str] = {}  # local name -> time.<member>
        self.date_classes: set[str] = set()  # local names of datetime.datetime / datetime.date

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == "time":
                self.time_modules.add(alias.asname or "time")
            elif alias.name == "datetime":
                self.datetime_modules.add(alias.asname or "datetime")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if node.module == "time":
                self.time_names[alias.asname or alias.name] = alias.name
            elif node.module == "datetime" and alias.name in ("datetime", "date"):
                self.date_classes.add(alias.asname or alias.name)


def _imports(tree: ast.AST) -> _Imports:
    found = _Imports()
    found.visit(tree)
    return found


def _is_date_class(node: ast.expr, names: _Imports) -> bool:
    if isinstance(node, ast.Name):
        return node.id in names.date_classes
    return (
        isinstance(node, ast.Attribute)
        and node.attr in ("datetime", "date")
        and isinstance(node.value, ast.Name)
        and node.value.id in names.datetime_modules
    )


def _named(node: ast.expr, name: str) -> bool:
    return (isinstance(node, ast.Name) and node.id == name) or (
        isinstance(node, ast.Attribute) and node.attr == name
    )


def clock_reads(source: str, path: str = "<string>") -> list[Finding]:
    """Every place in ``source`` that reads the machine's time or defaults a column to it."""
    tree = ast.parse(source, path)
    names = _imports(tree)
    found: list[Finding] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            base = node.value
            if (
                isinstance(base, ast.Name)
                and base.id in names.time_modules
                and node.attr in TIME_READERS
            ):
                found.append(Finding(path, node.lineno, f"time.{node.attr}"))
            elif node.attr in DATETIME_READERS and _is_date_class(base, names):
                found.append(Finding(path, node.lineno, f"{ast.unparse(base)}.{node.attr}"))
        elif isinstance(node, ast.Name) and names.time_names.get(node.id) in TIME_READERS:
            found.append(Finding(path, node.lineno, f"time.{names.time_names[node.id]}"))
        elif (
            isinstance(node, ast.keyword)
            and node.arg in COLUMN_HOOKS
            and _named(node.value, "utcnow")
        ):
            found.append(Finding(path, node.value.lineno, f"{node.arg}=utcnow"))
    return found


def _loop_checks_deadline(loop: ast.While) -> bool:
    def mentions_deadline(expr: ast.AST) -> bool:
        return any(
            (isinstance(n, ast.Name) and "deadline" in n.id.lower())
            or (isinstance(n, ast.Attribute) and "deadline" in n.attr.lower())
            for n in ast.walk(expr)
        )

    nodes: list[ast.AST] = []
    todo: list[ast.AST] = [loop.test, *loop.body]
    while todo:  # the body, without descending into functions defined inside it
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        nodes.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return any(isinstance(n, ast.Compare) and mentions_deadline(n) for n in nodes)


def _sleeps(tree: ast.AST, names: _Imports) -> Iterator[tuple[ast.Call, list[ast.AST]]]:
    """Each ``time.sleep(...)`` call with its enclosing nodes (innermost last)."""
    stack: list[ast.AST] = []

    def visit(node: ast.AST) -> Iterator[tuple[ast.Call, list[ast.AST]]]:
        if isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "sleep"
                and isinstance(func.value, ast.Name)
                and func.value.id in names.time_modules
            ) or (isinstance(func, ast.Name) and names.time_names.get(func.id) == "sleep"):
                yield node, list(stack)
        stack.append(node)
        for child in ast.iter_child_nodes(node):
            yield from visit(child)
        stack.pop()

    yield from visit(tree)


def blind_sleeps(source: str, path: str = "<string>") -> list[Finding]:
    """Every ``time.sleep`` not inside a ``while`` loop bounded by a deadline."""
    tree = ast.parse(source, path)
    names = _imports(tree)
    found: list[Finding] = []
    for call, enclosing in _sleeps(tree, names):
        loop = None
        for node in reversed(enclosing):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                break
            if isinstance(node, ast.While | ast.For | ast.AsyncFor):
                loop = node
                break
        if not (isinstance(loop, ast.While) and _loop_checks_deadline(loop)):
            found.append(Finding(path, call.lineno, "time.sleep outside a loop with a deadline"))
    return found


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _scan(root: Path, check: object, skip: frozenset[Path] = frozenset()) -> list[str]:
    assert callable(check)
    found: list[str] = []
    for path in _files(root):
        if path not in skip:
            rel = str(path.relative_to(ROOT))
            found.extend(str(f) for f in check(path.read_text(encoding="utf-8"), rel))
    return found


def test_only_the_clock_module_reads_the_time() -> None:
    found = _scan(SRC, clock_reads, frozenset({CLOCK_MODULE}))
    assert not found, "read the time through an injected Clock:\n" + "\n".join(found)


def test_the_clock_module_is_where_the_time_is_read() -> None:
    reads = clock_reads(CLOCK_MODULE.read_text(encoding="utf-8"))
    assert {f.what for f in reads} == {"time.time", "time.monotonic"}


def test_tests_sleep_only_in_polling_loops_with_a_deadline() -> None:
    found = _scan(TESTS, blind_sleeps)
    assert not found, "wait for a signal, poll with a deadline, or move a clock:\n" + "\n".join(
        found
    )


@pytest.mark.parametrize(
    ("source", "what"),
    [
        ("import time\nx = time.time()", "time.time"),
        ("import time as t\nf = t.monotonic", "time.monotonic"),
        ("from time import perf_counter as pc\npc()", "time.perf_counter"),
        ("from time import time_ns\ntime_ns()", "time.time_ns"),
        ("from datetime import datetime\ndatetime.now()", "datetime.now"),
        ("from datetime import datetime as D\nD.utcnow()", "D.utcnow"),
        ("import datetime as dt\ndt.datetime.now(dt.UTC)", "dt.datetime.now"),
        ("import datetime\ndatetime.date.today()", "datetime.date.today"),
        ("c = mapped_column(UTCDateTime(), default=utcnow)", "default=utcnow"),
        ("c = mapped_column(UTCDateTime(), onupdate=models.utcnow)", "onupdate=utcnow"),
    ],
)
def test_the_scanner_finds_each_way_of_reading_the_time(source: str, what: str) -> None:
    assert [f.what for f in clock_reads(source)] == [what]


@pytest.mark.parametrize(
    "source",
    [
        "def now(clock):\n    return clock.now()",
        "import time\ntime.sleep(1)",
        "from datetime import datetime\ndatetime.fromtimestamp(0)",
        "x = Inventory(clock=clock).now()",
        "# datetime.now() in a comment\ns = 'time.time()'",
    ],
)
def test_the_scanner_leaves_the_rest_alone(source: str) -> None:
    assert clock_reads(source) == []


POLL_OK = """
import time
def wait(deadline):
    while not ready():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    while time.monotonic() < deadline and not ready():
        time.sleep(0.1)
"""

BLIND = [
    "import time\ntime.sleep(1)",
    "from time import sleep\ndef f():\n    sleep(0.5)",
    "import time\nfor _ in range(50):\n    time.sleep(0.2)",
    "import time\nwhile not ready():\n    time.sleep(0.2)",
    "import time\nwhile x < deadline:\n    def inner():\n        time.sleep(1)",
    "import time\nwhile True:\n    def f(deadline):\n        return 1 < deadline\n"
    "    time.sleep(1)",
]


def test_polling_loops_with_a_deadline_may_sleep() -> None:
    assert blind_sleeps(POLL_OK) == []


@pytest.mark.parametrize("source", BLIND)
def test_other_sleeps_are_found(source: str) -> None:
    assert len(blind_sleeps(source)) == 1
