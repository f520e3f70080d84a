"""Paying in full with items the kitchen never had: refused until they are sent, voided, or the payment confirms it."""

from __future__ import annotations

from typing import Any

from app.checks.models import Payment
from app.checks.terminal import SimulatedTerminal
from app.orders.models import CheckStatus, KitchenFire, LineState
from tests.integration.checks.arrange import check_row, money, post, ring_in, rows, tenders

DINNER = [(1, "PA-CAR"), (2, "PA-RIS")]


async def _with_unsent_dessert(runtime: Any) -> Any:
    arranged = await ring_in(runtime, items=DINNER)
    more = await ring_in(runtime, items=[(1, "DS-TIR")], table="6", send=False)
    # The dessert rung in on another table's check moves here unsent, as a server adds it late.
    from app.orders import seating

    async with runtime.db.write() as session:
        await seating.move_lines(
            session,
            line_ids=[more.line_ids["DS-TIR"]],
            from_check_id=more.check_id,
            to_check_id=arranged.check_id,
            actor=arranged.server,
        )
    return arranged


async def test_paying_in_full_with_an_unsent_item_is_refused_and_names_it(
    server: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    arranged = await _with_unsent_dessert(runtime)
    due = (await money(runtime, arranged.check_id)).due
    card = (await tenders(runtime))["Card"]
    page = await server.get(f"/checks/{arranged.check_id}/settle")
    assert "1 item never went to the kitchen" in page.text
    assert "Tiramisu" in page.text
    refused = await post(
        server, runtime, arranged.check_id, "pay", {"tender_id": str(card), "amount": f"{due / 100:.2f}"}
    )
    assert refused.status_code == 409
    assert "never went to the kitchen: Tiramisu" in refused.text
    assert "Nothing was charged" in refused.text
    assert await rows(runtime, Payment) == []
    assert terminal.requests == [], "the card was never asked"
    confirmed = await post(
        server,
        runtime,
        arranged.check_id,
        "pay",
        {"tender_id": str(card), "amount": f"{due / 100:.2f}", "unsent_confirmed": "1"},
    )
    assert confirmed.status_code == 200, confirmed.text
    assert (await check_row(runtime, arranged.check_id)).status is CheckStatus.CLOSED


async def test_a_part_payment_is_taken_and_the_last_one_is_asked(
    server: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    arranged = await _with_unsent_dessert(runtime)
    card = (await tenders(runtime))["Card"]
    part = await post(server, runtime, arranged.check_id, "pay", {"tender_id": str(card), "amount": "5.00"})
    assert part.status_code == 200, part.text
    due = (await money(runtime, arranged.check_id)).due
    last = await post(server, runtime, arranged.check_id, "pay", {"tender_id": str(card), "amount": f"{due / 100:.2f}"})
    assert last.status_code == 409
    assert "never went to the kitchen" in last.text


async def test_send_them_fires_the_unsent_items_then_payment_goes_through(
    server: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    arranged = await _with_unsent_dessert(runtime)
    fires = len(await rows(runtime, KitchenFire))
    sent = await post(server, runtime, arranged.check_id, "settle/send")
    assert sent.status_code == 200, sent.text
    assert "Sent 1 item to the kitchen" in sent.text
    assert len(await rows(runtime, KitchenFire)) == fires + 1
    assert (await money(runtime, arranged.check_id)).unsent_count == 0
    due = (await money(runtime, arranged.check_id)).due
    card = (await tenders(runtime))["Card"]
    paid = await post(server, runtime, arranged.check_id, "pay", {"tender_id": str(card), "amount": f"{due / 100:.2f}"})
    assert paid.status_code == 200, paid.text
    assert (await check_row(runtime, arranged.check_id)).status is CheckStatus.CLOSED


async def test_void_them_takes_the_unsent_items_off_and_tells_the_kitchen_nothing(
    server: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    arranged = await _with_unsent_dessert(runtime)
    before = await money(runtime, arranged.check_id)
    fires = len(await rows(runtime, KitchenFire))
    voided = await post(server, runtime, arranged.check_id, "settle/void-unsent")
    assert voided.status_code == 200, voided.text
    after = await money(runtime, arranged.check_id)
    assert after.unsent_count == 0
    assert after.totals.total < before.totals.total
    assert [line.name for line in after.lines if line.state is LineState.VOIDED] == ["Tiramisu"]
    assert len(await rows(runtime, KitchenFire)) == fires


async def test_closing_a_comped_check_with_unsent_items_asks_first(server: Any, runtime: Any, manager: Any) -> None:
    arranged = await _with_unsent_dessert(runtime)
    comp = await post(manager, runtime, arranged.check_id, "settle/comp", {"reason": "Birthday"})
    assert comp.status_code == 200, comp.text
    refused = await post(server, runtime, arranged.check_id, "settle/close")
    assert refused.status_code == 409
    assert "never went to the kitchen" in refused.text
    closed = await post(server, runtime, arranged.check_id, "settle/close", {"unsent_confirmed": "1"})
    assert closed.status_code == 200, closed.text
    assert (await check_row(runtime, arranged.check_id)).status is CheckStatus.CLOSED
