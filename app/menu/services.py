"""Menu commands: tax rates, categories, items, modifier groups and modifiers; 86 and back.

Every command runs inside the caller's write transaction, refuses bad input with a message a
manager can act on (and then changes nothing, because the transaction rolls back), and leaves an
audit entry with the record before and after. Nothing history points to is ever deleted: records
are archived, and archived ones can be restored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Final, Protocol, TypeVar

from sqlalchemy import column, func, table
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.lib.events import DomainEvent, emit
from app.lib.inputs import clean_text, whole_number
from app.lib.money import Money
from app.lib.sql import is_postgres
from app.menu.models import (
    Course,
    MenuCategory,
    MenuItem,
    MenuItemModifierGroup,
    Modifier,
    ModifierGroup,
    TaxRate,
)

NAME_MAX: Final = 60
ITEM_NAME_MAX: Final = 80
SKU_MAX: Final = 40
DESCRIPTION_MAX: Final = 300
REASON_MAX: Final = 200
SORT_MAX: Final = 9999
PREP_MAX_MINUTES: Final = 240
# Prices above this are typing slips, and they keep sums far inside a 32-bit integer column.
PRICE_MAX_CENTS: Final = 10_000_000
DELTA_MAX_CENTS: Final = 1_000_000
CHOICES_MAX: Final = 20
SKU_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
COLOR_PATTERN: Final = re.compile(r"#[0-9a-fA-F]{6}")
_PERCENT: Final = re.compile(r"(?P<number>[0-9]{1,3}(?:[.,][0-9]*)?)\s*%?")

# Stations belong to the kitchen package, which depends on the menu; reading the few columns the
# menu needs from the table itself keeps that dependency pointing one way.
STATION = table("station", column("id"), column("name"), column("sort_order"), column("archived_at"))

Row = TypeVar("Row", bound=SQLModel)


class _Archivable(Protocol):
    id: int | None
    name: str
    archived_at: datetime | None


Archivable = TypeVar("Archivable", bound=_Archivable)


# Events ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemEightySixed(DomainEvent):
    """The kitchen ran out of an item: tablets stop selling it. `actor_id` is None when stock said so."""

    name: ClassVar[str] = "menu.item_86d"
    item_id: int
    reason: str
    actor_id: int | None


@dataclass(frozen=True)
class ItemBackInStock(DomainEvent):
    """An 86'd item can be sold again."""

    name: ClassVar[str] = "menu.item_un86d"
    item_id: int
    actor_id: int | None


@dataclass(frozen=True)
class MenuChanged(DomainEvent):
    """Something on the menu changed (`kind` is tax_rate, category, item, modifier_group or modifier)."""

    name: ClassVar[str] = "menu.changed"
    kind: str
    record_id: int


# What a manager submits -----------------------------------------------------------------------


@dataclass(frozen=True)
class TaxRateFields:
    """A tax rate as a manager describes it."""

    name: str
    rate_bp: int


@dataclass(frozen=True)
class CategoryFields:
    """A menu category: where its dishes go in the kitchen, when they are served, how they are taxed."""

    name: str
    course: Course
    station_id: int | None
    tax_rate_id: int
    color: str = "#4a6fa5"
    sort_order: int = 0


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


@dataclass(frozen=True)
class GroupFields:
    """A modifier group: how many answers a server must and may give."""

    name: str
    min_choices: int
    max_choices: int


@dataclass(frozen=True)
class ModifierFields:
    """One answer in a modifier group and what it adds to (or takes off) the price."""

    name: str
    price_delta_cents: int = 0
    station_id: int | None = None
    sort_order: int = 0


# Parsing what people type -------------------------------------------------------------------------


def parse_price(text: str, *, label: str = "Price", currency: str = "EUR", allow_negative: bool = False) -> int:
    """An amount typed as "12.50" (or "12,50", "€12.50") in integer cents, or a clear refusal."""
    try:
        cents = Money.parse(str(text or ""), currency).cents
    except ValueError as exc:
        raise InvalidInput(f"{label}: {exc}.") from None
    if cents < 0 and not allow_negative:
        raise InvalidInput(f"{label} cannot be negative.")
    return cents


def parse_percent(text: str, *, label: str = "Rate") -> int:
    """A percentage typed as "21", "5.5" or "9 %" in basis points (2100), or a clear refusal."""
    cleaned = str(text or "").strip()
    match = _PERCENT.fullmatch(cleaned)
    if not match:
        raise InvalidInput(f'{label} must be a percentage like "21" or "5.5".')
    try:
        value = Decimal(match.group("number").replace(",", "."))
    except InvalidOperation:
        raise InvalidInput(f'{label} must be a percentage like "21" or "5.5".') from None
    basis_points = value * 100
    if basis_points != basis_points.to_integral_value():
        raise InvalidInput(f"{label} has at most two decimals, like 5.25.")
    if value > 100:
        raise InvalidInput(f"{label} must be between 0 and 100 %.")
    return int(basis_points)


# Shared checks ----------------------------------------------------------------------------------


async def _get(session: AsyncSession, model: type[Row], record_id: int, *, what: str) -> Row:
    """A row by id, locked against concurrent edits on PostgreSQL (SQLite writes are serial already)."""
    query = select(model).where(model.id == record_id)  # type: ignore[attr-defined]
    if is_postgres(session):
        query = query.with_for_update()
    row = (await session.exec(query)).first()
    if row is None:
        raise NotFound(f"No such {what}.")
    return row


def _snapshot(row: SQLModel, **extra: Any) -> dict[str, Any]:
    data = row.model_dump(mode="json")
    data.update(extra)
    return data


async def station_name(session: AsyncSession, station_id: int | None, *, label: str = "Station") -> str | None:
    """The name of a live kitchen station, or a refusal when the id is unknown or archived."""
    if station_id is None:
        return None
    row = (
        await session.exec(select(STATION.c.name).where(STATION.c.id == station_id, STATION.c.archived_at.is_(None)))
    ).first()
    if row is None:
        raise InvalidInput(f"{label}: unknown or archived kitchen station.")
    return str(row)


async def _live_tax_rate(session: AsyncSession, tax_rate_id: int) -> TaxRate:
    tax = await session.get(TaxRate, tax_rate_id)
    if tax is None or tax.archived_at is not None:
        raise InvalidInput("Tax rate: unknown or archived tax rate.")
    return tax


async def _live_category(session: AsyncSession, category_id: int) -> MenuCategory:
    category = await session.get(MenuCategory, category_id)
    if category is None or category.archived_at is not None:
        raise InvalidInput("Category: unknown or archived category.")
    return category


async def _record(
    session: AsyncSession,
    action: str,
    subject: str,
    actor_id: int | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    await audit.record(session, action, actor_id=actor_id, subject=subject, before=before, after=after, reason=reason)


# Tax rates --------------------------------------------------------------------------------------


async def _check_tax_rate(session: AsyncSession, fields: TaxRateFields, tax_id: int | None) -> TaxRateFields:
    name = clean_text(fields.name, label="Name", max_length=NAME_MAX)
    rate_bp = whole_number(fields.rate_bp, label="Rate (basis points)", minimum=0, maximum=10000)
    clash = (
        await session.exec(select(TaxRate).where(func.lower(TaxRate.name) == name.lower(), TaxRate.id != tax_id))
    ).first()
    if clash is not None:
        archived = " (archived; restore it instead)" if clash.archived_at else ""
        raise Conflict(f"A tax rate named “{clash.name}” already exists{archived}.")
    return TaxRateFields(name=name, rate_bp=rate_bp)


async def create_tax_rate(session: AsyncSession, fields: TaxRateFields, *, actor_id: int | None) -> TaxRate:
    """Add a tax rate categories can use."""
    fields = await _check_tax_rate(session, fields, None)
    tax = TaxRate(name=fields.name, rate_bp=fields.rate_bp)
    session.add(tax)
    await session.flush()
    await _record(session, "menu.tax_rate.create", f"tax_rate:{tax.id}", actor_id, after=_snapshot(tax))
    await emit(session, MenuChanged("tax_rate", tax.id or 0))
    return tax


async def update_tax_rate(
    session: AsyncSession, tax_id: int, fields: TaxRateFields, *, actor_id: int | None
) -> TaxRate:
    """Rename a tax rate or change its rate; lines already rung in keep the rate they were sold at."""
    tax = await _get(session, TaxRate, tax_id, what="tax rate")
    fields = await _check_tax_rate(session, fields, tax_id)
    before = _snapshot(tax)
    tax.name, tax.rate_bp = fields.name, fields.rate_bp
    session.add(tax)
    await session.flush()
    await _record(session, "menu.tax_rate.update", f"tax_rate:{tax_id}", actor_id, before=before, after=_snapshot(tax))
    await emit(session, MenuChanged("tax_rate", tax_id))
    return tax


async def archive_tax_rate(session: AsyncSession, tax_id: int, *, actor_id: int | None) -> TaxRate:
    """Retire a tax rate; refused while live categories still charge it."""
    tax = await _get(session, TaxRate, tax_id, what="tax rate")
    if tax.archived_at is not None:
        return tax
    users = (
        await session.exec(
            select(MenuCategory.name).where(MenuCategory.tax_rate_id == tax_id, col(MenuCategory.archived_at).is_(None))
        )
    ).all()
    if users:
        raise Conflict(f"“{tax.name}” is still charged by {_listing(users)}; give them another rate first.")
    return await _set_archived(session, tax, "menu.tax_rate", "tax_rate", utcnow(), actor_id)


async def restore_tax_rate(session: AsyncSession, tax_id: int, *, actor_id: int | None) -> TaxRate:
    """Bring an archived tax rate back."""
    tax = await _get(session, TaxRate, tax_id, what="tax rate")
    return await _set_archived(session, tax, "menu.tax_rate", "tax_rate", None, actor_id)


# Categories --------------------------------------------------------------------------------------


async def _check_category(session: AsyncSession, fields: CategoryFields, category_id: int | None) -> CategoryFields:
    name = clean_text(fields.name, label="Name", max_length=NAME_MAX)
    try:
        course = Course(fields.course)
    except ValueError:
        raise InvalidInput(f"Course must be one of {', '.join(c.label for c in Course)}.") from None
    if fields.station_id is None:
        raise InvalidInput("Choose the kitchen station that makes this category.")
    await station_name(session, fields.station_id, label="Kitchen station")
    await _live_tax_rate(session, fields.tax_rate_id)
    color = (fields.color or "").strip().lower()
    if not COLOR_PATTERN.fullmatch(color):
        raise InvalidInput("Colour must look like #4a6fa5.")
    sort_order = whole_number(fields.sort_order, label="Order", minimum=0, maximum=SORT_MAX)
    clash = (
        await session.exec(
            select(MenuCategory).where(func.lower(MenuCategory.name) == name.lower(), MenuCategory.id != category_id)
        )
    ).first()
    if clash is not None:
        archived = " (archived; restore it instead)" if clash.archived_at else ""
        raise Conflict(f"A category named “{clash.name}” already exists{archived}.")
    return CategoryFields(
        name=name,
        course=course,
        station_id=fields.station_id,
        tax_rate_id=fields.tax_rate_id,
        color=color,
        sort_order=sort_order,
    )


async def create_category(session: AsyncSession, fields: CategoryFields, *, actor_id: int | None) -> MenuCategory:
    """Add a section to the menu."""
    fields = await _check_category(session, fields, None)
    category = MenuCategory(
        name=fields.name,
        course=fields.course,
        station_id=fields.station_id,
        tax_rate_id=fields.tax_rate_id,
        color=fields.color,
        sort_order=fields.sort_order,
    )
    session.add(category)
    await session.flush()
    await _record(session, "menu.category.create", f"category:{category.id}", actor_id, after=_snapshot(category))
    await emit(session, MenuChanged("category", category.id or 0))
    return category


async def update_category(
    session: AsyncSession, category_id: int, fields: CategoryFields, *, actor_id: int | None
) -> MenuCategory:
    """Change a category's name, course, station, tax rate, colour or place in the menu."""
    category = await _get(session, MenuCategory, category_id, what="category")
    fields = await _check_category(session, fields, category_id)
    before = _snapshot(category)
    category.name = fields.name
    category.course = fields.course
    category.station_id = fields.station_id
    category.tax_rate_id = fields.tax_rate_id
    category.color = fields.color
    category.sort_order = fields.sort_order
    session.add(category)
    await session.flush()
    await _record(
        session,
        "menu.category.update",
        f"category:{category_id}",
        actor_id,
        before=before,
        after=_snapshot(category),
    )
    await emit(session, MenuChanged("category", category_id))
    return category


async def archive_category(session: AsyncSession, category_id: int, *, actor_id: int | None) -> MenuCategory:
    """Take a category off the menu; refused while it still holds live items."""
    category = await _get(session, MenuCategory, category_id, what="category")
    if category.archived_at is not None:
        return category
    live = (
        await session.exec(
            select(func.count())
            .select_from(MenuItem)
            .where(MenuItem.category_id == category_id, col(MenuItem.archived_at).is_(None))
        )
    ).one()
    if live:
        raise Conflict(f"“{category.name}” still holds {live} live item(s); archive or move them first.")
    return await _set_archived(session, category, "menu.category", "category", utcnow(), actor_id)


async def restore_category(session: AsyncSession, category_id: int, *, actor_id: int | None) -> MenuCategory:
    """Put an archived category back on the menu (its tax rate must be live)."""
    category = await _get(session, MenuCategory, category_id, what="category")
    if category.archived_at is not None:
        tax = await session.get(TaxRate, category.tax_rate_id)
        if tax is None or tax.archived_at is not None:
            raise Conflict(f"“{category.name}” charges an archived tax rate; restore that rate first.")
    return await _set_archived(session, category, "menu.category", "category", None, actor_id)


# Items -------------------------------------------------------------------------------------------


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
    await _record(
        session,
        "menu.item.create",
        f"item:{item.id}",
        actor_id,
        after=_snapshot(item, group_ids=list(fields.group_ids)),
    )
    await emit(session, MenuChanged("item", item.id or 0))
    return item


async def update_item(session: AsyncSession, item_id: int, fields: ItemFields, *, actor_id: int | None) -> MenuItem:
    """Change an item; checks already holding it keep the name and price they were rung in with."""
    item = await _get(session, MenuItem, item_id, what="menu item")
    fields = await _check_item(session, fields, item_id)
    before = _snapshot(item, group_ids=await item_group_ids(session, item_id))
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
    await _record(
        session,
        "menu.item.update",
        f"item:{item_id}",
        actor_id,
        before=before,
        after=_snapshot(item, group_ids=list(fields.group_ids)),
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
    item = await _get(session, MenuItem, item_id, what="menu item")
    return await _set_archived(session, item, "menu.item", "item", utcnow(), actor_id)


async def restore_item(session: AsyncSession, item_id: int, *, actor_id: int | None) -> MenuItem:
    """Put an archived item back on the menu (its category must be live)."""
    item = await _get(session, MenuItem, item_id, what="menu item")
    if item.archived_at is not None:
        category = await session.get(MenuCategory, item.category_id)
        if category is None or category.archived_at is not None:
            raise Conflict(f"“{item.name}” belongs to an archived category; restore the category first.")
    return await _set_archived(session, item, "menu.item", "item", None, actor_id)


async def eighty_six(session: AsyncSession, item_id: int, reason: str, actor: int | None) -> MenuItem:
    """Stop selling an item (the kitchen ran out); `actor` is a staff id, or None when stock counts decide.

    Already 86'd items are left as they are, so a double tap or a repeated stock alert is harmless.
    """
    reason = clean_text(reason, label="Reason", max_length=REASON_MAX, multiline=True)
    item = await _get(session, MenuItem, item_id, what="menu item")
    if item.archived_at is not None:
        raise Conflict(f"“{item.name}” is archived; it is not on the menu to 86.")
    if item.eighty_sixed_at is not None:
        return item
    before = {"eighty_sixed_at": None, "eighty_six_reason": item.eighty_six_reason}
    item.eighty_sixed_at = utcnow()
    item.eighty_six_reason = reason
    session.add(item)
    await session.flush()
    await _record(
        session,
        "menu.item.86",
        f"item:{item_id}",
        actor,
        reason=reason,
        before=before,
        after={"eighty_sixed_at": _iso(item.eighty_sixed_at), "eighty_six_reason": reason, "name": item.name},
    )
    await emit(session, ItemEightySixed(item_id=item_id, reason=reason, actor_id=actor))
    return item


async def un_eighty_six(session: AsyncSession, item_id: int, reason: str | None, actor: int | None) -> MenuItem:
    """Sell an 86'd item again (restocked, or 86'd by mistake); items on sale are left as they are."""
    reason = clean_text(reason, label="Reason", max_length=REASON_MAX, required=False, multiline=True) or None
    item = await _get(session, MenuItem, item_id, what="menu item")
    if item.eighty_sixed_at is None:
        return item
    before = {"eighty_sixed_at": _iso(item.eighty_sixed_at), "eighty_six_reason": item.eighty_six_reason}
    item.eighty_sixed_at = None
    item.eighty_six_reason = None
    session.add(item)
    await session.flush()
    await _record(
        session,
        "menu.item.un86",
        f"item:{item_id}",
        actor,
        reason=reason,
        before=before,
        after={"eighty_sixed_at": None, "name": item.name},
    )
    await emit(session, ItemBackInStock(item_id=item_id, actor_id=actor))
    return item


# Modifier groups and modifiers -------------------------------------------------------------------


async def _check_group(session: AsyncSession, fields: GroupFields, group_id: int | None) -> GroupFields:
    name = clean_text(fields.name, label="Name", max_length=NAME_MAX)
    low = whole_number(fields.min_choices, label="Minimum choices", minimum=0, maximum=CHOICES_MAX)
    high = whole_number(fields.max_choices, label="Maximum choices", minimum=1, maximum=CHOICES_MAX)
    if low > high:
        raise InvalidInput(f"Minimum choices ({low}) cannot be more than maximum choices ({high}).")
    clash = (
        await session.exec(
            select(ModifierGroup).where(
                func.lower(ModifierGroup.name) == name.lower(),
                ModifierGroup.id != group_id,
                col(ModifierGroup.archived_at).is_(None),
            )
        )
    ).first()
    if clash is not None:
        raise Conflict(f"A modifier group named “{clash.name}” already exists.")
    return GroupFields(name=name, min_choices=low, max_choices=high)


async def create_modifier_group(session: AsyncSession, fields: GroupFields, *, actor_id: int | None) -> ModifierGroup:
    """Add a question items can ask (forced when its minimum is above zero)."""
    fields = await _check_group(session, fields, None)
    group = ModifierGroup(name=fields.name, min_choices=fields.min_choices, max_choices=fields.max_choices)
    session.add(group)
    await session.flush()
    await _record(session, "menu.modifier_group.create", f"modifier_group:{group.id}", actor_id, after=_snapshot(group))
    await emit(session, MenuChanged("modifier_group", group.id or 0))
    return group


async def update_modifier_group(
    session: AsyncSession, group_id: int, fields: GroupFields, *, actor_id: int | None
) -> ModifierGroup:
    """Rename a group or change how many answers it takes."""
    group = await _get(session, ModifierGroup, group_id, what="modifier group")
    fields = await _check_group(session, fields, group_id)
    before = _snapshot(group)
    group.name, group.min_choices, group.max_choices = fields.name, fields.min_choices, fields.max_choices
    session.add(group)
    await session.flush()
    await _record(
        session,
        "menu.modifier_group.update",
        f"modifier_group:{group_id}",
        actor_id,
        before=before,
        after=_snapshot(group),
    )
    await emit(session, MenuChanged("modifier_group", group_id))
    return group


async def archive_modifier_group(session: AsyncSession, group_id: int, *, actor_id: int | None) -> ModifierGroup:
    """Stop asking a group on every item (the links stay, so restoring it asks it again)."""
    group = await _get(session, ModifierGroup, group_id, what="modifier group")
    return await _set_archived(session, group, "menu.modifier_group", "modifier_group", utcnow(), actor_id)


async def restore_modifier_group(session: AsyncSession, group_id: int, *, actor_id: int | None) -> ModifierGroup:
    """Ask an archived group again, on the items it was attached to."""
    group = await _get(session, ModifierGroup, group_id, what="modifier group")
    if group.archived_at is not None:
        await _check_group(session, GroupFields(group.name, group.min_choices, group.max_choices), group_id)
    return await _set_archived(session, group, "menu.modifier_group", "modifier_group", None, actor_id)


async def _check_modifier(
    session: AsyncSession, group_id: int, fields: ModifierFields, modifier_id: int | None
) -> ModifierFields:
    name = clean_text(fields.name, label="Name", max_length=NAME_MAX)
    delta = whole_number(
        fields.price_delta_cents, label="Price change (cents)", minimum=-DELTA_MAX_CENTS, maximum=DELTA_MAX_CENTS
    )
    sort_order = whole_number(fields.sort_order, label="Order", minimum=0, maximum=SORT_MAX)
    await station_name(session, fields.station_id, label="Station override")
    clash = (
        await session.exec(
            select(Modifier).where(
                Modifier.group_id == group_id,
                func.lower(Modifier.name) == name.lower(),
                Modifier.id != modifier_id,
                col(Modifier.archived_at).is_(None),
            )
        )
    ).first()
    if clash is not None:
        raise Conflict(f"This group already has an answer named “{clash.name}”.")
    return ModifierFields(name=name, price_delta_cents=delta, station_id=fields.station_id, sort_order=sort_order)


async def create_modifier(
    session: AsyncSession, group_id: int, fields: ModifierFields, *, actor_id: int | None
) -> Modifier:
    """Add an answer to a modifier group."""
    group = await _get(session, ModifierGroup, group_id, what="modifier group")
    if group.archived_at is not None:
        raise Conflict(f"“{group.name}” is archived; restore it before adding answers.")
    fields = await _check_modifier(session, group_id, fields, None)
    modifier = Modifier(
        group_id=group_id,
        name=fields.name,
        price_delta_cents=fields.price_delta_cents,
        station_id=fields.station_id,
        sort_order=fields.sort_order,
    )
    session.add(modifier)
    await session.flush()
    await _record(session, "menu.modifier.create", f"modifier:{modifier.id}", actor_id, after=_snapshot(modifier))
    await emit(session, MenuChanged("modifier", modifier.id or 0))
    return modifier


async def update_modifier(
    session: AsyncSession, modifier_id: int, fields: ModifierFields, *, actor_id: int | None
) -> Modifier:
    """Rename an answer or change its price or station; lines already rung in keep their snapshot."""
    modifier = await _get(session, Modifier, modifier_id, what="modifier")
    fields = await _check_modifier(session, modifier.group_id, fields, modifier_id)
    before = _snapshot(modifier)
    modifier.name = fields.name
    modifier.price_delta_cents = fields.price_delta_cents
    modifier.station_id = fields.station_id
    modifier.sort_order = fields.sort_order
    session.add(modifier)
    await session.flush()
    await _record(
        session, "menu.modifier.update", f"modifier:{modifier_id}", actor_id, before=before, after=_snapshot(modifier)
    )
    await emit(session, MenuChanged("modifier", modifier_id))
    return modifier


async def archive_modifier(session: AsyncSession, modifier_id: int, *, actor_id: int | None) -> Modifier:
    """Stop offering an answer."""
    modifier = await _get(session, Modifier, modifier_id, what="modifier")
    return await _set_archived(session, modifier, "menu.modifier", "modifier", utcnow(), actor_id)


async def restore_modifier(session: AsyncSession, modifier_id: int, *, actor_id: int | None) -> Modifier:
    """Offer an archived answer again (its group must be live)."""
    modifier = await _get(session, Modifier, modifier_id, what="modifier")
    if modifier.archived_at is not None:
        group = await session.get(ModifierGroup, modifier.group_id)
        if group is None or group.archived_at is not None:
            raise Conflict("Its modifier group is archived; restore the group first.")
        await _check_modifier(
            session,
            modifier.group_id,
            ModifierFields(modifier.name, modifier.price_delta_cents, modifier.station_id, modifier.sort_order),
            modifier_id,
        )
    return await _set_archived(session, modifier, "menu.modifier", "modifier", None, actor_id)


# Archiving ---------------------------------------------------------------------------------------


async def _set_archived(
    session: AsyncSession,
    row: Archivable,
    action: str,
    kind: str,
    archived_at: datetime | None,
    actor_id: int | None,
) -> Archivable:
    current = row.archived_at
    if (current is None) == (archived_at is None):
        return row
    row.archived_at = archived_at
    session.add(row)
    await session.flush()
    record_id = row.id or 0
    verb = "archive" if archived_at is not None else "restore"
    await _record(
        session,
        f"{action}.{verb}",
        f"{kind}:{record_id}",
        actor_id,
        before={"archived_at": _iso(current)},
        after={"archived_at": _iso(archived_at), "name": row.name},
    )
    await emit(session, MenuChanged(kind, record_id))
    return row


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _listing(names: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(f"“{n}”" for n in names[:limit])
    more = len(names) - limit
    return f"{shown} and {more} more" if more > 0 else shown
