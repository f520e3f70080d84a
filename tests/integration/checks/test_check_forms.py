"""The check pages' forms are typed: a missing or malformed field is refused by its label, and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest

from app.checks.models import CheckDiscount, CheckSplit, Payment, PaymentAttempt
from tests.integration.checks.arrange import FOUR_TOP, check_row, money, post, ring_in, rows


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("split/even", {"ways": "three"}, "Ways must be a whole number."),
        ("split/even", {"ways": "1"}, "Ways must be at least 2."),
        ("split/even", {}, "Ways is required."),
        ("split/items", {"line_ids": ["first"]}, "The items must be a whole number."),
        ("split/items", {"line_ids": ["0"]}, "The items must be at least 1."),
        ("split/share", {"ways": "2"}, "The item is required."),
        ("settle/discount", {"kind": "percent", "value": "10", "line_id": "soup"}, "The item must be a whole number."),
        (
            "settle/discount",
            {"kind": "percent", "value": "10", "version": "v2"},
            "The check version must be a whole number.",
        ),
        ("pay", {"amount": "10.00"}, "The tender is required."),
        ("pay", {"tender_id": "cash", "amount": "10.00"}, "The tender must be a whole number."),
    ],
)
async def test_a_malformed_field_is_refused_by_its_label_and_changes_nothing(
    server: Any, runtime: Any, path: str, data: dict[str, Any], message: str
) -> None:
    arranged = await ring_in(runtime, items=FOUR_TOP)
    version = (await check_row(runtime, arranged.check_id)).version
    response = await post(server, runtime, arranged.check_id, path, data)
    assert response.status_code == 422, response.text
    assert message in response.text
    assert (await check_row(runtime, arranged.check_id)).version == version
    for model in (CheckSplit, CheckDiscount, PaymentAttempt, Payment):
        assert await rows(runtime, model) == []


async def test_one_ticked_item_is_a_list_of_one_and_moves(server: Any, runtime: Any) -> None:
    arranged = await ring_in(runtime, items=FOUR_TOP)
    line = (await money(runtime, arranged.check_id)).live_lines[0]
    response = await post(
        server, runtime, arranged.check_id, "split/items", {"line_ids": str(line.id), "to_check_id": "new"}
    )
    assert response.status_code == 200, response.text
    assert "Moved to check #" in response.text
    assert line.id not in {live.id for live in (await money(runtime, arranged.check_id)).live_lines}


async def test_a_check_chosen_by_a_word_is_refused(server: Any, runtime: Any) -> None:
    arranged = await ring_in(runtime, items=FOUR_TOP)
    line = (await money(runtime, arranged.check_id)).live_lines[0]
    response = await post(
        server, runtime, arranged.check_id, "split/items", {"line_ids": str(line.id), "to_check_id": "the other"}
    )
    assert response.status_code == 422
    assert "The check must be chosen from the list." in response.text
    assert await rows(runtime, CheckSplit) == []
