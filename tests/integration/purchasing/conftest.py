"""The demo restaurant's suppliers, stock items and locations by name, and a quiet outbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import select

from app.inventory.models import StockItem, StockLevel, StockLocation
from app.lib.settings import Settings
from app.purchasing.models import Supplier, SupplierItem


@dataclass
class Purchasing:
    """Ids by name: stock items, locations, suppliers, and each supplier's items (supplier, item) → id."""

    runtime: Any
    items: dict[str, int]
    places: dict[str, int]
    suppliers: dict[str, int]
    catalog: dict[tuple[str, str], int]

    async def level(self, item: str, place: str) -> StockLevel:
        async with self.runtime.db.read() as session:
            return (
                await session.exec(
                    select(StockLevel).where(
                        StockLevel.stock_item_id == self.items[item], StockLevel.location_id == self.places[place]
                    )
                )
            ).one()

    async def deliver(self) -> None:
        while await self.runtime.dispatcher.drain():
            pass


@pytest.fixture
async def settings(settings: Settings) -> Settings:
    """No background workers: each test delivers the outbox when it means to."""
    settings.run_workers = False
    return settings


@pytest.fixture
async def purchasing(runtime: Any, demo: None) -> Purchasing:
    """The demo's three suppliers and what they sell."""
    async with runtime.db.read() as session:
        items = {i.name: i.id for i in (await session.exec(select(StockItem))).all()}
        places = {p.name: p.id for p in (await session.exec(select(StockLocation))).all()}
        suppliers = {s.name: s.id for s in (await session.exec(select(Supplier))).all()}
        names = {v: k for k, v in suppliers.items()}
        item_names = {v: k for k, v in items.items()}
        catalog = {
            (names[row.supplier_id], item_names[row.stock_item_id]): row.id
            for row in (await session.exec(select(SupplierItem))).all()
        }
    return Purchasing(runtime, items, places, suppliers, catalog)
