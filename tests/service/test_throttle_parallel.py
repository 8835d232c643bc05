"""Self-service limits hold exactly under concurrency, on SQLite and PostgreSQL: parallel wrong
codes (or unknown serials) get at most the limit's checks, the rest ``selfservice.rate_limited``,
and never any other error."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from oathdesk.domain import OathdeskError
from oathdesk.service import Inventory
from oathdesk.service.selfservice import Limits, enroll
from tests.service.fixtures import Emu
from tests.service.selfservice_seed import stock
from tests.service.support import secret_for, serial, upn, wrong_code

PARALLEL = 40


def _answers(attempt: Callable[[int], object]) -> Counter[str]:
    """Run ``attempt(i)`` in ``PARALLEL`` threads released at once; the error code of each."""
    start = Barrier(PARALLEL)

    def one(i: int) -> str:
        start.wait()
        try:
            attempt(i)
        except OathdeskError as exc:
            return exc.code
        return "accepted"

    with ThreadPoolExecutor(PARALLEL) as pool:
        return Counter(pool.map(one, range(PARALLEL)))


def test_parallel_wrong_codes_for_one_token_get_exactly_the_limit(inv: Inventory, emu: Emu) -> None:
    stock(inv, "PW", 1)
    sn, bad, limit = serial("PW", 0), wrong_code(secret_for("PW", 0)), Limits().token_failures
    ada = upn("ada")
    answers = _answers(lambda _: enroll(inv, ada, sn, "Mine", bad, actor=f"local:{ada}"))
    assert answers == Counter(
        {"service.code_rejected": limit, "selfservice.rate_limited": PARALLEL - limit}
    ), answers


def test_parallel_unknown_serials_of_one_user_get_exactly_the_limit(
    inv: Inventory, emu: Emu
) -> None:
    grace, limit = upn("grace"), Limits().user_failures
    answers = _answers(
        lambda i: enroll(inv, grace, f"NOPE-{i}", "Mine", "000000", actor=f"local:{grace}")
    )
    assert answers == Counter(
        {"selfservice.not_claimable": limit, "selfservice.rate_limited": PARALLEL - limit}
    ), answers
