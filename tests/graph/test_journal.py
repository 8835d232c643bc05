"""The upload journal: what it records, how it survives a kill, and that it holds no secret."""

from __future__ import annotations

from pathlib import Path

from oathdesk.graph import Journal, journal_path


def _journal(path: Path, tenant: str = "t1") -> Journal:
    return Journal(path, tenant=tenant, base_url="https://graph.example/beta")


def test_sits_beside_the_seed_file() -> None:
    assert journal_path(Path("/x/tokens.csv")) == Path("/x/tokens.csv.oathdesk-upload.jsonl")


def test_records_outcomes_and_sent_serials_and_reloads_them(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    j = _journal(path)
    j.open(fresh=True)
    j.sent(["A", "B", "C", "D"])
    j.result(created={"A": "id-a"}, present={"B": "id-b"}, failed={"C": "graph.item.badRequest"})
    j.close()
    state = _journal(path).load()
    assert state.done == {"A": ("created", "id-a"), "B": ("present", "id-b")}
    assert state.sent == {"C", "D"} and state.failed == {"C": "graph.item.badRequest"}
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_a_line_cut_short_by_a_kill_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    j = _journal(path)
    j.open(fresh=True)
    j.result(created={"A": "id-a"})
    j.close()
    with path.open("a") as fh:
        fh.write('{"kind":"result","created":{"B":"id')
    assert _journal(path).load().done == {"A": ("created", "id-a")}
    again = _journal(path)
    again.open(fresh=False)  # appending after the cut line still works
    again.result(created={"C": "id-c"})
    again.close()
    assert set(_journal(path).load().done) == {"A", "C"}


def test_a_journal_of_another_tenant_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    j = _journal(path, tenant="t1")
    j.open(fresh=True)
    j.result(created={"A": "id-a"})
    j.close()
    assert _journal(path, tenant="t2").load().done == {}
    assert _journal(path, tenant="t1").load().done == {"A": ("created", "id-a")}
