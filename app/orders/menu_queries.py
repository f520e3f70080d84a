"""The menu as order entry reads it: the item buttons by category, and the questions an item asks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from app.menu.models import MenuCategory, MenuItem, MenuItemModifierGroup, Modifier, ModifierGroup
from app.orders.calculations import ModifierOption, ModifierQuestion

# Built once, like the reads of app/orders/queries.py: a statement object kept keeps its compiled SQL's cache key.


@dataclass(frozen=True)
class ItemButton:
    """A menu item on the order-entry grid."""

    item: MenuItem
    questions: int
    forced: bool
    only_single_forced: bool


@dataclass(frozen=True)
class MenuSection:
    """A category tab and its items."""

    category: MenuCategory
    items: list[ItemButton]


async def entry_menu(session: AsyncSession) -> list[MenuSection]:
    """The menu as order entry shows it: live categories, their items (86'd ones too, marked), in order."""
    rows = (await session.exec(_menu_items(False))).all()
    sections: dict[int, MenuSection] = {}
    for category, item, questions, forced, single in rows:
        section = sections.get(category.id or 0)
        if section is None:
            section = sections[category.id or 0] = MenuSection(category, [])
        section.items.append(_button(item, questions, forced, single))
    return list(sections.values())


async def item_buttons(session: AsyncSession, item_ids: Sequence[int] | None = None) -> list[ItemButton]:
    """The order-entry buttons of the given live items (all of them when None), as a live update redraws them."""
    if item_ids is not None and not item_ids:
        return []
    query = _menu_items(item_ids is not None)
    params = {"item_ids": list(item_ids)} if item_ids is not None else {}
    rows = (await session.exec(query, params=params)).all()
    return [_button(item, questions, forced, single) for _category, item, questions, forced, single in rows]


def _button(item: MenuItem, questions: Any, forced: Any, single: Any) -> ItemButton:
    return ItemButton(
        item=item,
        questions=int(questions or 0),
        forced=bool(forced),
        only_single_forced=bool(questions) and bool(single),
    )


@cache
def _menu_items(by_ids: bool) -> Any:
    """Every live item (or the given ones) under its live category, in menu order, with what its choices ask."""
    asks = (
        select(
            col(MenuItemModifierGroup.item_id).label("item_id"),
            func.count().label("questions"),
            func.max(case((col(ModifierGroup.min_choices) > 0, 1), else_=0)).label("forced"),
            func.min(
                case((and_(col(ModifierGroup.min_choices) == 1, col(ModifierGroup.max_choices) == 1), 1), else_=0)
            ).label("single"),
        )
        .join(ModifierGroup, col(ModifierGroup.id) == col(MenuItemModifierGroup.group_id))
        .where(col(ModifierGroup.archived_at).is_(None))
        .group_by(col(MenuItemModifierGroup.item_id))
        .subquery()
    )
    query = (
        select(MenuCategory, MenuItem)
        .add_columns(asks.c.questions, asks.c.forced, asks.c.single)
        .join(MenuItem, col(MenuItem.category_id) == col(MenuCategory.id))
        .outerjoin(asks, asks.c.item_id == col(MenuItem.id))
        .where(col(MenuCategory.archived_at).is_(None), col(MenuItem.archived_at).is_(None))
        .order_by(col(MenuCategory.sort_order), col(MenuCategory.id), col(MenuItem.sort_order), col(MenuItem.id))
    )
    if by_ids:
        query = query.where(col(MenuItem.id).in_(bindparam("item_ids", expanding=True)))
    return query


async def modifier_questions(session: AsyncSession, item_id: int) -> list[ModifierQuestion]:
    """The modifier groups an item asks, in order, with their live options."""
    rows = (await session.exec(_questions(), params={"item_id": item_id})).all()
    if not rows:
        return []
    options: dict[int, list[ModifierOption]] = defaultdict(list)
    for modifier in (
        await session.exec(
            select(Modifier)
            .where(col(Modifier.group_id).in_([g.id for g in rows]), col(Modifier.archived_at).is_(None))
            .order_by(col(Modifier.sort_order), col(Modifier.id))
        )
    ).all():
        options[modifier.group_id].append(
            ModifierOption(
                modifier.id or 0, modifier.name, modifier.price_delta_cents, modifier.station_id, modifier.counts_stock
            )
        )
    return [
        ModifierQuestion(g.id or 0, g.name, g.min_choices, g.max_choices, tuple(options.get(g.id or 0, [])))
        for g in rows
    ]


def asks_questions() -> Any:
    """Whether the item of the enclosing query asks any live modifier group (the rows `modifier_questions` reads)."""
    return (
        select(MenuItemModifierGroup.id)
        .join(ModifierGroup, col(ModifierGroup.id) == col(MenuItemModifierGroup.group_id))
        .where(col(MenuItemModifierGroup.item_id) == col(MenuItem.id), col(ModifierGroup.archived_at).is_(None))
        .correlate(MenuItem)
        .exists()
    )


@cache
def _questions() -> SelectOfScalar[ModifierGroup]:
    """The live modifier groups an item asks, in order."""
    return (
        select(ModifierGroup)
        .join(MenuItemModifierGroup, col(MenuItemModifierGroup.group_id) == col(ModifierGroup.id))
        .where(col(MenuItemModifierGroup.item_id) == bindparam("item_id"), col(ModifierGroup.archived_at).is_(None))
        .order_by(col(MenuItemModifierGroup.sort_order), col(MenuItemModifierGroup.id))
    )
