"""The demo restaurant's stockroom: three locations, a few dozen kilos of stock, recipes for best sellers."""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.accounts import account_by_code
from app.accounting.services import PostingLine, post_entry
from app.inventory.models import StockItem, StockMove
from app.inventory.services import (
    ReceiptLine,
    create_location,
    create_stock_item,
    receive_delivery,
    set_par,
    set_recipe_component,
)
from app.lib.clock import utcnow
from app.menu.models import MenuItem, Modifier, ModifierGroup

LOCATIONS: Final = ["Kitchen", "Bar", "Storeroom"]
SAFE_CASH_CENTS: Final = 200_000
# Chart codes from app/accounting/chart.py: inventory, cash in safe, opening balances.
INVENTORY_ACCOUNT, SAFE_ACCOUNT, OPENING_ACCOUNT = "1100", "1900", "3010"

# name, unit, counted (auto-86), location, opening quantity (thousandths), invoice cents, par (thousandths)
STOCK: Final[list[tuple[str, str, bool, str, int, int, int | None]]] = [
    ("Beef patty 180 g", "piece", True, "Kitchen", 40_000, 8_400, 20_000),
    ("Brioche bun", "piece", True, "Kitchen", 48_000, 2_160, 24_000),
    ("Rib-eye steak 300 g", "piece", True, "Kitchen", 12_000, 11_760, 6_000),
    ("Burrata", "piece", True, "Kitchen", 10_000, 2_400, 6_000),
    ("Tomatoes", "g", False, "Kitchen", 5_000_000, 1_500, 2_000_000),
    ("Onions", "g", False, "Storeroom", 10_000_000, 1_200, None),
    ("Potatoes", "g", False, "Storeroom", 25_000_000, 3_000, 10_000_000),
    ("Frying oil", "ml", False, "Kitchen", 20_000_000, 5_000, 5_000_000),
    ("Cheddar", "g", False, "Kitchen", 2_000_000, 2_800, 500_000),
    ("Bacon", "g", False, "Kitchen", 1_500_000, 1_800, 500_000),
    ("Eggs", "piece", False, "Kitchen", 60_000, 1_800, 24_000),
    ("Gin", "ml", False, "Bar", 7_000_000, 20_000, 2_100_000),
    ("Campari", "ml", False, "Bar", 2_100_000, 5_400, 700_000),
    ("Sweet vermouth", "ml", False, "Bar", 1_500_000, 2_400, 750_000),
    ("Pilsner (keg)", "ml", False, "Bar", 50_000_000, 11_000, 20_000_000),
]

# menu item SKU → [(stock item, thousandths per unit sold)]
DISHES: Final[dict[str, list[tuple[str, int]]]] = {
    "GR-BUR": [("Beef patty 180 g", 1_000), ("Brioche bun", 1_000), ("Tomatoes", 30_000), ("Onions", 20_000)],
    "GR-RIB": [("Rib-eye steak 300 g", 1_000)],
    "ST-BUR": [("Burrata", 1_000), ("Tomatoes", 120_000)],
    "FR-FRI": [("Potatoes", 250_000), ("Frying oil", 20_000)],
    "CK-NEG": [("Gin", 30_000), ("Campari", 30_000), ("Sweet vermouth", 30_000)],
    "BR-PIL": [("Pilsner (keg)", 250_000)],
}

# (modifier group, modifier) → [(stock item, thousandths; negative takes it out of the dish)]
MODIFIERS: Final[dict[tuple[str, str], list[tuple[str, int]]]] = {
    ("Burger extras", "Cheddar"): [("Cheddar", 20_000)],
    ("Burger extras", "Bacon"): [("Bacon", 30_000)],
    ("Burger extras", "Fried egg"): [("Eggs", 1_000)],
    ("Burger extras", "No onion"): [("Onions", -20_000)],
    ("Side", "Fries"): [("Potatoes", 200_000), ("Frying oil", 15_000)],
    ("Beer size", "50 cl"): [("Pilsner (keg)", 250_000)],
}


async def seed_demo_stock(session: AsyncSession) -> None:
    """Stock the demo restaurant (once: a stockroom that already has items is left alone)."""
    if int((await session.exec(select(func.count()).select_from(StockItem))).one()):
        return
    places = {name: await create_location(session, name=name) for name in LOCATIONS}
    items: dict[str, StockItem] = {}
    deliveries: dict[str, list[ReceiptLine]] = {name: [] for name in LOCATIONS}
    for name, unit, counted, place, quantity, cents, _ in STOCK:
        items[name] = await create_stock_item(session, name=name, unit=unit, counted=counted)
        deliveries[place].append(ReceiptLine(items[name].id or 0, quantity, cents))
    for place, lines in deliveries.items():
        await receive_delivery(
            session,
            location_id=places[place].id or 0,
            lines=lines,
            supplier="Opening stock",
            reference="DEMO-OPENING",
            source_key=f"demo:opening:{place}",
            to_ledger=False,
        )
    for name, _, _, place, _, _, par in STOCK:
        if par is not None:
            await set_par(session, item_id=items[name].id or 0, location_id=places[place].id or 0, par_milli=par)
    for sku, parts in DISHES.items():
        dish = (await session.exec(select(MenuItem).where(MenuItem.sku == sku))).first()
        if dish is None:
            continue
        for stock_name, quantity in parts:
            await set_recipe_component(
                session, menu_item_id=dish.id, stock_item_id=items[stock_name].id or 0, quantity_milli=quantity
            )
    for (group_name, modifier_name), parts in MODIFIERS.items():
        modifier = (
            await session.exec(
                select(Modifier)
                .join(ModifierGroup)
                .where(ModifierGroup.name == group_name, Modifier.name == modifier_name)
            )
        ).first()
        if modifier is None:
            continue
        for stock_name, quantity in parts:
            await set_recipe_component(
                session, modifier_id=modifier.id, stock_item_id=items[stock_name].id or 0, quantity_milli=quantity
            )
    await _post_opening_balances(session)


async def _post_opening_balances(session: AsyncSession) -> None:
    """The books open with the stock just delivered and the cash in the safe, dated the day before."""
    if any(
        [await account_by_code(session, code) is None for code in (INVENTORY_ACCOUNT, SAFE_ACCOUNT, OPENING_ACCOUNT)]
    ):
        return
    stock_value = int((await session.exec(select(func.coalesce(func.sum(StockMove.value_cents), 0)))).one())
    await post_entry(
        session,
        date=utcnow().date() - dt.timedelta(days=1),
        description="Opening balances",
        lines=[
            PostingLine(INVENTORY_ACCOUNT, stock_value, "opening stock at cost"),
            PostingLine(SAFE_ACCOUNT, SAFE_CASH_CENTS, "cash in the safe"),
            PostingLine(OPENING_ACCOUNT, -(stock_value + SAFE_CASH_CENTS)),
        ],
        source_type="opening",
        source_id="demo",
    )
