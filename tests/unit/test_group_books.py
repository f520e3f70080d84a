"""Where a venue's account, tender and stock location land in the group's books, and a tender's name."""

from __future__ import annotations

import datetime as dt

import pytest

from app.group.books import Maps, Unmapped, tender_label
from app.group.statements import Difference, Statement


def _maps(**overrides: object) -> Maps:
    values: dict[str, object] = {
        "accounts": {"4990": "4040"},
        "tenders": {"3": "1025"},
        "locations": {"Bar": "Central bar"},
        "group_accounts": frozenset({"1010", "1020", "4010", "4040"}),
        "warehouses": frozenset({"Kitchen", "Central bar"}),
    }
    values.update(overrides)
    return Maps(**values)  # type: ignore[arg-type]


def test_a_mapped_account_lands_on_its_mapping_and_an_unmapped_one_on_the_same_code() -> None:
    maps = _maps()
    assert maps.account("4990", None) == "4040"
    assert maps.account("4010", None) == "4010"


def test_a_tenders_own_mapping_wins_over_its_accounts() -> None:
    maps = _maps()
    assert maps.account("1020", "3") == "1025"
    assert maps.account("1020", "4") == "1020"


def test_an_account_the_group_chart_lacks_is_unmapped_with_its_code() -> None:
    with pytest.raises(Unmapped, match="Venue account 4995 is not mapped"):
        _maps().account("4995", None)


def test_a_location_lands_on_its_warehouse_or_the_one_of_the_same_name() -> None:
    maps = _maps()
    assert maps.warehouse("Bar") == "Central bar"
    assert maps.warehouse("Kitchen") == "Kitchen"
    with pytest.raises(Unmapped, match="Terrace is not mapped to a head-office warehouse"):
        maps.warehouse("Terrace")


def test_a_tenders_name_is_read_from_its_takings_memo() -> None:
    assert tender_label("Card") == "Card"
    assert tender_label("Refund: Cash") == "Cash"
    assert tender_label("Tip adjustment") == ""
    assert tender_label("Takings") == ""


def test_a_difference_is_posted_less_the_z_report() -> None:
    assert Difference("NORTH", "Tips", 2593, 0).difference_cents == -2593
    assert Difference("NORTH", "Z report not received", None, None).difference_cents == 0


def test_a_statement_lists_each_reason_once_with_its_records() -> None:
    statement = Statement("NORTH", "North", dt.date(2026, 12, 5))
    statement.exceptions = [(9, "no 2020"), (4, "no 2020"), (7, "locked")]
    assert statement.reasons == [("no 2020", [4, 9]), ("locked", [7])]
