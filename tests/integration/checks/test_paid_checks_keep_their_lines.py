"""Money taken on a check stays covered: moving or merging its items away cannot leave it below what was paid."""

from __future__ import annotations

from typing import Any

from app.checks.models import Payment
from app.orders.models import CheckLine, CheckStatus
from tests.integration.checks.arrange import check_row, money, post, ring_in, rows, tenders

DINNER = [(1, "PA-CAR"), (1, "BR-CID"), (2, "PA-RIS"), (2, "SD-LEM")]


async def _partly_paid(server: Any, runtime: Any, amount: str) -> tuple[int, int]:
    """Table 5 with dinner and `amount` paid in cash, and table 7 with one item: (paid check, other check)."""
    paid = await ring_in(runtime, items=DINNER)
    other = await ring_in(runtime, items=[(1, "SD-LEM")], table="7")
    cash = (await tenders(runtime))["Cash"]
    response = await post(server, runtime, paid.check_id, "pay", {"tender_id": str(cash), "amount": amount})
    assert response.status_code == 200, response.text
    assert len(await rows(runtime, Payment)) == 1
    return paid.check_id, other.check_id


async def _line_ids(runtime: Any, check_id: int) -> list[int]:
    return sorted(line.id or 0 for line in await rows(runtime, CheckLine, CheckLine.check_id == check_id))


async def test_moving_items_off_a_partly_paid_check_below_what_was_paid_is_refused(
    server: Any, runtime: Any, cash_drawer: Any
) -> None:
    paid_id, other_id = await _partly_paid(server, runtime, "30.00")
    before = (await _line_ids(runtime, paid_id), await _line_ids(runtime, other_id))
    total_before = (await money(runtime, paid_id)).totals.total
    most = before[0][:3]
    response = await post(
        server, runtime, paid_id, "move", {"line_id": [str(i) for i in most], "to_check_id": str(other_id)}
    )
    assert response.status_code == 409, response.text
    assert "already paid. Refund first; nothing was changed." in response.text
    assert (await _line_ids(runtime, paid_id), await _line_ids(runtime, other_id)) == before
    assert (await money(runtime, paid_id)).totals.total == total_before


async def test_moving_items_off_a_partly_paid_check_that_still_covers_the_payment_is_allowed(
    server: Any, runtime: Any, cash_drawer: Any
) -> None:
    paid_id, other_id = await _partly_paid(server, runtime, "1.00")
    [first, *rest] = await _line_ids(runtime, paid_id)
    response = await post(server, runtime, paid_id, "move", {"line_id": [str(first)], "to_check_id": str(other_id)})
    assert response.status_code == 200, response.text
    assert await _line_ids(runtime, paid_id) == rest
    after = await money(runtime, paid_id)
    assert after.totals.total >= after.paid == 100


async def test_merging_a_partly_paid_check_into_another_is_refused(server: Any, runtime: Any, cash_drawer: Any) -> None:
    paid_id, other_id = await _partly_paid(server, runtime, "10.00")
    before = (await _line_ids(runtime, paid_id), await _line_ids(runtime, other_id))
    response = await post(server, runtime, other_id, "merge", {"from_check_id": str(paid_id)})
    assert response.status_code == 409, response.text
    assert "already paid. Refund first; nothing was changed." in response.text
    assert (await check_row(runtime, paid_id)).status is CheckStatus.OPEN
    assert (await _line_ids(runtime, paid_id), await _line_ids(runtime, other_id)) == before
