"""The demo stockroom and short ways to name its items, locations and dishes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import select

from app.inventory.models import StockItem, StockLevel, StockLocation
from app.menu.models import MenuItem, Modifier, ModifierGroup


@dataclass
class Stockroom:
    """Ids of the demo's stock items, locations, dishes and modifiers by name."""

    runtime: Any
    items: dict[str, int]
    places: dict[str, int]
    dishes: dict[str, int]
    modifiers: dict[tuple[str, str], int]

    async def on_hand(self, item: str, place: str | None = None) -> int:
        async with self.runtime.db.read() as session:
            query = select(StockLevel).where(StockLevel.stock_item_id == self.items[item])
            if place is not None:
                query = query.where(StockLevel.location_id == self.places[place])
            return sum(level.on_hand_milli for level in (await session.exec(query)).all())

    async def item(self, name: str) -> StockItem:
        async with self.runtime.db.read() as session:
            return await session.get(StockItem, self.items[name])

    async def dish(self, sku: str) -> MenuItem:
        async with self.runtime.db.read() as session:
            return await session.get(MenuItem, self.dishes[sku])


@pytest.fixture
async def stockroom(runtime: Any, demo: None) -> Stockroom:
    """The demo restaurant's stock: Kitchen, Bar and Storeroom with opening deliveries and recipes."""
    async with runtime.db.read() as session:
        items = {i.name: i.id for i in (await session.exec(select(StockItem))).all()}
        places = {p.name: p.id for p in (await session.exec(select(StockLocation))).all()}
        dishes = {d.sku: d.id for d in (await session.exec(select(MenuItem))).all()}
        modifiers = {
            (g.name, m.name): m.id
            for m, g in (await session.exec(select(Modifier, ModifierGroup).join(ModifierGroup))).all()
        }
    return Stockroom(runtime, items, places, dishes, modifiers)
