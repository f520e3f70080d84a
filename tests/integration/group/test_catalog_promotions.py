"""Promotions travel with the group's catalog releases: a venue gets head office's rules on its own menu (only
for what it sells), rings items in under them, and archives the ones head office stopped; its own rules stay."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from app.group import catalog as head_office_catalog
from app.menu.models import MenuCategory, MenuItem
from app.promotions import services as promotions
from app.promotions.models import Promotion, PromotionItem
from app.promotions.services import PromotionInput
from app.staff.models import Staff
from tests.integration.group.test_catalog import _publish, _pull, joined, venue_demo

__all__ = ["joined", "venue_demo"]


async def _manager(db: Any) -> Staff:
    async with db.read() as session:
        return (await session.exec(select(Staff).where(Staff.name == "Nora Vance"))).one()


async def _create(db: Any, form: PromotionInput) -> Promotion:
    manager = await _manager(db)
    async with db.write() as session:
        return await promotions.create_promotion(session, form, actor=manager)


async def _rules(db: Any) -> dict[str, tuple[Promotion, list[tuple[str, str | None]], str | None]]:
    async with db.read() as session:
        found = {}
        for rule in (await session.exec(select(Promotion))).all():
            rows = (
                await session.exec(
                    select(MenuItem.sku, PromotionItem.slot)
                    .join(PromotionItem, PromotionItem.menu_item_id == MenuItem.id)
                    .where(PromotionItem.promotion_id == rule.id)
                )
            ).all()
            category = await session.get(MenuCategory, rule.category_id) if rule.category_id else None
            found[rule.name] = (rule, sorted((sku, slot) for sku, slot in rows), category.name if category else None)
    return found


async def _ids(db: Any) -> tuple[dict[str, int], dict[str, int]]:
    async with db.read() as session:
        items = {i.sku: i.id or 0 for i in (await session.exec(select(MenuItem))).all()}
        categories = {c.name: c.id or 0 for c in (await session.exec(select(MenuCategory))).all()}
    return items, categories


async def test_a_release_brings_head_offices_promotions_and_takes_back_the_ones_it_stopped(
    runtime: Any, venue: Any, joined: str, to_head_office: Any
) -> None:
    items, categories = await _ids(runtime.db)
    happy = await _create(
        runtime.db,
        PromotionInput(
            name="Happy hour",
            kind="percent",
            percent="30",
            category_id=categories["Cocktails"],
            weekdays=[0, 1, 2, 3, 4],
            start="17:00",
            end="19:00",
        ),
    )
    await _create(
        runtime.db,
        PromotionInput(
            name="Two for 10",
            kind="quantity",
            price="10.00",
            deal_size="2",
            item_ids=[items["BR-CID"], items["SD-LEM"]],
        ),
    )
    venue_items, _ = await _ids(venue.db)
    own = await _create(
        venue.db, PromotionInput(name="Terrace rosé", kind="set_price", price="6.00", item_ids=[venue_items["WN-ROS"]])
    )
    async with runtime.db.write() as session:
        # this venue does not sell the lemonade: the deal reaches it for the cider only
        await head_office_catalog.set_assortment(session, venue_code="NORTH", sku="SD-LEM", sold=False)
    assert await _publish(runtime) == 1
    assert (await _pull(venue, to_head_office)).applied == [1]

    rules = await _rules(venue.db)
    rule, rule_items, category = rules["Happy hour"]
    assert (rule.kind.value, rule.percent_bp, rule.weekdays, rule.start_minute, rule.end_minute) == (
        "percent",
        3000,
        "01234",
        1020,
        1140,
    )
    assert category == "Cocktails", "matched to the venue's own category by name"
    assert rule_items == []
    deal, deal_items, _ = rules["Two for 10"]
    assert (deal.price_cents, deal.deal_size, deal_items) == (1000, 2, [("BR-CID", None)])
    assert rules["Terrace rosé"][0].archived_at is None

    # an item rung in at the venue gets head office's rule like one of its own
    async with venue.db.read() as session:
        terms = await promotions.terms_for_item(
            session, menu_item_id=venue_items["BR-CID"], category_id=0, unit_price=600, timezone="Europe/Amsterdam"
        )
    assert terms is not None
    assert terms.name == "Two for 10"

    manager = await _manager(runtime.db)
    async with runtime.db.write() as session:
        await promotions.archive_promotion(session, happy.id or 0, actor=manager)
    assert await _publish(runtime) == 2
    assert (await _pull(venue, to_head_office)).applied == [2]
    rules = await _rules(venue.db)
    assert rules["Happy hour"][0].archived_at is not None, "head office stopped it"
    assert rules["Two for 10"][0].archived_at is None
    assert rules["Terrace rosé"][0].archived_at is None, "the venue's own rule is never touched"
    assert own.id == rules["Terrace rosé"][0].id
