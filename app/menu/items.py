"""Menu items: put on the menu, changed (price, category, station, the modifier groups they ask), archived
and restored. Checks already holding an item keep the name and price it was rung in with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.lib.events import emit
from app.lib.inputs import clean_text, whole_number
from app.menu.events import MenuChanged
from app.menu.guards import record_change, row_to_change, set_archived, snapshot, station_name
from app.menu.inputs import (
    DESCRIPTION_MAX,
    ITEM_NAME_MAX,
    PREP_MAX_MINUTES,
    PRICE_MAX_CENTS,
    SKU_MAX,
    SKU_PATTERN,
    SORT_MAX,
)
from app.menu.models import MenuCategory, MenuItem, MenuItemModifierGroup, ModifierGroup


@dataclass(frozen=True)
class ItemFields:
    """A menu item; `group_ids` are the modifier groups it asks, in the order a server answers them."""

    sku: str
    name: str
    price_cents: int
    category_id: int
    station_id: int | None = None
    description: str = ""
    group_ids: tuple[int, ...] = field(default_factory=tuple)
    sort_order: int = 0
    prep_minutes: int = 0


async def _live_category(session: AsyncSession, category_id: int) -> MenuCategory:
    category = await session.get(MenuCategory, category_id)
    if category is None or category.archived_at is not None:
        raise InvalidInput("Category: unknown or archived category.")
    return category


async def _check_item(session: AsyncSession, fields: ItemFields, item_id: int | None) -> ItemFields:
    sku = clean_text(fields.sku, label="SKU", max_length=SKU_MAX)
    if not SKU_PATTERN.fullmatch(sku):
        raise InvalidInput("SKU may hold letters, digits and . _ / - only, starting with a letter or digit.")
    name = clean_text(fields.name, label="Name", max_length=ITEM_NAME_MAX)
    description = clean_text(
        fields.description, label="Description", max_length=DESCRIPTION_MAX, required=False, multiline=True
    )
    price = whole_number(fields.price_cents, label="Price (cents)", minimum=0, maximum=PRICE_MAX_CENTS)
    sort_order = whole_number(fields.sort_order, label="Order", minimum=0, maximum=SORT_MAX)
    prep_minutes = whole_number(fields.prep_minutes, label="Prep time (minutes)", minimum=0, maximum=PREP_MAX_MINUTES)
    await _live_category(session, fields.category_id)
    await station_name(session, fields.station_id, label="Station override")
    if len(set(fields.group_ids)) != len(fields.group_ids):
        raise InvalidInput("A modifier group is chosen twice; ask each question once.")
    if fields.group_ids:
        groups = (await session.exec(select(ModifierGroup).where(col(ModifierGroup.id).in_(fields.group_ids)))).all()
        # An archived group the item already asks may stay attached, ready for the group's return.
        kept = set(await item_group_ids(session, item_id)) if item_id is not None else set()
        allowed = {g.id for g in groups if g.archived_at is None or g.id in kept}
        if missing := [g for g in fields.group_ids if g not in allowed]:
            raise InvalidInput(f"Modifier groups: {len(missing)} unknown or archived group(s) chosen.")
    clash = (
        await session.exec(select(MenuItem).where(func.lower(MenuItem.sku) == sku.lower(), MenuItem.id != item_id))
    ).first()
    if clash is not None:
        archived = ", archived" if clash.archived_at else ""
        raise Conflict(f"SKU {sku} is already used by “{clash.name}”{archived}.")
    return ItemFields(
        sku=sku,
        name=name,
        price_cents=price,
        category_id=fields.category_id,
        station_id=fields.station_id,
        description=description,
        group_ids=tuple(fields.group_ids),
        sort_order=sort_order,
        prep_minutes=prep_minutes,
    )


async def item_group_ids(session: AsyncSession, item_id: int) -> list[int]:
    """The modifier groups an item asks, in order (archived groups included: restoring one brings it back)."""
    links = await session.exec(
        select(MenuItemModifierGroup)
        .where(MenuItemModifierGroup.item_id == item_id)
        .order_by(col(MenuItemModifierGroup.sort_order), col(MenuItemModifierGroup.id))
    )
    return [link.group_id for link in links]


async def _set_groups(session: AsyncSession, item_id: int, group_ids: Sequence[int]) -> None:
    existing = list(
        (await session.exec(select(MenuItemModifierGroup).where(MenuItemModifierGroup.item_id == item_id))).all()
    )
    for link in existing:
        await session.delete(link)
    # The unique (item, group) pair must be gone before it is written again.
    await session.flush()
    for position, group_id in enumerate(group_ids):
        session.add(MenuItemModifierGroup(item_id=item_id, group_id=group_id, sort_order=position))
    await session.flush()


async def create_item(session: AsyncSession, fields: ItemFields, *, actor_id: int | None) -> MenuItem:
    """Put a new item on the menu."""
    fields = await _check_item(session, fields, None)
    item = MenuItem(
        sku=fields.sku,
        name=fields.name,
        price_cents=fields.price_cents,
        category_id=fields.category_id,
        station_id=fields.station_id,
        description=fields.description,
        sort_order=fields.sort_order,
        prep_minutes=fields.prep_minutes,
    )
    session.add(item)
    await session.flush()
    await _set_groups(session, item.id or 0, fields.group_ids)
    await record_change(
        session,
        "menu.item.create",
        f"item:{item.id}",
        actor_id,
        after=snapshot(item, group_ids=list(fields.group_ids)),
    )
    await emit(session, MenuChanged("item", item.id or 0))
    return item


async def update_item(session: AsyncSession, item_id: int, fields: ItemFields, *, actor_id: int | None) -> MenuItem:
    """Change an item; checks already holding it keep the name and price they were rung in with."""
    item = await row_to_change(session, MenuItem, item_id, what="menu item")
    fields = await _check_item(session, fields, item_id)
    before = snapshot(item, group_ids=await item_group_ids(session, item_id))
    item.sku = fields.sku
    item.name = fields.name
    item.price_cents = fields.price_cents
    item.category_id = fields.category_id
    item.station_id = fields.station_id
    item.description = fields.description
    item.sort_order = fields.sort_order
    item.prep_minutes = fields.prep_minutes
    session.add(item)
    await session.flush()
    await _set_groups(session, item_id, fields.group_ids)
    await record_change(
        session,
        "menu.item.update",
        f"item:{item_id}",
        actor_id,
        before=before,
        after=snapshot(item, group_ids=list(fields.group_ids)),
    )
    await emit(session, MenuChanged("item", item_id))
    return item


async def item_fields(session: AsyncSession, item_id: int) -> ItemFields:
    """An item's current fields, to change one or two with `dataclasses.replace` and `update_item`."""
    item = await session.get(MenuItem, item_id)
    if item is None:
        raise NotFound("No such menu item.")
    return ItemFields(
        sku=item.sku,
        name=item.name,
        price_cents=item.price_cents,
        category_id=item.category_id,
        station_id=item.station_id,
        description=item.description,
        group_ids=tuple(await item_group_ids(session, item_id)),
        sort_order=item.sort_order,
        prep_minutes=item.prep_minutes,
    )


async def archive_item(session: AsyncSession, item_id: int, *, actor_id: int | None) -> MenuItem:
    """Take an item off the menu; checks that hold it keep their snapshot of it."""
    item = await row_to_change(session, MenuItem, item_id, what="menu item")
    return await set_archived(session, item, "menu.item", "item", utcnow(), actor_id)


async def restore_item(session: AsyncSession, item_id: int, *, actor_id: int | None) -> MenuItem:
    """Put an archived item back on the menu (its category must be live)."""
    item = await row_to_change(session, MenuItem, item_id, what="menu item")
    if item.archived_at is not None:
        category = await session.get(MenuCategory, item.category_id)
        if category is None or category.archived_at is not None:
            raise Conflict(f"“{item.name}” belongs to an archived category; restore the category first.")
    return await set_archived(session, item, "menu.item", "item", None, actor_id)
