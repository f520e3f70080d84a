"""A venue's promotions in head office's books: posted on the promotions contra account like discounts, so
reconciliation with the venue's Z report still comes to zero."""

from __future__ import annotations

from typing import Any

import httpx
from litestar import Litestar
from sqlmodel import select

from app.group import statements
from app.menu.models import MenuCategory
from app.promotions import services as promotions
from app.promotions.services import PromotionInput
from app.staff.models import Staff
from app.sync.sender import SyncSender
from tests.integration.group.test_books import _balances, _day_closed, _group_chart, _join, _sell_a_day, venue_demo

__all__ = ["venue_demo"]


async def test_a_day_sold_under_promotions_reconciles_to_zero_at_head_office(
    runtime: Any,
    venue: Any,
    venue_app: Litestar,
    venue_demo: None,
    to_head_office: httpx.AsyncBaseTransport,
) -> None:
    await _group_chart(runtime, venue)
    await _join(runtime, venue, "NORTH", to_head_office)
    async with venue.db.write() as session:
        manager = (await session.exec(select(Staff).where(Staff.name == "Nora Vance"))).one()
        for category in (await session.exec(select(MenuCategory))).all():
            form = PromotionInput(name=f"{category.name} 10 %", kind="percent", percent="10", category_id=category.id)
            await promotions.create_promotion(session, form, actor=manager)
    await _sell_a_day(venue_app, 4, seed=5)
    assert (await SyncSender(venue.db, transport=to_head_office).send_all()).error is None
    assert (await _balances(runtime.db, venue="NORTH")).get("4520", 0) > 0, "promotions reached the group's books"
    day = await _day_closed(runtime)
    async with runtime.db.read() as session:
        result = await statements.reconcile(session, day)
    assert result.differences == [], [(d.figure, d.z_cents, d.posted_cents) for d in result.differences]
