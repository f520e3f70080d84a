"""Splitting: by seat, by item, one item shared, evenly, by amount; undo; never a word to the kitchen."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from app.checks.models import CheckPortion, CheckSplit
from app.checks.terminal import SimulatedTerminal
from app.lib.outbox import OutboxMessage
from app.orders.models import Check, CheckLine, CheckStatus, KitchenFire
from tests.integration.checks.arrange import FOUR_TOP, key, money, open_checks_on, post, ring_in, rows, tenders


async def _kitchen_traffic(runtime: Any) -> tuple[int, int]:
    return (
        len(await rows(runtime, KitchenFire)),
        len(await rows(runtime, OutboxMessage, OutboxMessage.topic == "kitchen.fire")),
    )


async def test_split_by_seat_leaves_no_cent_behind_and_sends_nothing_to_the_kitchen(server: Any, runtime: Any) -> None:
    arranged = await ring_in(runtime, items=FOUR_TOP, bottle=True)
    before = (await money(runtime, arranged.check_id)).totals
    kitchen = await _kitchen_traffic(runtime)
    response = await post(server, runtime, arranged.check_id, "split/seat")
    assert response.status_code == 200, response.text
    assert "Split by seat into 4 checks" in response.text
    checks = await open_checks_on(runtime, arranged.table_id or 0)
    assert len(checks) == 4
    totals = [(await money(runtime, c.id or 0)).totals for c in checks]
    assert sum(t.total for t in totals) == before.total
    assert sum(t.tax for t in totals) == before.tax
    seats = [sorted({line.seat for line in (await money(runtime, c.id or 0)).live_lines}, key=str) for c in checks]
    assert seats == [[1, None], [2], [3], [4]]
    assert await _kitchen_traffic(runtime) == kitchen


async def test_a_bottle_shared_four_ways_is_four_quarter_lines_that_add_up_to_the_bottle(
    server: Any, runtime: Any
) -> None:
    arranged = await ring_in(runtime, items=FOUR_TOP, bottle=True)
    before = (await money(runtime, arranged.check_id)).totals.total
    await post(server, runtime, arranged.check_id, "split/seat")
    checks = await open_checks_on(runtime, arranged.table_id or 0)
    kitchen = await _kitchen_traffic(runtime)
    response = await post(
        server,
        runtime,
        arranged.check_id,
        "split/share",
        {"line_id": str(arranged.bottle_id), "check_ids": [str(c.id) for c in checks]},
    )
    assert response.status_code == 200, response.text
    shares = [line for line in await rows(runtime, CheckLine) if line.name == "Rioja Crianza (bottle)"]
    assert len(shares) == 4
    assert sorted(line.check_id for line in shares) == sorted(c.id for c in checks)
    assert all(line.quantity == Fraction(1, 4) for line in shares)
    assert {line.origin_line_id for line in shares if line.id != arranged.bottle_id} == {arranged.bottle_id}
    amounts = [line.unit_total_cents * line.quantity for line in shares]
    assert sum(amounts) == 3400
    after = [(await money(runtime, c.id or 0)).totals.total for c in checks]
    assert sum(after) == before
    assert await _kitchen_traffic(runtime) == kitchen


async def test_moving_items_to_a_new_check_and_back_keeps_every_cent(server: Any, runtime: Any) -> None:
    arranged = await ring_in(runtime, items=FOUR_TOP)
    before = (await money(runtime, arranged.check_id)).totals.total
    moved = [arranged.line_ids["PA-CAR"], arranged.line_ids["BR-CID"]]
    response = await post(
        server, runtime, arranged.check_id, "split/items", {"line_ids": [str(i) for i in moved], "to_check_id": "new"}
    )
    assert response.status_code == 200, response.text
    first, second = await open_checks_on(runtime, arranged.table_id or 0)
    assert sorted(line.id for line in (await money(runtime, second.id or 0)).live_lines) == sorted(moved)
    assert (await money(runtime, first.id or 0)).totals.total + (
        await money(runtime, second.id or 0)
    ).totals.total == before
    back = await post(
        server,
        runtime,
        second.id or 0,
        "split/items",
        {"line_ids": [str(moved[0])], "to_check_id": str(first.id)},
    )
    assert back.status_code == 200, back.text
    assert arranged.line_ids["PA-CAR"] in {line.id for line in (await money(runtime, first.id or 0)).live_lines}


async def test_an_even_split_gives_each_part_its_share_and_its_tax(server: Any, runtime: Any) -> None:
    arranged = await ring_in(runtime, items=FOUR_TOP, bottle=True)
    response = await post(server, runtime, arranged.check_id, "split/even", {"ways": "3"})
    assert response.status_code == 200, response.text
    summary = await money(runtime, arranged.check_id)
    owed = [p.owed for p in summary.portions]
    assert sum(owed) == summary.totals.total
    assert max(owed) - min(owed) <= 1
    parts = [p.part for p in summary.portions]
    assert all(part is not None for part in parts)
    assert sum(part.tax for part in parts if part) == summary.totals.tax
    assert [part.total for part in parts if part] == owed


async def test_split_amounts_that_do_not_add_up_are_refused_and_nothing_changes(server: Any, runtime: Any) -> None:
    arranged = await ring_in(runtime, items=FOUR_TOP)
    total = (await money(runtime, arranged.check_id)).totals.total
    version = (await money(runtime, arranged.check_id)).check.version
    response = await post(server, runtime, arranged.check_id, "split/amounts", {"amounts": ["10.00", "20.00"]})
    assert response.status_code == 422
    assert "Split amounts add up to €30.00" in response.text
    assert f"the check is €{total // 100}.{total % 100:02d}" in response.text
    assert await rows(runtime, CheckPortion) == []
    assert await rows(runtime, CheckSplit) == []
    assert (await money(runtime, arranged.check_id)).check.version == version
    good = await post(
        server,
        runtime,
        arranged.check_id,
        "split/amounts",
        {"amounts": ["10.00", f"{(total - 1000) / 100:.2f}"]},
    )
    assert good.status_code == 200, good.text
    assert [p.owed for p in (await money(runtime, arranged.check_id)).portions] == [1000, total - 1000]


async def test_undo_puts_a_seat_split_and_a_shared_bottle_back_exactly(server: Any, runtime: Any) -> None:
    arranged = await ring_in(runtime, items=FOUR_TOP, bottle=True)
    before = await money(runtime, arranged.check_id)
    await post(server, runtime, arranged.check_id, "split/seat")
    checks = await open_checks_on(runtime, arranged.table_id or 0)
    await post(
        server,
        runtime,
        arranged.check_id,
        "split/share",
        {"line_id": str(arranged.bottle_id), "check_ids": [str(c.id) for c in checks]},
    )
    first = await post(server, runtime, arranged.check_id, "split/undo")
    assert first.status_code == 200, first.text
    assert "shared item" in first.text
    second = await post(server, runtime, arranged.check_id, "split/undo")
    assert second.status_code == 200, second.text
    after = await money(runtime, arranged.check_id)
    assert [line.id for line in after.live_lines] == [line.id for line in before.live_lines]
    assert after.totals.total == before.totals.total
    assert [c.id for c in await open_checks_on(runtime, arranged.table_id or 0)] == [arranged.check_id]
    merged = await rows(runtime, Check, Check.status == CheckStatus.MERGED)
    assert len(merged) == 3
    nothing = await post(server, runtime, arranged.check_id, "split/undo")
    assert nothing.status_code == 422
    assert "no split to undo" in nothing.text


async def test_a_split_cannot_be_undone_once_a_part_is_paid(
    server: Any, runtime: Any, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    arranged = await ring_in(runtime, items=FOUR_TOP)
    await post(server, runtime, arranged.check_id, "split/seat")
    checks = await open_checks_on(runtime, arranged.table_id or 0)
    cash = (await tenders(runtime))["Cash"]
    await post(server, runtime, checks[1].id or 0, "pay", {"tender_id": str(cash), "tendered": "100"})
    response = await post(server, runtime, arranged.check_id, "split/undo")
    assert response.status_code == 409
    assert "cannot be undone once money is taken" in response.text
    assert len(await rows(runtime, CheckSplit, CheckSplit.undone_at.is_(None))) == 1  # type: ignore[union-attr]


async def test_splitting_refuses_bad_requests_with_clear_messages(server: Any, runtime: Any, cook: Any) -> None:
    arranged = await ring_in(runtime, items=[(1, "PA-CAR"), (1, "SD-LEM")])
    one_seat = await post(server, runtime, arranged.check_id, "split/seat")
    assert one_seat.status_code == 422
    assert "Only one seat has items" in one_seat.text
    everything = await post(
        server,
        runtime,
        arranged.check_id,
        "split/items",
        {"line_ids": [str(i) for i in arranged.line_ids.values()], "to_check_id": "new"},
    )
    assert everything.status_code == 422
    assert "Leave at least one item" in everything.text
    too_many = await post(server, runtime, arranged.check_id, "split/even", {"ways": "50"})
    assert too_many.status_code == 422
    not_allowed = await post(cook, runtime, arranged.check_id, "split/seat")
    assert not_allowed.status_code == 403
    old = (await money(runtime, arranged.check_id)).check.version - 1
    stale = await server.post(
        f"/checks/{arranged.check_id}/split/even", {"ways": "2", "version": str(old), "idempotency_key": key()}
    )
    assert stale.status_code == 409
    assert await rows(runtime, CheckSplit) == []


async def test_the_same_split_tapped_twice_splits_once(server: Any, runtime: Any) -> None:
    arranged = await ring_in(runtime, items=FOUR_TOP)
    version = (await money(runtime, arranged.check_id)).check.version
    form = {"version": str(version), "idempotency_key": key()}
    first = await server.post(f"/checks/{arranged.check_id}/split/seat", form)
    second = await server.post(f"/checks/{arranged.check_id}/split/seat", form)
    assert first.status_code == second.status_code == 200
    assert len(await open_checks_on(runtime, arranged.table_id or 0)) == 4
    assert len(await rows(runtime, CheckSplit)) == 1


async def _covers(runtime: Any, table_pk: int) -> list[int]:
    return [c.covers for c in await open_checks_on(runtime, table_pk)]


async def test_a_four_top_split_by_seat_is_still_four_guests_and_undo_gives_them_back(
    server: Any, runtime: Any
) -> None:
    arranged = await ring_in(runtime, items=FOUR_TOP, bottle=True)
    await post(server, runtime, arranged.check_id, "split/seat")
    assert await _covers(runtime, arranged.table_id or 0) == [1, 1, 1, 1]
    undone = await post(server, runtime, arranged.check_id, "split/undo")
    assert undone.status_code == 200, undone.text
    assert await _covers(runtime, arranged.table_id or 0) == [4]


async def test_every_kind_of_split_keeps_the_table_s_headcount(server: Any, runtime: Any) -> None:
    arranged = await ring_in(runtime, items=FOUR_TOP, bottle=True)
    table = arranged.table_id or 0
    moved = [str(arranged.line_ids["PA-CAR"])]
    await post(server, runtime, arranged.check_id, "split/items", {"line_ids": moved, "to_check_id": "new"})
    assert await _covers(runtime, table) == [3, 1]
    first, second = await open_checks_on(runtime, table)
    back = [str(arranged.line_ids["BR-CID"])]
    await post(server, runtime, first.id or 0, "split/items", {"line_ids": back, "to_check_id": str(second.id)})
    assert await _covers(runtime, table) == [3, 1]
    await post(
        server,
        runtime,
        first.id or 0,
        "split/share",
        {"line_id": str(arranged.bottle_id), "check_ids": [str(first.id), str(second.id)]},
    )
    assert await _covers(runtime, table) == [3, 1]
    await post(server, runtime, first.id or 0, "split/even", {"ways": "3"})
    assert await _covers(runtime, table) == [3, 1]
    for _ in range(4):
        undone = await post(server, runtime, first.id or 0, "split/undo")
        assert undone.status_code == 200, undone.text
    assert await _covers(runtime, table) == [4]


async def test_a_one_guest_check_split_by_item_does_not_make_up_a_second_guest(server: Any, runtime: Any) -> None:
    arranged = await ring_in(runtime, items=[(1, "PA-CAR"), (1, "SD-LEM")], covers=1)
    moved = [str(arranged.line_ids["SD-LEM"])]
    await post(server, runtime, arranged.check_id, "split/items", {"line_ids": moved, "to_check_id": "new"})
    assert await _covers(runtime, arranged.table_id or 0) == [1, 0]


async def test_merging_a_split_check_back_keeps_its_guest(server: Any, runtime: Any) -> None:
    from app.orders import seating

    arranged = await ring_in(runtime, items=FOUR_TOP)
    await post(server, runtime, arranged.check_id, "split/seat")
    first, second, *_ = await open_checks_on(runtime, arranged.table_id or 0)
    async with runtime.db.write() as session:
        await seating.merge_checks(
            session,
            into_check_id=first.id or 0,
            from_check_id=second.id or 0,
            actor=arranged.server,
            into_version=None,
        )
    assert await _covers(runtime, arranged.table_id or 0) == [2, 1, 1]
