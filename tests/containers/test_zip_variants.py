"""Delivery ZIPs as vendors ship them (issue 18): a seed file beside a readme is chosen; several
seed files are a coded error listing them and naming ``--member``, which picks one."""

from __future__ import annotations

from pathlib import Path

import pytest

from oathdesk.containers import UnwrapOptions, unwrap
from oathdesk.domain import ArchiveError
from oathdesk.service.seedfile import SeedFileOptions, open_seed_file

VARIANTS = Path(__file__).parent.parent / "formats" / "samples" / "variants"


def sample(name: str) -> bytes:
    return (VARIANTS / name).read_bytes()


def test_the_seed_file_beside_a_readme_is_chosen() -> None:
    opened = open_seed_file(sample("zip-seed-and-readme.zip"), "order.zip")
    assert opened.inner_name == "order-4711/tokens.csv" and opened.layers == ["zip"]
    assert opened.format == "entra-csv" and opened.problems == []
    assert [r.serial for r in opened.records] == ["20250001", "20250002"]
    assert opened.locators[0] == "order.zip!order-4711/tokens.csv:2"


def test_several_seed_files_ask_which_one() -> None:
    with pytest.raises(ArchiveError) as caught:
        open_seed_file(sample("zip-two-seed-files.zip"), "two.zip")
    error = caught.value
    assert error.code == "container.multiple_files"
    assert error.details["candidates"] == ["totp30.csv", "totp60.csv"]  # not the PDF
    assert "--member NAME" in error.message and "'totp30.csv', 'totp60.csv'" in error.message


@pytest.mark.parametrize(("member", "period"), [("totp30.csv", 30), ("totp60.csv", 60)])
def test_member_option_picks_one(member: str, period: int) -> None:
    opened = open_seed_file(
        sample("zip-two-seed-files.zip"), "two.zip", SeedFileOptions(member=member)
    )
    assert opened.inner_name == member
    assert [(r.period, r.model) for r in opened.records] == [(period, f"TOTP{period}")]


def test_member_option_naming_no_member_lists_them() -> None:
    with pytest.raises(ArchiveError) as caught:
        unwrap(sample("zip-two-seed-files.zip"), "two.zip", UnwrapOptions(member="totp90.csv"))
    assert caught.value.code == "container.member_not_found"
    assert "'totp30.csv'" in caught.value.message and "'totp60.csv'" in caught.value.message


def test_when_names_cannot_tell_the_content_does() -> None:
    data = sample("zip-seed-by-content.zip")
    with pytest.raises(ArchiveError) as caught:  # the container alone cannot choose
        unwrap(data, "d.zip", UnwrapOptions())
    assert caught.value.details["candidates"] == ["instructions.txt", "tokens.csv.txt"]
    opened = open_seed_file(data, "d.zip")  # the pipeline reads both: one is a seed file
    assert opened.inner_name == "tokens.csv.txt" and opened.format == "entra-csv"
    assert [r.serial for r in opened.records] == ["20250001", "20250002"]


def test_two_real_seed_files_are_still_a_question() -> None:
    with pytest.raises(ArchiveError) as caught:
        open_seed_file(
            sample("zip-two-seed-files.zip"), "two.zip", SeedFileOptions(fmt="entra-csv")
        )
    assert caught.value.code == "container.multiple_files"


def test_a_named_format_also_tells_the_seed_file_by_content() -> None:
    options = SeedFileOptions(fmt="entra-csv")
    opened = open_seed_file(sample("zip-seed-by-content.zip"), "d.zip", options)
    assert opened.inner_name == "tokens.csv.txt" and len(opened.records) == 2
