"""Menu categories: the menu's sections, each with its course, kitchen station, tax rate, colour and place."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput
from app.lib.events import emit
from app.lib.inputs import clean_text, whole_number
from app.menu.events import MenuChanged
from app.menu.guards import record_change, row_to_change, set_archived, snapshot, station_name
from app.menu.inputs import COLOR_PATTERN, NAME_MAX, SORT_MAX
from app.menu.models import Course, MenuCategory, MenuItem, TaxRate


@dataclass(frozen=True)
class CategoryFields:
    """A menu category: where its dishes go in the kitchen, when they are served, how they are taxed."""

    name: str
    course: Course
    station_id: int | None
    tax_rate_id: int
    color: str = "#4a6fa5"
    sort_order: int = 0


async def _live_tax_rate(session: AsyncSession, tax_rate_id: int) -> TaxRate:
    tax = await session.get(TaxRate, tax_rate_id)
    if tax is None or tax.archived_at is not None:
        raise InvalidInput("Tax rate: unknown or archived tax rate.")
    return tax


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
    await record_change(session, "menu.category.create", f"category:{category.id}", actor_id, after=snapshot(category))
    await emit(session, MenuChanged("category", category.id or 0))
    return category


async def update_category(
    session: AsyncSession, category_id: int, fields: CategoryFields, *, actor_id: int | None
) -> MenuCategory:
    """Change a category's name, course, station, tax rate, colour or place in the menu."""
    category = await row_to_change(session, MenuCategory, category_id, what="category")
    fields = await _check_category(session, fields, category_id)
    before = snapshot(category)
    category.name = fields.name
    category.course = fields.course
    category.station_id = fields.station_id
    category.tax_rate_id = fields.tax_rate_id
    category.color = fields.color
    category.sort_order = fields.sort_order
    session.add(category)
    await session.flush()
    await record_change(
        session,
        "menu.category.update",
        f"category:{category_id}",
        actor_id,
        before=before,
        after=snapshot(category),
    )
    await emit(session, MenuChanged("category", category_id))
    return category


async def archive_category(session: AsyncSession, category_id: int, *, actor_id: int | None) -> MenuCategory:
    """Take a category off the menu; refused while it still holds live items."""
    category = await row_to_change(session, MenuCategory, category_id, what="category")
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
    return await set_archived(session, category, "menu.category", "category", utcnow(), actor_id)


async def restore_category(session: AsyncSession, category_id: int, *, actor_id: int | None) -> MenuCategory:
    """Put an archived category back on the menu (its tax rate must be live)."""
    category = await row_to_change(session, MenuCategory, category_id, what="category")
    if category.archived_at is not None:
        tax = await session.get(TaxRate, category.tax_rate_id)
        if tax is None or tax.archived_at is not None:
            raise Conflict(f"“{category.name}” charges an archived tax rate; restore that rate first.")
    return await set_archived(session, category, "menu.category", "category", None, actor_id)
