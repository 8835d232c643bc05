"""Import jobs (``service.ImportJobs``, ``service.run_push``) on SQLite and PostgreSQL against the
real HTTPS emulator: a job ends done with the push's counts, a push that cannot start ends the
job failed with its code, and another inventory on the same database (another server process)
reads the same job."""

from __future__ import annotations

import pytest

from oathdesk.bootstrap import build_inventory
from oathdesk.config import Config
from oathdesk.service import ImportJobs, ImportRefused, Inventory, import_seeds, run_push
from tests.service import support


def test_a_job_is_pushed_to_done_and_seen_by_another_inventory(inv: Inventory, cfg: Config) -> None:
    report = import_seeds(inv, support.entra_csv("SJ", 3), "plain.csv", actor="test")
    jobs = ImportJobs(inv)
    job = jobs.open("web:ada", report.to_dict(), 3)
    assert (job.state, job.done, job.total, job.to_dict()["percent"]) == ("running", 0, 3, 0)
    run_push(inv, job.id, "web:ada", report.batch_id)
    other = build_inventory(cfg)
    try:
        seen = ImportJobs(other).get(job.id).to_dict()
    finally:
        other.close()
    assert (seen["state"], seen["done"], seen["total"], seen["percent"]) == ("done", 3, 3, 100)
    assert seen["push"]["created"] == 3 and seen["import"]["added"] == 3
    assert seen["error"] is None and seen["error_code"] is None
    for wrong in ("no-such-job", "nul\x00in-it", "x" * 500, "\udcff"):
        with pytest.raises(ImportRefused) as caught:
            jobs.get(wrong)
        assert caught.value.code == "import.not_found"


def test_a_job_with_nothing_to_push_is_done_at_once(inv: Inventory) -> None:
    job = ImportJobs(inv).open("web:ada", {"added": 0, "already_imported": True}, 0)
    assert ImportJobs(inv).get(job.id).to_dict()["state"] == "done"


def test_a_push_that_cannot_start_fails_the_job_with_its_code(cfg: Config) -> None:
    offline = build_inventory(
        Config(sections={k: v for k, v in cfg.sections.items() if k != "graph"})
    )
    try:
        report = import_seeds(offline, support.entra_csv("SF", 2), "plain.csv", actor="test")
        job = ImportJobs(offline).open("web:ada", report.to_dict(), 2)
        run_push(offline, job.id, "web:ada", report.batch_id)  # raises nothing: a thread's body
        failed = ImportJobs(offline).get(job.id)
    finally:
        offline.close()
    assert (failed.state, failed.error_code) == ("failed", "config.graph_missing")
    assert failed.error and "[graph]" in failed.error
    assert failed.to_dict()["percent"] == 100
