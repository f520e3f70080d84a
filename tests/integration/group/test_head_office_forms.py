"""Head office's forms are typed: a missing or malformed field is refused by its label, and nothing changes."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from app.group import catalog as head_office_catalog
from app.group import services as head_office
from app.group.models import Venue


async def _venues(runtime: Any) -> list[Venue]:
    async with runtime.db.read() as session:
        return list((await session.exec(select(Venue))).all())


async def test_a_dish_a_venue_sells_needs_its_sku_and_a_short_venue_code(manager: Any, runtime: Any) -> None:
    async with runtime.db.write() as session:
        await head_office.add_venue(
            session, code="NORTH", name="Brigade North", timezone="Europe/Amsterdam", currency="EUR"
        )
    no_sku = await manager.post("/manage/catalog/assortment", {"venue": "NORTH", "price": "12.00"})
    assert no_sku.status_code == 422
    assert "SKU is required." in no_sku.text
    long_code = await manager.post("/manage/catalog/assortment", {"venue": "N" * 21, "sku": "SOUP"})
    assert long_code.status_code == 422
    assert "Venue is 21 characters; the limit is 20." in long_code.text
    async with runtime.db.read() as session:
        assert await head_office_catalog.assortments(session) == []


async def test_a_venue_whose_name_is_too_long_is_refused_and_not_added(manager: Any, runtime: Any) -> None:
    response = await manager.post("/manage/venues", {"code": "EAST", "name": "x" * 121})
    assert response.status_code == 422
    assert "Name is 121 characters; the limit is 120." in response.text
    assert await _venues(runtime) == []
