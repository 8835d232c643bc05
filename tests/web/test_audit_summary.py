"""Every audit action the source writes has a human summary, and the summaries read as sentences
that name who did what to which token, with the reason.

The action names are read from the source itself (an ``ast`` walk over every call that appends
to an audit chain), so a new action without a summary fails here rather than showing as a raw
code on the audit page.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

import oathdesk
from oathdesk.web.audit_summary import SUMMARIES, summarise, who

SRC = Path(oathdesk.__file__).parent
HELPERS = {"audit": 2, "_audit": 2}  # service helpers: (uow, inv, action, ...)
CHAINS = {"audit", "delivery_audit"}  # uow.audit.append(action, ...) / self.audit.append


def _constants(tree: ast.Module) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            pairs: list[tuple[ast.expr, ast.expr]] = [(target, node.value)]
            if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                pairs = list(zip(target.elts, node.value.elts, strict=True))
            for name, value in pairs:
                if isinstance(name, ast.Name) and isinstance(value, ast.Constant):
                    found[name.id] = [str(value.value)]
    return found


def _param_values(tree: ast.Module, name: str, where: ast.AST) -> list[str] | None:
    """A parameter of the function holding ``where``: the literals its callers in the module
    pass for it (positionally or by keyword)."""
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef) or where not in list(ast.walk(func)):
            continue
        names = [a.arg for a in func.args.args]
        if name not in names:
            continue
        index, values = names.index(name), []
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name):
                if call.func.id != func.name:
                    continue
                given = [k.value for k in call.keywords if k.arg == name]
                given += call.args[index : index + 1]
                values += [g.value for g in given if isinstance(g, ast.Constant)]
        return [str(v) for v in values]
    return None


def _values(expr: ast.expr, tree: ast.Module, consts: dict[str, list[str]]) -> list[str]:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return [expr.value]
    if isinstance(expr, ast.IfExp):
        return _values(expr.body, tree, consts) + _values(expr.orelse, tree, consts)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        left, right = _values(expr.left, tree, consts), _values(expr.right, tree, consts)
        return [a + b for a, b in itertools.product(left, right)]
    if isinstance(expr, ast.Name):
        if expr.id in consts:
            return consts[expr.id]
        found = _param_values(tree, expr.id, expr)
        if found is not None:
            return found
    raise AssertionError(f"cannot resolve the audit action {ast.unparse(expr)!r}")


def _helper_param(tree: ast.Module, call: ast.Call) -> bool:
    """A helper's own body forwarding its ``action`` parameter (resolved at its callers)."""
    arg = call.args[0]
    return isinstance(arg, ast.Name) and arg.id == "action"


def written_actions() -> dict[str, set[str]]:
    """Every action name appended to an audit chain in src, with the files that write it."""
    actions: dict[str, set[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        consts = _constants(tree)
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            func, arg = call.func, None
            if isinstance(func, ast.Name) and func.id in HELPERS and len(call.args) > 2:
                arg = call.args[HELPERS[func.id]]
            elif (
                isinstance(func, ast.Attribute)
                and func.attr == "append"
                and isinstance(func.value, ast.Attribute)
                and func.value.attr in CHAINS
                and call.args
            ):
                if _helper_param(tree, call) and path.name in ("_common.py", "accounts.py"):
                    continue  # the helpers themselves: their callers name the action
                arg = call.args[0]
            if arg is None:
                continue
            for action in _values(arg, tree, consts):
                actions.setdefault(action, set()).add(str(path.relative_to(SRC)))
    return actions


def test_the_source_walk_finds_the_actions_it_should() -> None:
    found = written_actions()
    for known in (
        "token.assign",
        "token.activation_failed",
        "sync.push.resume",
        "api_token.create",
    ):
        assert known in found, known
    assert {"legacy.cleanup.start", "legacy.cleanup.done", "delivery.expired"} <= set(found)
    assert len(found) >= 50


def test_every_action_written_in_src_has_a_summary() -> None:
    missing = {a: sorted(files) for a, files in written_actions().items() if a not in SUMMARIES}
    assert missing == {}, f"add a summary in web/audit_summary.py for {missing}"


def test_no_summary_for_an_action_nobody_writes() -> None:
    assert sorted(set(SUMMARIES) - set(written_actions())) == []


def test_every_summary_reads_an_entry_without_details() -> None:
    for action, summary in SUMMARIES.items():
        line = summarise({"action": action, "actor": "local:hal", "subject": None, "details": {}})
        assert line.endswith(".") and len(line) > 10, action
        assert summary({"action": action, "actor": None, "details": None})


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            {
                "action": "token.assign",
                "actor": "local:hal",
                "subject": "SN-1",
                "reason": "ticket 42",
                "details": {"state": "assigned", "user": "grace@contoso.com", "user_id": "u1"},
            },
            "hal assigned token SN-1 to grace@contoso.com (ticket 42).",
        ),
        (
            {
                "action": "token.replace",
                "actor": "entra:ada@contoso.com",
                "subject": "SN-1",
                "reason": "INC-7",
                "details": {"user": "grace@contoso.com", "why": "lost", "replacement": "SN-2"},
            },
            "ada@contoso.com replaced token SN-1 (lost) of grace@contoso.com with SN-2 (INC-7).",
        ),
        (
            {
                "action": "account.roles",
                "actor": "local:ada",
                "subject": "account:hal",
                "details": {"before": ["helpdesk"], "after": ["helpdesk", "delivery"]},
            },
            "ada changed the roles of account hal from helpdesk to helpdesk, delivery.",
        ),
        (
            {
                "action": "api_token.create",
                "actor": "api:root-bot",
                "subject": "api_token:nightly",
                "details": {"roles": ["auditor"], "expires_at": "2027-03-01T10:00:00+00:00"},
            },
            "API token root-bot created API token nightly with role(s) auditor, "
            "valid until 2027-03-01 10:00 UTC.",
        ),
        (
            {
                "action": "auth.signin_failed",
                "actor": "address:10.0.0.9",
                "subject": "account:(unknown)",
                "details": {"address": "10.0.0.9"},
            },
            "A sign-in as (unknown) failed from 10.0.0.9.",
        ),
        (
            {"action": "token.future_thing", "actor": "cli:root", "subject": "SN-9"},
            "root (command line) did token.future_thing on SN-9.",
        ),
    ],
)
def test_summaries_name_who_did_what_to_which_token(
    entry: dict[str, object], expected: str
) -> None:
    assert summarise(entry) == expected


def test_a_long_reason_is_cut_and_actors_read_naturally() -> None:
    line = summarise(
        {"action": "token.lost", "actor": "local:hal", "subject": "A", "reason": "x" * 300}
    )
    assert len(line) < 200 and line.endswith("…).")
    assert who("system:expiry") == "oathdesk (expiry)"
    assert who("customer:it@fabrikam.com") == "customer it@fabrikam.com"
    assert who("test") == "test" and who(None) == "someone"


def test_details_of_an_unexpected_shape_still_give_a_line() -> None:
    odd = {"serials": 7, "after": ["x"], "filter": "all", "roles": None, "count": "many"}
    for action in SUMMARIES:
        entry = {"action": action, "actor": "local:hal", "subject": "S-1", "details": odd}
        line = summarise(entry)
        assert line.endswith(".") and len(line) > 10, (action, line)
