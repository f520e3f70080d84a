"""Stock moves: deliveries and the moving average, depletion exactly once, counts, waste, transfers,
refunds, auto-86 and un-86, valuation, and levels that always equal the sum of moves."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from app.inventory import queries
from app.inventory.models import MoveKind, StockLevel, StockMove, StockOperation, StockOutage
from app.inventory.services import (
    SaleLine,
    create_stock_item,
    deplete_for_sale,
    receive_delivery,
    record_count,
    record_waste,
    return_for_refund,
    set_recipe_component,
    total_cost_cents,
    transfer_stock,
    waste_for_void,
)
from app.lib.audit import AuditEntry
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.menu.availability import eighty_six
from tests.integration.inventory.conftest import Stockroom


async def _sell(room: Stockroom, key: str, *lines: tuple[str, list[tuple[str, str]], Fraction, str]) -> list[Any]:
    sale = [
        SaleLine(room.dishes[sku], [room.modifiers[m] for m in mods], quantity, room.places[place])
        for sku, mods, quantity, place in lines
    ]
    async with room.runtime.db.write() as session:
        return await deplete_for_sale(session, source_key=key, lines=sale)


async def _receive(room: Stockroom, item: str, quantity: int, cents: int, place: str = "Kitchen") -> list[Any]:
    async with room.runtime.db.write() as session:
        return await receive_delivery(
            session, location_id=room.places[place], lines=[(room.items[item], quantity, cents)], supplier="Metro"
        )


async def _levels_equal_moves(room: Stockroom) -> None:
    async with room.runtime.db.read() as session:
        from_moves = await queries.on_hand_from_moves(session)
        levels = {
            (level.stock_item_id, level.location_id): (level.on_hand_milli, level.value_cents)
            for level in (await session.exec(select(StockLevel))).all()
            if level.on_hand_milli or level.value_cents or (level.stock_item_id, level.location_id) in from_moves
        }
    assert levels == from_moves


async def test_the_demo_stockroom_opens_with_deliveries_at_cost(stockroom: Stockroom) -> None:
    assert set(stockroom.places) == {"Kitchen", "Bar", "Storeroom"}
    assert await stockroom.on_hand("Beef patty 180 g", "Kitchen") == 40_000
    patty = await stockroom.item("Beef patty 180 g")
    assert patty.unit_cost_millicents == 210_000, "€8.40 for 40 patties is 210 cents each"
    await _levels_equal_moves(stockroom)


async def test_a_delivery_moves_the_average_cost(stockroom: Stockroom) -> None:
    moves = await _receive(stockroom, "Brioche bun", 52_000, 2_600)
    bun = await stockroom.item("Brioche bun")
    assert bun.unit_cost_millicents == (48 * 45_000 + 52 * 50_000) // 100
    assert bun.unit_cost_millicents == 47_600
    assert [(m.kind, m.quantity_milli, m.value_cents) for m in moves] == [(MoveKind.RECEIPT, 52_000, 2_600)]
    assert await stockroom.on_hand("Brioche bun") == 100_000


async def test_a_delivery_onto_negative_stock_takes_the_delivery_cost(stockroom: Stockroom) -> None:
    await _sell(stockroom, "check:1", *[("GR-RIB", [], Fraction(14), "Kitchen")])
    assert await stockroom.on_hand("Rib-eye steak 300 g") == -2_000
    await _receive(stockroom, "Rib-eye steak 300 g", 10_000, 10_500)
    assert (await stockroom.item("Rib-eye steak 300 g")).unit_cost_millicents == 1_050_000


async def test_a_sale_depletes_its_recipe_and_modifiers_exactly_once(stockroom: Stockroom) -> None:
    line = ("GR-BUR", [("Burger extras", "Cheddar"), ("Side", "Fries")], Fraction(2), "Kitchen")
    first = await _sell(stockroom, "check:7", line)
    names = {v: k for k, v in stockroom.items.items()}
    by_item = {names[m.stock_item_id]: m.quantity_milli for m in first}
    assert by_item == {
        "Beef patty 180 g": -2_000,
        "Brioche bun": -2_000,
        "Tomatoes": -60_000,
        "Onions": -40_000,
        "Cheddar": -40_000,
        "Potatoes": -400_000,
        "Frying oil": -30_000,
    }
    assert all(m.kind == MoveKind.SALE for m in first)
    cost = total_cost_cents(first)
    assert cost == -sum(m.value_cents for m in first)
    assert cost > 0
    again = await _sell(stockroom, "check:7", line)
    assert [m.id for m in again] == [m.id for m in first]
    assert await stockroom.on_hand("Beef patty 180 g") == 38_000
    async with stockroom.runtime.db.read() as session:
        operations = (
            await session.exec(
                select(func.count()).select_from(StockOperation).where(StockOperation.source_key == "check:7")
            )
        ).one()
    assert operations == 1
    await _levels_equal_moves(stockroom)


async def test_a_modifier_can_take_an_ingredient_out_but_never_below_zero(stockroom: Stockroom) -> None:
    moves = await _sell(stockroom, "check:8", ("GR-BUR", [("Burger extras", "No onion")], Fraction(1), "Kitchen"))
    assert stockroom.items["Onions"] not in {m.stock_item_id for m in moves}
    async with stockroom.runtime.db.write() as session:
        await set_recipe_component(
            session,
            modifier_id=stockroom.modifiers[("Burger extras", "No onion")],
            stock_item_id=stockroom.items["Onions"],
            quantity_milli=-50_000,
        )
    moves = await _sell(stockroom, "check:9", ("GR-BUR", [("Burger extras", "No onion")], Fraction(1), "Kitchen"))
    assert all(m.quantity_milli < 0 for m in moves)
    assert stockroom.items["Onions"] not in {m.stock_item_id for m in moves}


async def test_a_shared_item_depletes_its_share(stockroom: Stockroom) -> None:
    moves = await _sell(stockroom, "check:10", ("FR-FRI", [], Fraction(1, 3), "Kitchen"))
    names = {v: k for k, v in stockroom.items.items()}
    assert {names[m.stock_item_id]: m.quantity_milli for m in moves} == {"Potatoes": -83_333, "Frying oil": -6_667}


async def test_a_sale_without_recipes_spends_its_key_and_moves_nothing(stockroom: Stockroom) -> None:
    assert await _sell(stockroom, "check:11", ("DS-TIR", [], Fraction(1), "Kitchen")) == []
    assert await _sell(stockroom, "check:11", ("DS-TIR", [], Fraction(1), "Kitchen")) == []
    async with stockroom.runtime.db.read() as session:
        assert (await session.exec(select(StockOperation).where(StockOperation.source_key == "check:11"))).one()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ((1, [], Fraction(0), 1), "more than zero"),
        ((1, [], 0.5, 1), "must be a Fraction"),
        ((1, []), "must be"),
    ],
)
async def test_bad_sale_lines_are_refused(stockroom: Stockroom, line: tuple[Any, ...], message: str) -> None:
    async with stockroom.runtime.db.write() as session:
        with pytest.raises(InvalidInput, match=message):
            await deplete_for_sale(session, source_key="check:bad", lines=[line])


async def test_a_sale_at_an_unknown_location_is_refused(stockroom: Stockroom) -> None:
    async with stockroom.runtime.db.write() as session:
        with pytest.raises(InvalidInput, match="Unknown stock location"):
            await deplete_for_sale(
                session, source_key="check:x", lines=[(stockroom.dishes["GR-BUR"], [], Fraction(1), 999)]
            )


async def test_a_void_after_fire_is_booked_as_waste(stockroom: Stockroom) -> None:
    async with stockroom.runtime.db.write() as session:
        moves = await waste_for_void(
            session,
            source_key="void:line:3",
            lines=[(stockroom.dishes["GR-RIB"], [], Fraction(1), stockroom.places["Kitchen"])],
            reason="dropped on the pass",
        )
        again = await waste_for_void(
            session,
            source_key="void:line:3",
            lines=[(stockroom.dishes["GR-RIB"], [], Fraction(1), stockroom.places["Kitchen"])],
            reason="dropped on the pass",
        )
    assert [m.kind for m in moves] == [MoveKind.WASTE]
    assert total_cost_cents(moves) == 980
    assert [m.id for m in again] == [m.id for m in moves]
    assert await stockroom.on_hand("Rib-eye steak 300 g") == 11_000


async def test_a_refund_returns_stock_only_when_resaleable_and_at_the_sale_cost(stockroom: Stockroom) -> None:
    line = (stockroom.dishes["CK-NEG"], [], Fraction(1), stockroom.places["Bar"])
    sold = await _sell(stockroom, "check:20", ("CK-NEG", [], Fraction(1), "Bar"))
    await _receive(stockroom, "Gin", 700_000, 3_500, "Bar")
    async with stockroom.runtime.db.write() as session:
        assert await return_for_refund(session, source_key="refund:1", lines=[line], resaleable=False) == []
    assert await stockroom.on_hand("Gin") == 7_000_000 - 30_000 + 700_000
    async with stockroom.runtime.db.write() as session:
        back = await return_for_refund(
            session, source_key="refund:2", lines=[line], resaleable=True, sale_source_key="check:20"
        )
        twice = await return_for_refund(
            session, source_key="refund:2", lines=[line], resaleable=True, sale_source_key="check:20"
        )
    assert [m.id for m in twice] == [m.id for m in back]
    assert {m.kind for m in back} == {MoveKind.REFUND_RETURN}
    assert total_cost_cents(back) == -total_cost_cents(sold), "the cost of sales reverses exactly"
    assert await stockroom.on_hand("Gin") == 7_000_000 + 700_000


async def test_waste_is_taken_out_at_average_cost_with_a_reason(stockroom: Stockroom) -> None:
    async with stockroom.runtime.db.write() as session:
        moves = await record_waste(
            session,
            stock_item_id=stockroom.items["Eggs"],
            location_id=stockroom.places["Kitchen"],
            quantity_milli=6_000,
            reason="cracked in delivery",
            actor_id=None,
        )
    assert [(m.kind, m.quantity_milli, m.value_cents) for m in moves] == [(MoveKind.WASTE, -6_000, -180)]
    async with stockroom.runtime.db.write() as session:
        with pytest.raises(InvalidInput, match="Reason is required"):
            await record_waste(
                session,
                stock_item_id=stockroom.items["Eggs"],
                location_id=stockroom.places["Kitchen"],
                quantity_milli=1_000,
                reason="",
            )
        with pytest.raises(InvalidInput, match="more than zero"):
            await record_waste(
                session,
                stock_item_id=stockroom.items["Eggs"],
                location_id=stockroom.places["Kitchen"],
                quantity_milli=0,
                reason="x",
            )
        with pytest.raises(NotFound):
            await record_waste(
                session, stock_item_id=999, location_id=stockroom.places["Kitchen"], quantity_milli=1, reason="x"
            )


async def test_a_count_posts_the_variance_as_a_move(stockroom: Stockroom) -> None:
    async with stockroom.runtime.db.write() as session:
        moves = await record_count(
            session,
            location_id=stockroom.places["Bar"],
            counts=[(stockroom.items["Gin"], 6_000_000), (stockroom.items["Campari"], 2_100_000)],
            note="monthly count",
        )
    gin = await stockroom.item("Gin")
    assert gin.unit_cost_millicents == 2_857
    assert [(m.kind, m.quantity_milli, m.value_cents) for m in moves] == [(MoveKind.COUNT_VARIANCE, -1_000_000, -2_857)]
    assert await stockroom.on_hand("Gin", "Bar") == 6_000_000
    async with stockroom.runtime.db.write() as session:
        with pytest.raises(InvalidInput, match="already counted"):
            await record_count(
                session,
                location_id=stockroom.places["Bar"],
                counts=[(stockroom.items["Gin"], 1), (stockroom.items["Gin"], 2)],
            )
        with pytest.raises(InvalidInput, match="at least one"):
            await record_count(session, location_id=stockroom.places["Bar"], counts=[])
    await _levels_equal_moves(stockroom)


async def test_a_transfer_moves_stock_between_locations_at_no_change_in_value(stockroom: Stockroom) -> None:
    async with stockroom.runtime.db.write() as session:
        moves = await transfer_stock(
            session,
            stock_item_id=stockroom.items["Potatoes"],
            from_location_id=stockroom.places["Storeroom"],
            to_location_id=stockroom.places["Kitchen"],
            quantity_milli=5_000_000,
        )
    assert [m.kind for m in moves] == [MoveKind.TRANSFER_OUT, MoveKind.TRANSFER_IN]
    assert sum(m.value_cents for m in moves) == 0
    assert moves[1].value_cents == 600
    assert await stockroom.on_hand("Potatoes", "Kitchen") == 5_000_000
    assert await stockroom.on_hand("Potatoes", "Storeroom") == 20_000_000
    async with stockroom.runtime.db.write() as session:
        with pytest.raises(Conflict, match="cannot send"):
            await transfer_stock(
                session,
                stock_item_id=stockroom.items["Potatoes"],
                from_location_id=stockroom.places["Bar"],
                to_location_id=stockroom.places["Kitchen"],
                quantity_milli=1_000,
            )
        with pytest.raises(InvalidInput, match="two different"):
            await transfer_stock(
                session,
                stock_item_id=stockroom.items["Potatoes"],
                from_location_id=stockroom.places["Kitchen"],
                to_location_id=stockroom.places["Kitchen"],
                quantity_milli=1_000,
            )


async def test_running_out_of_a_counted_ingredient_86s_the_dish_and_a_delivery_brings_it_back(
    stockroom: Stockroom,
) -> None:
    await _sell(stockroom, "check:30", ("ST-BUR", [], Fraction(9), "Kitchen"))
    assert not (await stockroom.dish("ST-BUR")).is_86d
    await _sell(stockroom, "check:31", ("ST-BUR", [], Fraction(1), "Kitchen"))
    burrata = await stockroom.dish("ST-BUR")
    assert burrata.is_86d
    assert burrata.eighty_six_reason == "Out of Burrata (stock count)"
    await _receive(stockroom, "Burrata", 6_000, 1_440)
    assert not (await stockroom.dish("ST-BUR")).is_86d
    async with stockroom.runtime.db.read() as session:
        actions = [
            a.action
            for a in (await session.exec(select(AuditEntry).where(AuditEntry.subject == f"item:{burrata.id}"))).all()
        ]
        outages = (await session.exec(select(func.count()).select_from(StockOutage))).one()
    assert actions == ["menu.item.86", "menu.item.un86"]
    assert outages == 0


async def test_a_dish_comes_back_only_when_every_counted_ingredient_is_back(stockroom: Stockroom) -> None:
    async with stockroom.runtime.db.write() as session:
        await record_count(
            session,
            location_id=stockroom.places["Kitchen"],
            counts=[(stockroom.items["Beef patty 180 g"], 0), (stockroom.items["Brioche bun"], 0)],
        )
    assert (await stockroom.dish("GR-BUR")).is_86d
    await _receive(stockroom, "Brioche bun", 24_000, 1_080)
    assert (await stockroom.dish("GR-BUR")).is_86d, "still no patties"
    await _receive(stockroom, "Beef patty 180 g", 20_000, 4_200)
    assert not (await stockroom.dish("GR-BUR")).is_86d


async def test_a_dish_a_person_86d_stays_86d_when_stock_comes_back(stockroom: Stockroom) -> None:
    async with stockroom.runtime.db.write() as session:
        await eighty_six(session, stockroom.dishes["GR-RIB"], "grill down", None)
    await _sell(stockroom, "check:40", ("GR-RIB", [], Fraction(12), "Kitchen"))
    await _receive(stockroom, "Rib-eye steak 300 g", 6_000, 5_880)
    rib = await stockroom.dish("GR-RIB")
    assert rib.is_86d
    assert rib.eighty_six_reason == "grill down"


async def test_servings_left_follow_the_scarcest_counted_ingredient(stockroom: Stockroom) -> None:
    await _sell(stockroom, "check:50", ("GR-BUR", [], Fraction(30), "Kitchen"))
    async with stockroom.runtime.db.read() as session:
        left = await queries.servings_left(session, [stockroom.dishes["GR-BUR"], stockroom.dishes["FR-FRI"]])
    assert left == {stockroom.dishes["GR-BUR"]: 10}


async def test_low_stock_is_flagged_against_the_par_level(stockroom: Stockroom) -> None:
    async with stockroom.runtime.db.read() as session:
        assert await queries.low_stock(session) == []
    await _sell(stockroom, "check:60", ("GR-BUR", [], Fraction(21), "Kitchen"))
    async with stockroom.runtime.db.read() as session:
        low = {(row.item.name, row.location.name) for row in await queries.low_stock(session)}
    assert low == {("Beef patty 180 g", "Kitchen")}


async def test_the_valuation_is_quantity_times_average_cost(stockroom: Stockroom) -> None:
    async with stockroom.runtime.db.read() as session:
        valuation = await queries.valuation(session)
        received = (
            await session.exec(select(func.sum(StockMove.value_cents)).where(StockMove.kind == MoveKind.RECEIPT))
        ).one()
    assert valuation.total_cents == received, "right after the opening deliveries stock is worth what it cost"
    assert sum(valuation.location_total_cents(p.id) for p in valuation.places) == valuation.total_cents
    await _sell(stockroom, "check:70", ("GR-RIB", [], Fraction(2), "Kitchen"))
    async with stockroom.runtime.db.read() as session:
        after = await queries.valuation(session)
    assert after.total_cents == valuation.total_cents - 2 * 980
    async with stockroom.runtime.db.read() as session:
        all_moves = (await session.exec(select(func.sum(StockMove.value_cents)))).one()
    assert after.total_cents == all_moves


async def test_selling_the_last_of_an_item_leaves_it_worth_nothing(stockroom: Stockroom) -> None:
    await _receive(stockroom, "Gin", 700_000, 3_333, "Bar")
    gin = await stockroom.item("Gin")
    await _sell(stockroom, "check:80", ("CK-NEG", [], Fraction(7_700_000, 30_000), "Bar"))
    async with stockroom.runtime.db.read() as session:
        valuation = await queries.valuation(session)
    row = next(r for r in valuation.rows if r.item.name == "Gin")
    assert row.total_milli == 0
    assert row.value_cents == 0
    assert gin.unit_cost_millicents == round((20_000 + 3_333) * 1_000_000 / 7_700_000)


async def test_a_stock_item_name_is_unique_and_its_unit_known(stockroom: Stockroom) -> None:
    async with stockroom.runtime.db.write() as session:
        with pytest.raises(Conflict, match="already exists"):
            await create_stock_item(session, name="gin", unit="ml")
        with pytest.raises(InvalidInput, match="Unit must be one of"):
            await create_stock_item(session, name="Limes", unit="dozen")


async def test_levels_equal_the_sum_of_moves_after_a_busy_day(stockroom: Stockroom) -> None:
    for number in range(12):
        await _sell(
            stockroom,
            f"check:{100 + number}",
            ("GR-BUR", [("Burger extras", "Bacon")], Fraction(1 + number % 3), "Kitchen"),
            ("CK-NEG", [], Fraction(1, 1 + number % 2), "Bar"),
            ("BR-PIL", [("Beer size", "50 cl")], Fraction(2), "Bar"),
        )
    await _receive(stockroom, "Bacon", 1_000_000, 1_300)
    async with stockroom.runtime.db.write() as session:
        await record_count(session, location_id=stockroom.places["Bar"], counts=[(stockroom.items["Gin"], 6_500_000)])
    await _levels_equal_moves(stockroom)
