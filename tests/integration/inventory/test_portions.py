"""Portions left: a dish made with counted stock says how many more can be ordered, and refuses more than that.

The demo keeps 10 Burrata (counted) and the Burrata starter uses one; burgers use a counted patty and bun.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlmodel import col, select

from app.checks.delivery import TERMINAL_KEY
from app.checks.terminal import SimulatedTerminal
from app.inventory import portions
from app.inventory import services as inventory
from app.lib.errors import Conflict
from app.lib.settings import Settings
from app.menu.models import MenuItem
from app.orders import lines as order_lines
from app.orders import seating, voids
from app.orders.models import CheckLine
from tests.integration.closes.arrange import deliver, pay, person, serve
from tests.integration.inventory.conftest import Stockroom
from tests.integration.orders.conftest import Restaurant, restaurant

__all__ = ["restaurant"]


@pytest.fixture
async def settings(settings: Settings) -> Settings:
    """No background workers: the test delivers closings (and so depletion) when it means to."""
    settings.run_workers = False
    return settings


@pytest.fixture
async def terminal(runtime: Any, settings: Settings) -> SimulatedTerminal:
    simulated = SimulatedTerminal(settings.var_dir / "terminal-test")
    runtime.db.context[TERMINAL_KEY] = simulated
    return simulated


async def _left(room: Stockroom, sku: str) -> int | None:
    return (await room.dish(sku)).portions_left


async def _count(room: Stockroom, item: str, milli: int, place: str = "Kitchen") -> None:
    async with room.runtime.db.write() as session:
        await inventory.record_count(session, location_id=room.places[place], counts=[(room.items[item], milli)])


async def test_the_demo_dishes_say_how_many_their_counted_stock_makes(stockroom: Stockroom) -> None:
    assert await _left(stockroom, "ST-BUR") == 10  # 10 Burrata, one each
    assert await _left(stockroom, "GR-BUR") == 40  # 40 patties, 48 buns
    assert await _left(stockroom, "GR-RIB") == 12
    assert await _left(stockroom, "FR-FRI") is None, "fries use no counted stock"
    assert await _left(stockroom, "PA-CAR") is None, "no recipe at all"


async def test_ringing_in_takes_portions_and_more_than_are_left_is_refused_with_nothing_changed(
    stockroom: Stockroom, restaurant: Restaurant, server: Any
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-BUR", seat=1)
    await restaurant.ring_in(server, check_id, "ST-BUR", seat=2, quantity=7)
    assert await _left(stockroom, "ST-BUR") == 2
    lines, version = await restaurant.lines(check_id), await restaurant.version(check_id)

    refused = await restaurant.ring_in(server, check_id, "ST-BUR", seat=1, quantity=3, expect=409)
    assert "Only 2 Burrata &amp; Tomatoes left" in refused.text
    assert len(await restaurant.lines(check_id)) == len(lines)
    assert await restaurant.version(check_id) == version
    assert await _left(stockroom, "ST-BUR") == 2
    assert await stockroom.on_hand("Burrata") == 10_000, "ringing in moves no stock; depletion does"

    await restaurant.ring_in(server, check_id, "ST-BUR", seat=1, quantity=2)
    assert await _left(stockroom, "ST-BUR") == 0
    dish = await stockroom.dish("ST-BUR")
    assert dish.sold_out, "none left reads as sold out"
    assert not dish.is_86d, "before any 86"
    refused = await restaurant.ring_in(server, check_id, "ST-BUR", seat=1, expect=409)
    assert "No Burrata &amp; Tomatoes left" in refused.text
    menu = await server.client.get(f"/checks/{check_id}/menu", headers={"hx-request": "true"})
    button = menu.text.split(f'id="menu-item-{stockroom.dishes["ST-BUR"]}"')[1].split("</button>")[0]
    assert "0 left" in button
    assert "disabled" in button


async def test_a_void_gives_the_portions_back_and_a_larger_quantity_takes_more(
    stockroom: Stockroom, restaurant: Restaurant, server: Any, runtime: Any
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-BUR", seat=1, quantity=3)
    [line] = await restaurant.lines(check_id)
    assert await _left(stockroom, "ST-BUR") == 7
    lena = await person(runtime, "Lena Brooks")
    async with runtime.db.write() as session:
        await order_lines.update_line(
            session,
            check_id=check_id,
            line_id=line.id or 0,
            change=order_lines.LineChange(quantity=5),
            actor=lena,
            expected_version=None,
        )
    assert await _left(stockroom, "ST-BUR") == 5
    with pytest.raises(Conflict, match="Only 5 Burrata & Tomatoes left"):
        async with runtime.db.write() as session:
            await order_lines.update_line(
                session,
                check_id=check_id,
                line_id=line.id or 0,
                change=order_lines.LineChange(quantity=11),
                actor=lena,
                expected_version=None,
            )
    assert (await restaurant.lines(check_id))[0].quantity_num == 5
    async with runtime.db.write() as session:
        await voids.void_line(session, check_id=check_id, line_id=line.id or 0, actor=lena, expected_version=None)
    assert await _left(stockroom, "ST-BUR") == 10


async def test_a_modifier_made_with_counted_stock_is_counted_and_named_when_short(
    stockroom: Stockroom, restaurant: Restaurant, server: Any, runtime: Any
) -> None:
    async with runtime.db.write() as session:
        await inventory.set_item_counted(session, stockroom.items["Bacon"], True)
    await _count(stockroom, "Bacon", 60_000)  # two burgers' worth at 30 g
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "GR-BUR", options=["Medium", "Fries", "Bacon"], seat=1)
    assert await _left(stockroom, "GR-BUR") == 39, "the burger's own count follows its patty and bun"
    refused = await restaurant.ring_in(
        server, check_id, "GR-BUR", options=["Medium", "Fries", "Bacon"], seat=2, quantity=2, expect=409
    )
    assert "Only 1 Brigade Burger with Bacon left" in refused.text
    await restaurant.ring_in(server, check_id, "GR-BUR", options=["Medium", "Fries"], seat=2, quantity=2)
    assert await _left(stockroom, "GR-BUR") == 37


async def test_closing_and_depletion_keep_the_figure_and_stock_runs_out_into_the_86(
    stockroom: Stockroom, runtime: Any, terminal: SimulatedTerminal
) -> None:
    served = await serve(runtime, ["ST-BUR", "ST-BUR"])
    assert await _left(stockroom, "ST-BUR") == 8
    await pay(runtime, terminal, served)
    assert await _left(stockroom, "ST-BUR") == 8, "closed, not yet taken out of stock: still held"
    await deliver(runtime)
    assert await stockroom.on_hand("Burrata") == 8_000
    assert await _left(stockroom, "ST-BUR") == 8, "taken out of stock and no longer held: the same figure"

    rest = await serve(runtime, ["ST-BUR"] * 8, table="8", covers=8)
    assert await _left(stockroom, "ST-BUR") == 0
    assert not (await stockroom.dish("ST-BUR")).is_86d
    await pay(runtime, terminal, rest)
    await deliver(runtime)
    dish = await stockroom.dish("ST-BUR")
    assert dish.is_86d, "stock ran out at depletion: the dish is 86'd as before"
    assert dish.portions_left == 0


async def test_a_delivery_raises_the_figure_and_waste_or_a_count_lowers_it(stockroom: Stockroom) -> None:
    async with stockroom.runtime.db.write() as session:
        await inventory.receive_delivery(
            session, location_id=stockroom.places["Kitchen"], lines=[(stockroom.items["Burrata"], 5_000, 1_200)]
        )
    assert await _left(stockroom, "ST-BUR") == 15
    async with stockroom.runtime.db.write() as session:
        await inventory.record_waste(
            session,
            stock_item_id=stockroom.items["Burrata"],
            location_id=stockroom.places["Kitchen"],
            quantity_milli=1_500,
            reason="dropped",
        )
    assert await _left(stockroom, "ST-BUR") == 13, "13.5 on hand makes 13 whole portions"
    await _count(stockroom, "Burrata", 4_000)
    assert await _left(stockroom, "ST-BUR") == 4


async def test_two_tablets_ringing_in_the_last_portion_at_once_sell_it_once(
    stockroom: Stockroom, restaurant: Restaurant, runtime: Any
) -> None:
    await _count(stockroom, "Burrata", 1_000)
    lena = await person(runtime, "Lena Brooks")
    checks = []
    for table in ("12", "8"):
        async with runtime.db.write() as session:
            check = await seating.open_check(
                session, table_id=await restaurant.table_id(table), covers=2, server=lena, kind="table"
            )
            checks.append(check.id or 0)

    async def ring(session: Any, check_id: int) -> None:
        await order_lines.add_line(
            session,
            check_id=check_id,
            request=order_lines.LineRequest(menu_item_id=stockroom.dishes["ST-BUR"], seat=1),
            actor=lena,
            expected_version=None,
        )

    async def second() -> str:
        try:
            async with runtime.db.write() as session:
                await ring(session, checks[1])
        except Conflict as refused:
            return str(refused)
        return "sold"

    async with runtime.db.write() as session:
        await ring(session, checks[0])
        # The second tablet rings the same last portion while the first has not committed yet.
        racing = asyncio.create_task(second())
        await asyncio.sleep(0.5)
    assert await racing == "No Burrata & Tomatoes left. Nothing was added."
    async with runtime.db.read() as session:
        sold = (
            await session.exec(
                select(CheckLine).where(
                    col(CheckLine.check_id).in_(checks), CheckLine.menu_item_id == stockroom.dishes["ST-BUR"]
                )
            )
        ).all()
    assert len(sold) == 1
    assert await _left(stockroom, "ST-BUR") == 0


async def test_the_86_board_shows_what_is_left_of_each_counted_dish(stockroom: Stockroom, manager: Any) -> None:
    await _count(stockroom, "Burrata", 2_000)
    board = await manager.client.get("/manage/86")
    assert board.status_code == 200
    tile = board.text.split(f'id="eighty-six-{stockroom.dishes["ST-BUR"]}"')[1].split("</form>")[0]
    assert "2 left" in tile
    assert "pill-amber" in tile, "running low stands out"
    soup = board.text.split(f'id="eighty-six-{stockroom.dishes["ST-SOU"]}"')[1].split("</form>")[0]
    assert " left" not in soup


async def test_a_choice_made_with_counted_stock_is_checked_on_a_dish_that_counts_nothing(
    stockroom: Stockroom, restaurant: Restaurant, server: Any, runtime: Any
) -> None:
    async with runtime.db.write() as session:
        truffle = await inventory.create_stock_item(
            session, name="Sweet potatoes (portioned)", unit="piece", counted=True
        )
        await inventory.receive_delivery(
            session, location_id=stockroom.places["Kitchen"], lines=[(truffle.id or 0, 1_000, 100)], to_ledger=False
        )
        await inventory.set_recipe_component(
            session,
            stock_item_id=truffle.id or 0,
            quantity_milli=1_000,
            modifier_id=stockroom.modifiers[("Side", "Sweet potato fries")],
        )
    assert await _left(stockroom, "GR-CHK") is None, "the chicken itself counts nothing"
    check_id = await restaurant.open_table(server, "12", 2)
    refused = await restaurant.ring_in(
        server, check_id, "GR-CHK", options=["Sweet potato fries"], seat=1, quantity=2, expect=409
    )
    assert "Only 1 Half Chicken with Sweet potato fries left" in refused.text
    assert await restaurant.lines(check_id) == []
    await restaurant.ring_in(server, check_id, "GR-CHK", options=["Sweet potato fries"], seat=1)
    refused = await restaurant.ring_in(server, check_id, "GR-CHK", options=["Sweet potato fries"], seat=2, expect=409)
    assert "No Half Chicken with Sweet potato fries left" in refused.text
    await restaurant.ring_in(server, check_id, "GR-CHK", options=["Fries"], seat=2)


async def test_a_dish_voided_after_the_kitchen_made_it_stays_used_until_its_waste_is_booked(
    stockroom: Stockroom, runtime: Any, terminal: SimulatedTerminal
) -> None:
    served = await serve(runtime, ["ST-BUR", "ST-BUR"])
    manager = await person(runtime, "Nora Vance")
    async with runtime.db.write() as session:
        await voids.void_line(
            session,
            check_id=served.check_id,
            line_id=served.line_ids["ST-BUR"],
            actor=manager,
            expected_version=None,
            reason="Dropped",
        )
    assert await _left(stockroom, "ST-BUR") == 8, "the dropped burrata was made: it is not back on the shelf"
    await pay(runtime, terminal, served)
    await deliver(runtime)
    assert await stockroom.on_hand("Burrata") == 8_000, "one sold, one wasted"
    assert await _left(stockroom, "ST-BUR") == 8


async def test_with_waste_switched_off_a_void_after_fire_gives_the_portion_back(
    stockroom: Stockroom, runtime: Any, settings: Settings
) -> None:
    settings.void_after_fire_is_waste = False
    served = await serve(runtime, ["ST-BUR"])
    assert await _left(stockroom, "ST-BUR") == 9
    async with runtime.db.write() as session:
        await voids.void_line(
            session,
            check_id=served.check_id,
            line_id=served.line_ids["ST-BUR"],
            actor=await person(runtime, "Nora Vance"),
            expected_version=None,
            reason="Wrong table",
        )
    assert await _left(stockroom, "ST-BUR") == 10


async def test_an_upgraded_database_works_every_counted_dish_out_afresh(
    stockroom: Stockroom, restaurant: Restaurant, server: Any
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-BUR", seat=1, quantity=4)
    async with stockroom.runtime.db.write() as session:
        for dish in (await session.exec(select(MenuItem))).all():
            dish.portions_left = None  # as the column arrives on an existing database
            session.add(dish)
    async with stockroom.runtime.db.write() as session:
        await portions.refresh_all(session)
    assert await _left(stockroom, "ST-BUR") == 6
    assert await _left(stockroom, "GR-BUR") == 40
    assert await _left(stockroom, "FR-FRI") is None
