"""A catalog release that reprices a dish redraws its button on every open check page at once, like an 86 does."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from app.group import catalog as head_office_catalog
from app.lib.clock import utcnow
from app.lib.settings import Settings
from app.orders.models import CheckLine
from app.sync import catalog
from app.sync.catalog_models import ReceivedRelease
from tests.integration.orders.conftest import Restaurant
from tests.integration.orders.test_live_floor import Tablet, _next_update, served

__all__ = ["served"]


@pytest.fixture
async def settings(settings: Settings) -> Settings:
    """A venue (the group tests' app is otherwise a head office)."""
    return settings.model_copy(update={"role": "venue"})


async def test_a_release_that_reprices_a_dish_redraws_its_button_on_an_open_check(served: str, runtime: Any) -> None:
    restaurant = Restaurant(runtime)
    lena = await Tablet(served).log_in("1111")
    check_id = await restaurant.open_table(lena, "12", 2)
    soup = await restaurant.item_id("ST-SOU")
    await restaurant.ring_in(lena, check_id, "ST-SOU", seat=1)
    async with runtime.db.read() as session:
        (rung,) = (await session.exec(select(CheckLine).where(CheckLine.check_id == check_id))).all()
    async with runtime.db.read() as session:
        frozen = await head_office_catalog.snapshot(session)  # the venue's menu as head office would send it
    for item in frozen["items"]:
        if item["sku"] == "ST-SOU":
            item["price_cents"] = 4321
    async with lena.websocket(f"/checks/{check_id}/live") as ws:
        async with runtime.db.write() as session:
            release = ReceivedRelease(number=1, published_at=utcnow(), payload={"catalog": frozen})
            session.add(release)
            await session.flush()
            done = await catalog.apply_release(session, release, None)
        assert done.changed == 1
        html, took = await _next_update(ws, f'id="menu-item-{soup}"')
        assert took < 1.0
        assert "43.21" in html
    async with runtime.db.read() as session:
        line = await session.get(CheckLine, rung.id)
    assert line is not None
    assert (line.name, line.unit_price_cents) == (rung.name, rung.unit_price_cents), "a line rung in keeps its price"
    assert rung.unit_price_cents != 4321
    await lena.http.aclose()
