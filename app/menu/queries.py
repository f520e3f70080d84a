"""Read models for the menu pages (and for anyone who needs the menu as it stands)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.menu.guards import STATION
from app.menu.models import MenuCategory, MenuItem, MenuItemModifierGroup, Modifier, ModifierGroup, TaxRate


@dataclass(frozen=True)
class StationChoice:
    """A live kitchen station, as a menu form offers it."""

    id: int
    name: str


@dataclass(frozen=True)
class TaxRateRow:
    """A tax rate and the live categories that charge it."""

    tax: TaxRate
    categories: list[str]


@dataclass(frozen=True)
class GroupWithModifiers:
    """A modifier group and its answers, in order."""

    group: ModifierGroup
    modifiers: list[Modifier]
    used_by: int = 0

    @property
    def warning(self) -> str | None:
        """Why servers could not answer this group as it stands, if they could not."""
        live = [m for m in self.modifiers if m.archived_at is None]
        if self.group.archived_at is None and len(live) < self.group.min_choices:
            return (
                f"Asks for at least {self.group.min_choices} answer(s) but offers {len(live)}: "
                "servers cannot complete it."
            )
        return None


@dataclass(frozen=True)
class ItemRow:
    """A menu item with what the pages show beside it."""

    item: MenuItem
    station: str | None
    station_overridden: bool
    groups: list[ModifierGroup]


@dataclass(frozen=True)
class CategorySection:
    """A category with its items, in menu order."""

    category: MenuCategory
    station: str | None
    tax: TaxRate | None
    items: list[ItemRow] = field(default_factory=list)

    @property
    def live_items(self) -> int:
        """How many of its items are on the menu."""
        return sum(1 for row in self.items if row.item.archived_at is None)

    @property
    def eighty_sixed(self) -> int:
        """How many of its live items are 86'd."""
        return sum(1 for row in self.items if row.item.archived_at is None and row.item.is_86d)


async def stations(session: AsyncSession) -> list[StationChoice]:
    """Live kitchen stations in kitchen order."""
    rows = await session.exec(
        select(STATION.c.id, STATION.c.name)
        .where(STATION.c.archived_at.is_(None))
        .order_by(STATION.c.sort_order, STATION.c.id)
    )
    return [StationChoice(int(row[0]), str(row[1])) for row in rows]


async def station_names(session: AsyncSession) -> dict[int, str]:
    """Every station's name by id, archived ones included (history still names them)."""
    rows = await session.exec(select(STATION.c.id, STATION.c.name))
    return {int(row[0]): str(row[1]) for row in rows}


async def tax_rates(session: AsyncSession, *, include_archived: bool = False) -> list[TaxRate]:
    """Tax rates, live first, by rate."""
    query = select(TaxRate).order_by(col(TaxRate.archived_at).is_not(None), col(TaxRate.rate_bp), col(TaxRate.name))
    if not include_archived:
        query = query.where(col(TaxRate.archived_at).is_(None))
    return list((await session.exec(query)).all())


async def tax_rate_rows(session: AsyncSession) -> list[TaxRateRow]:
    """Every tax rate with the live categories charging it."""
    users: dict[int, list[str]] = defaultdict(list)
    for category in await categories(session):
        users[category.tax_rate_id].append(category.name)
    return [TaxRateRow(tax, users.get(tax.id or 0, [])) for tax in await tax_rates(session, include_archived=True)]


async def categories(session: AsyncSession, *, include_archived: bool = False) -> list[MenuCategory]:
    """Categories in menu order, live first."""
    query = select(MenuCategory).order_by(
        col(MenuCategory.archived_at).is_not(None), col(MenuCategory.sort_order), col(MenuCategory.name)
    )
    if not include_archived:
        query = query.where(col(MenuCategory.archived_at).is_(None))
    return list((await session.exec(query)).all())


async def _groups_by_item(session: AsyncSession, item_ids: list[int]) -> dict[int, list[ModifierGroup]]:
    if not item_ids:
        return {}
    rows = await session.exec(
        select(MenuItemModifierGroup, ModifierGroup)
        .join(ModifierGroup, col(ModifierGroup.id) == MenuItemModifierGroup.group_id)
        .where(col(MenuItemModifierGroup.item_id).in_(item_ids))
        .order_by(col(MenuItemModifierGroup.item_id), col(MenuItemModifierGroup.sort_order))
    )
    result: dict[int, list[ModifierGroup]] = defaultdict(list)
    for link, group in rows:
        result[link.item_id].append(group)
    return result


async def menu_sections(
    session: AsyncSession, *, category_id: int | None = None, include_archived: bool = False
) -> list[CategorySection]:
    """The menu by category with every item's station and modifier groups."""
    names = await station_names(session)
    taxes = {t.id: t for t in await tax_rates(session, include_archived=True)}
    cats = await categories(session, include_archived=include_archived)
    if category_id is not None:
        cats = [c for c in cats if c.id == category_id]
    query = select(MenuItem).where(col(MenuItem.category_id).in_([c.id for c in cats]))
    if not include_archived:
        query = query.where(col(MenuItem.archived_at).is_(None))
    query = query.order_by(col(MenuItem.archived_at).is_not(None), col(MenuItem.sort_order), col(MenuItem.name))
    items = list((await session.exec(query)).all())
    groups = await _groups_by_item(session, [i.id for i in items if i.id is not None])
    sections = {
        c.id: CategorySection(category=c, station=names.get(c.station_id or 0), tax=taxes.get(c.tax_rate_id))
        for c in cats
    }
    for item in items:
        section = sections[item.category_id]
        station_id = item.station_id or section.category.station_id
        section.items.append(
            ItemRow(
                item=item,
                station=names.get(station_id or 0),
                station_overridden=item.station_id is not None,
                groups=groups.get(item.id or 0, []),
            )
        )
    return list(sections.values())


async def item_row(session: AsyncSession, item_id: int) -> ItemRow | None:
    """One item as the menu page shows it."""
    item = await session.get(MenuItem, item_id)
    if item is None:
        return None
    category = await session.get(MenuCategory, item.category_id)
    names = await station_names(session)
    station_id = item.station_id or (category.station_id if category else None)
    groups = await _groups_by_item(session, [item_id])
    return ItemRow(item, names.get(station_id or 0), item.station_id is not None, groups.get(item_id, []))


async def modifier_groups(session: AsyncSession, *, include_archived: bool = False) -> list[GroupWithModifiers]:
    """Modifier groups by name with their answers and how many live items ask them."""
    query = select(ModifierGroup).order_by(col(ModifierGroup.archived_at).is_not(None), col(ModifierGroup.name))
    if not include_archived:
        query = query.where(col(ModifierGroup.archived_at).is_(None))
    groups = list((await session.exec(query)).all())
    modifier_query = select(Modifier).order_by(
        col(Modifier.archived_at).is_not(None), col(Modifier.sort_order), col(Modifier.id)
    )
    if not include_archived:
        modifier_query = modifier_query.where(col(Modifier.archived_at).is_(None))
    by_group: dict[int, list[Modifier]] = defaultdict(list)
    for modifier in await session.exec(modifier_query):
        by_group[modifier.group_id].append(modifier)
    usage_rows = await session.exec(
        select(MenuItemModifierGroup.group_id, func.count())
        .join(MenuItem, col(MenuItem.id) == MenuItemModifierGroup.item_id)
        .where(col(MenuItem.archived_at).is_(None))
        .group_by(col(MenuItemModifierGroup.group_id))
    )
    usage = {int(group_id): int(count) for group_id, count in usage_rows}
    return [GroupWithModifiers(g, by_group.get(g.id or 0, []), usage.get(g.id or 0, 0)) for g in groups]


async def modifier_group(session: AsyncSession, group_id: int) -> GroupWithModifiers | None:
    """One modifier group with all its answers (archived ones last)."""
    group = await session.get(ModifierGroup, group_id)
    if group is None:
        return None
    modifiers = await session.exec(
        select(Modifier)
        .where(Modifier.group_id == group_id)
        .order_by(col(Modifier.archived_at).is_not(None), col(Modifier.sort_order), col(Modifier.id))
    )
    used = (
        await session.exec(
            select(func.count())
            .select_from(MenuItemModifierGroup)
            .join(MenuItem, col(MenuItem.id) == MenuItemModifierGroup.item_id)
            .where(MenuItemModifierGroup.group_id == group_id, col(MenuItem.archived_at).is_(None))
        )
    ).one()
    return GroupWithModifiers(group, list(modifiers.all()), int(used))


async def item_modifier_groups(session: AsyncSession, item_id: int) -> list[GroupWithModifiers]:
    """The live groups an item asks when it is rung in, in order, each with its live answers."""
    rows = await session.exec(
        select(ModifierGroup)
        .join(MenuItemModifierGroup, col(MenuItemModifierGroup.group_id) == ModifierGroup.id)
        .where(MenuItemModifierGroup.item_id == item_id, col(ModifierGroup.archived_at).is_(None))
        .order_by(col(MenuItemModifierGroup.sort_order), col(MenuItemModifierGroup.id))
    )
    groups = list(rows.all())
    if not groups:
        return []
    modifiers = await session.exec(
        select(Modifier)
        .where(col(Modifier.group_id).in_([g.id for g in groups]), col(Modifier.archived_at).is_(None))
        .order_by(col(Modifier.sort_order), col(Modifier.id))
    )
    by_group: dict[int, list[Modifier]] = defaultdict(list)
    for modifier in modifiers:
        by_group[modifier.group_id].append(modifier)
    return [GroupWithModifiers(g, by_group.get(g.id or 0, [])) for g in groups]


async def eighty_sixed_items(session: AsyncSession) -> list[MenuItem]:
    """Live items the kitchen has run out of, most recent first."""
    rows = await session.exec(
        select(MenuItem)
        .where(col(MenuItem.eighty_sixed_at).is_not(None), col(MenuItem.archived_at).is_(None))
        .order_by(col(MenuItem.eighty_sixed_at).desc())
    )
    return list(rows.all())
