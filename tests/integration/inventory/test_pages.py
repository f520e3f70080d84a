"""Stockroom pages: full page and fragment, forms and their error paths, double submits, the role guard."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from app.inventory.models import RecipeComponent, StockItem, StockLevel, StockLocation, StockMove
from tests.integration.inventory.conftest import Stockroom

PAGES = [
    "/inventory",
    "/inventory/items",
    "/inventory/receive",
    "/inventory/count",
    "/inventory/waste",
    "/inventory/transfer",
    "/inventory/recipes",
    "/inventory/valuation",
    "/inventory/moves",
]


async def _moves(room: Stockroom) -> int:
    async with room.runtime.db.read() as session:
        return int((await session.exec(select(func.count()).select_from(StockMove))).one())


async def _stockroom_state(room: Stockroom) -> tuple[Any, ...]:
    """Moves, par levels, recipe lines, locations and items: what a refused form must leave as it was."""
    async with room.runtime.db.read() as session:
        levels = (await session.exec(select(StockLevel))).all()
        return (
            int((await session.exec(select(func.count()).select_from(StockMove))).one()),
            sorted((level.stock_item_id, level.location_id, level.par_milli) for level in levels),
            sorted(
                (c.menu_item_id or 0, c.modifier_id or 0, c.stock_item_id, c.quantity_milli)
                for c in (await session.exec(select(RecipeComponent))).all()
            ),
            sorted(location.name for location in (await session.exec(select(StockLocation))).all()),
            sorted(item.name for item in (await session.exec(select(StockItem))).all()),
        )


@pytest.mark.parametrize("url", PAGES)
async def test_a_server_gets_403_on_every_stock_page(server: Any, url: str) -> None:
    response = await server.get(url)
    assert response.status_code == 403
    assert "Ask a manager" in response.text


async def test_a_server_cannot_move_stock(server: Any, stockroom: Stockroom) -> None:
    before = await _moves(stockroom)
    response = await server.post(
        "/inventory/waste",
        {
            "idempotency_key": "k1",
            "stock_item_id": stockroom.items["Eggs"],
            "location_id": stockroom.places["Kitchen"],
            "quantity": "6",
            "reason": "x",
        },
    )
    assert response.status_code == 403
    assert await _moves(stockroom) == before


@pytest.mark.parametrize("url", PAGES)
async def test_every_stock_page_renders_whole_and_as_a_fragment(manager: Any, stockroom: Stockroom, url: str) -> None:
    page = await manager.get(url)
    assert page.status_code == 200, page.text
    assert "<html" in page.text
    fragment = await manager.get(url, htmx=True)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text


async def test_the_levels_page_flags_low_stock(manager: Any, stockroom: Stockroom) -> None:
    await manager.post(
        "/inventory/count",
        {
            "idempotency_key": "c1",
            "location_id": stockroom.places["Kitchen"],
            "stock_item_id": stockroom.items["Eggs"],
            "count": "10",
        },
    )
    page = await manager.get("/inventory")
    assert "Below par: Eggs at Kitchen (10 of 24 pcs)" in page.text
    assert "pill-amber" in page.text


async def test_a_delivery_is_booked_once_however_often_it_is_sent(manager: Any, stockroom: Stockroom) -> None:
    data = {
        "idempotency_key": "delivery-1",
        "location_id": stockroom.places["Kitchen"],
        "supplier": "Metro <Cash & Carry>",
        "reference": "DN-1",
        "stock_item_id": [str(stockroom.items["Cheddar"]), "", ""],
        "quantity": ["1000", "", ""],
        "cost": ["14.50", "", ""],
    }
    first = await manager.post("/inventory/receive", data)
    assert first.status_code == 200
    assert "Delivery booked: 1 line(s), €14.50." in first.text
    assert "Metro &lt;Cash &amp; Carry&gt;" in first.text
    second = await manager.post("/inventory/receive", data)
    assert second.status_code == 200
    assert await stockroom.on_hand("Cheddar") == 3_000_000


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"quantity": ["abc"], "cost": ["1"]}, "Line 1 quantity: Enter a quantity like 2.5"),
        ({"quantity": ["-2"], "cost": ["1"]}, "Line 1 quantity: A quantity cannot be negative."),
        ({"quantity": ["0"], "cost": ["1"]}, "must be more than zero"),
        ({"quantity": ["1.2345"], "cost": ["1"]}, "at most three decimals"),
        ({"quantity": ["5"], "cost": ["-1"]}, "cannot be negative"),
        ({"quantity": ["5"], "cost": ["1.234"]}, "Use at most two decimals"),
        ({"stock_item_id": [""], "quantity": ["5"], "cost": ["1"]}, "Line 1: choose an item."),
        ({"stock_item_id": [""], "quantity": [""], "cost": [""]}, "at least one line"),
        ({"location_id": "x"}, "Where it was delivered must be a whole number."),
        ({"location_id": ""}, "Where it was delivered is required."),
        ({"stock_item_id": ["x"], "quantity": ["5"], "cost": ["1"]}, "Line 1: choose an item."),
        ({"quantity": ["5", "6"], "cost": ["1", "2"]}, "rows do not line up"),
        ({"supplier": "s" * 81}, "Supplier is 81 characters"),
        ({"idempotency_key": ""}, "no valid idempotency key"),
    ],
)
async def test_a_bad_delivery_is_refused_with_a_clear_message(
    manager: Any, stockroom: Stockroom, fields: dict[str, Any], message: str
) -> None:
    data: dict[str, Any] = {
        "idempotency_key": "bad-delivery",
        "location_id": stockroom.places["Kitchen"],
        "stock_item_id": [str(stockroom.items["Cheddar"])],
        "quantity": ["5"],
        "cost": ["1"],
        **fields,
    }
    before = await _moves(stockroom)
    response = await manager.post("/inventory/receive", data)
    assert response.status_code == 422, response.text
    assert message in response.text
    assert await _moves(stockroom) == before


async def test_a_count_posts_variances_and_blank_boxes_are_skipped(manager: Any, stockroom: Stockroom) -> None:
    sheet = await manager.get(f"/inventory/count?location={stockroom.places['Bar']}")
    assert f'name="stock_item_id" value="{stockroom.items["Gin"]}"' in sheet.text
    response = await manager.post(
        "/inventory/count",
        {
            "idempotency_key": "count-1",
            "location_id": stockroom.places["Bar"],
            "stock_item_id": [stockroom.items["Gin"], stockroom.items["Campari"]],
            "count": ["6500", ""],
        },
    )
    assert response.status_code == 200
    assert "Count posted: 1 item(s) counted, 1 variance(s) worth -€14.28." in response.text
    assert await stockroom.on_hand("Gin") == 6_500_000
    assert await stockroom.on_hand("Campari") == 2_100_000


async def test_a_bad_count_is_refused(manager: Any, stockroom: Stockroom) -> None:
    before = await _moves(stockroom)
    bad = await manager.post(
        "/inventory/count",
        {
            "idempotency_key": "c",
            "location_id": stockroom.places["Bar"],
            "stock_item_id": stockroom.items["Gin"],
            "count": "-1",
        },
    )
    assert bad.status_code == 422
    assert "Count: A quantity cannot be negative." in bad.text
    unknown_item = await manager.post(
        "/inventory/count",
        {"idempotency_key": "c3", "location_id": stockroom.places["Bar"], "stock_item_id": "gin", "count": "1"},
    )
    assert unknown_item.status_code == 422
    assert "Item must be a whole number." in unknown_item.text
    torn = await manager.post(
        "/inventory/count",
        {"idempotency_key": "c4", "location_id": stockroom.places["Bar"], "stock_item_id": stockroom.items["Gin"]},
    )
    assert torn.status_code == 422
    assert "rows do not line up" in torn.text
    no_key = await manager.post(
        "/inventory/count",
        {"location_id": stockroom.places["Bar"], "stock_item_id": stockroom.items["Gin"], "count": "1"},
    )
    assert no_key.status_code == 422
    assert "no valid idempotency key" in no_key.text
    empty = await manager.post("/inventory/count", {"idempotency_key": "c2", "location_id": stockroom.places["Bar"]})
    assert empty.status_code == 422
    assert "at least one counted quantity" in empty.text
    unknown = await manager.get("/inventory/count?location=abc")
    assert unknown.status_code == 422
    assert await _moves(stockroom) == before


async def test_waste_and_transfer_forms_move_stock_and_refuse_bad_input(manager: Any, stockroom: Stockroom) -> None:
    waste = await manager.post(
        "/inventory/waste",
        {
            "idempotency_key": "w1",
            "stock_item_id": stockroom.items["Eggs"],
            "location_id": stockroom.places["Kitchen"],
            "quantity": "6",
            "reason": "cracked",
        },
    )
    assert "Waste recorded: €1.80 at cost." in waste.text
    no_reason = await manager.post(
        "/inventory/waste",
        {
            "idempotency_key": "w2",
            "stock_item_id": stockroom.items["Eggs"],
            "location_id": stockroom.places["Kitchen"],
            "quantity": "6",
            "reason": "",
        },
    )
    assert no_reason.status_code == 422
    assert "Reason is required" in no_reason.text
    moved = await manager.post(
        "/inventory/transfer",
        {
            "idempotency_key": "t1",
            "stock_item_id": stockroom.items["Potatoes"],
            "from_location_id": stockroom.places["Storeroom"],
            "to_location_id": stockroom.places["Kitchen"],
            "quantity": "2500",
        },
    )
    assert "Transfer booked." in moved.text
    too_much = await manager.post(
        "/inventory/transfer",
        {
            "idempotency_key": "t2",
            "stock_item_id": stockroom.items["Potatoes"],
            "from_location_id": stockroom.places["Kitchen"],
            "to_location_id": stockroom.places["Bar"],
            "quantity": "999999",
        },
    )
    assert too_much.status_code == 409
    assert "cannot send" in too_much.text
    assert await stockroom.on_hand("Eggs") == 54_000
    assert await stockroom.on_hand("Potatoes", "Kitchen") == 2_500_000


async def test_a_recipe_line_is_set_changed_and_removed_from_the_page(manager: Any, stockroom: Stockroom) -> None:
    tiramisu = stockroom.dishes["DS-TIR"]
    owner = f"item:{tiramisu}"
    added = await manager.post(
        "/inventory/recipes", {"owner": owner, "stock_item_id": stockroom.items["Eggs"], "quantity": "2"}
    )
    assert added.status_code == 200
    assert f'id="recipe-item-{tiramisu}"' in added.text
    assert "€0.60 cost" in added.text
    negative = await manager.post(
        "/inventory/recipes", {"owner": owner, "stock_item_id": stockroom.items["Eggs"], "quantity": "-1"}
    )
    assert negative.status_code == 422
    removed = await manager.post(
        "/inventory/recipes", {"owner": owner, "stock_item_id": stockroom.items["Eggs"], "quantity": "0"}
    )
    assert "no recipe" in removed.text
    modifier = stockroom.modifiers[("Burger extras", "No pickles")]
    takes_out = await manager.post(
        "/inventory/recipes",
        {"owner": f"modifier:{modifier}", "stock_item_id": stockroom.items["Onions"], "quantity": "-10"},
    )
    assert takes_out.status_code == 200
    assert "-10 g Onions" in takes_out.text
    bad_owner = await manager.post(
        "/inventory/recipes", {"owner": "table:1", "stock_item_id": stockroom.items["Eggs"], "quantity": "1"}
    )
    assert bad_owner.status_code == 422
    unknown = await manager.post(
        "/inventory/recipes", {"owner": "item:99999", "stock_item_id": stockroom.items["Eggs"], "quantity": "1"}
    )
    assert unknown.status_code == 404
    async with stockroom.runtime.db.read() as session:
        lines = (await session.exec(select(RecipeComponent).where(RecipeComponent.menu_item_id == tiramisu))).all()
    assert lines == []


async def test_items_and_locations_are_added_from_the_page(manager: Any, stockroom: Stockroom) -> None:
    added = await manager.post("/inventory/items", {"name": "Limes", "unit": "piece", "counted": "on"})
    assert "Added Limes." in added.text
    clash = await manager.post("/inventory/items", {"name": "limes", "unit": "piece"})
    assert clash.status_code == 409
    bad_unit = await manager.post("/inventory/items", {"name": "Mint", "unit": "bunch"})
    assert bad_unit.status_code == 422
    location = await manager.post("/inventory/locations", {"name": "Walk-in cooler"})
    assert "Added location Walk-in cooler." in location.text
    async with stockroom.runtime.db.read() as session:
        limes = (await session.exec(select(StockItem).where(StockItem.name == "Limes"))).one()
    assert limes.counted
    unwatched = await manager.post(f"/inventory/items/{limes.id}/counted", {"counted": ""})
    assert "Limes is no longer watched." in unwatched.text
    archived = await manager.post(f"/inventory/items/{limes.id}/archive")
    assert "Archived Limes." in archived.text
    in_stock = await manager.post(f"/inventory/items/{stockroom.items['Gin']}/archive")
    assert in_stock.status_code == 409
    assert "count it to zero first" in in_stock.text


async def test_par_levels_are_set_and_cleared_from_the_page(manager: Any, stockroom: Stockroom) -> None:
    saved = await manager.post(
        "/inventory/par",
        {"stock_item_id": stockroom.items["Gin"], "location_id": stockroom.places["Bar"], "par": "8000"},
    )
    assert "Par level saved." in saved.text
    assert "Gin at Bar (7,000 of 8,000 ml)" in saved.text
    cleared = await manager.post(
        "/inventory/par", {"stock_item_id": stockroom.items["Gin"], "location_id": stockroom.places["Bar"], "par": ""}
    )
    assert "Gin at Bar" not in cleared.text
    bad = await manager.post(
        "/inventory/par", {"stock_item_id": stockroom.items["Gin"], "location_id": stockroom.places["Bar"], "par": "x"}
    )
    assert bad.status_code == 422


async def test_the_valuation_page_totals_every_location(manager: Any, stockroom: Stockroom) -> None:
    page = await manager.get("/inventory/valuation")
    assert "€806.20" in page.text
    assert "€14.00 / kg" in page.text, "cheddar at €28 for 2 kg"
    assert "€2.10 / pc" in page.text


@pytest.mark.parametrize(
    ("path", "fields", "message"),
    [
        ("/inventory/waste", {"stock_item_id": ""}, "Item is required."),
        ("/inventory/waste", {"location_id": "kitchen"}, "Location must be a whole number."),
        ("/inventory/waste", {"quantity": "lots"}, "Quantity: Enter a quantity like 2.5"),
        ("/inventory/waste", {"reason": "r" * 201}, "Reason is 201 characters; the limit is 200."),
        ("/inventory/transfer", {"to_location_id": "0"}, "To must be at least 1."),
        ("/inventory/transfer", {"quantity": ""}, "Quantity is required."),
        ("/inventory/transfer", {"note": "n" * 201}, "Note is 201 characters; the limit is 200."),
        ("/inventory/par", {"par": "-1"}, "Par level: A quantity cannot be negative."),
        ("/inventory/par", {"location_id": ""}, "Location is required."),
        ("/inventory/recipes", {"owner": ""}, "Dish or modifier is required."),
        ("/inventory/recipes", {"owner": "item:x"}, "Choose a dish or a modifier."),
        ("/inventory/recipes", {"stock_item_id": "eggs"}, "Stock item must be a whole number."),
        ("/inventory/recipes", {"quantity": "2.0001"}, "at most three decimals"),
        ("/inventory/locations", {"name": ""}, "Name is required."),
        ("/inventory/items", {"name": ""}, "Name is required."),
        ("/inventory/items", {"unit": "bunch"}, "Unit must be one of: g, ml, piece."),
        ("/inventory/locations", {"name": "x" * 61}, "Name is 61 characters; the limit is 60."),
    ],
)
async def test_a_missing_or_malformed_field_is_refused_by_its_label_and_changes_nothing(
    manager: Any, stockroom: Stockroom, path: str, fields: dict[str, Any], message: str
) -> None:
    tiramisu = stockroom.dishes["DS-TIR"]
    valid: dict[str, dict[str, Any]] = {
        "/inventory/waste": {
            "idempotency_key": "refused-waste",
            "stock_item_id": stockroom.items["Eggs"],
            "location_id": stockroom.places["Kitchen"],
            "quantity": "6",
            "reason": "cracked",
        },
        "/inventory/transfer": {
            "idempotency_key": "refused-transfer",
            "stock_item_id": stockroom.items["Gin"],
            "from_location_id": stockroom.places["Bar"],
            "to_location_id": stockroom.places["Kitchen"],
            "quantity": "1",
        },
        "/inventory/par": {"stock_item_id": stockroom.items["Gin"], "location_id": stockroom.places["Bar"], "par": "1"},
        "/inventory/recipes": {"owner": f"item:{tiramisu}", "stock_item_id": stockroom.items["Eggs"], "quantity": "2"},
        "/inventory/locations": {"name": "Cellar"},
        "/inventory/items": {"name": "Mint", "unit": "g"},
    }
    before = await _stockroom_state(stockroom)
    response = await manager.post(path, {**valid[path], **fields})
    assert response.status_code == 422, response.text
    assert message in response.text
    assert await _stockroom_state(stockroom) == before
