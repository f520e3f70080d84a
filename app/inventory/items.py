"""Stock items, locations and par levels: adding, watching for auto-86, archiving."""

from __future__ import annotations

from typing import Final

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.inventory import calculations, portions
from app.inventory.levels import checked_quantity, level_for, live_item, live_location, locked_item, total_on_hand
from app.inventory.models import RecipeComponent, StockItem, StockLevel, StockLocation, StockUnit
from app.inventory.outages import follow_outages
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput
from app.lib.inputs import clean_text

NAME_MAX: Final = 80
LOCATION_NAME_MAX: Final = 60


async def create_stock_item(
    session: AsyncSession, *, name: str, unit: str, counted: bool = False, actor_id: int | None = None
) -> StockItem:
    """Add an item to keep in stock."""
    name = clean_text(name, label="Name", max_length=NAME_MAX)
    try:
        stock_unit = StockUnit(unit)
    except ValueError:
        raise InvalidInput(f"Unit must be one of {', '.join(u.value for u in StockUnit)}.") from None
    clash = (await session.exec(select(StockItem).where(func.lower(StockItem.name) == name.lower()))).first()
    if clash is not None:
        raise Conflict(f"A stock item named “{clash.name}” already exists.")
    item = StockItem(name=name, unit=stock_unit, counted=counted)
    session.add(item)
    await session.flush()
    await audit.record(
        session,
        "inventory.item.create",
        actor_id=actor_id,
        subject=f"stock_item:{item.id}",
        after={"name": name, "unit": stock_unit.value, "counted": counted},
    )
    return item


async def set_item_counted(
    session: AsyncSession, item_id: int, counted: bool, *, actor_id: int | None = None
) -> StockItem:
    """Watch (or stop watching) an item for auto-86."""
    item = await locked_item(session, item_id)
    item.counted = counted
    session.add(item)
    await session.flush()
    await audit.record(
        session,
        "inventory.item.counted",
        actor_id=actor_id,
        subject=f"stock_item:{item_id}",
        after={"counted": counted},
    )
    if counted:
        await follow_outages(session, {item_id})
    await portions.refresh(session, stock_item_ids={item_id})
    return item


async def archive_stock_item(session: AsyncSession, item_id: int, *, actor_id: int | None = None) -> StockItem:
    """Retire an item: refused while it is on hand anywhere or still in a recipe."""
    item = await locked_item(session, item_id)
    if item.archived_at is not None:
        return item
    on_hand = await total_on_hand(session, item_id)
    if on_hand != 0:
        raise Conflict(
            f"{item.name} still shows {calculations.format_quantity(on_hand)} {item.unit.label} on hand; "
            "count it to zero first."
        )
    used = (await session.exec(select(func.count()).where(RecipeComponent.stock_item_id == item_id))).one()
    if int(used):
        raise Conflict(f"{item.name} is still in {int(used)} recipe line(s); take it out of them first.")
    item.archived_at = utcnow()
    session.add(item)
    await session.flush()
    await audit.record(session, "inventory.item.archive", actor_id=actor_id, subject=f"stock_item:{item_id}")
    return item


async def create_location(session: AsyncSession, *, name: str, actor_id: int | None = None) -> StockLocation:
    """Add a place stock is kept."""
    name = clean_text(name, label="Name", max_length=LOCATION_NAME_MAX)
    clash = (await session.exec(select(StockLocation).where(func.lower(StockLocation.name) == name.lower()))).first()
    if clash is not None:
        raise Conflict(f"A stock location named “{clash.name}” already exists.")
    count = (await session.exec(select(func.count()).select_from(StockLocation))).one()
    location = StockLocation(name=name, sort_order=int(count))
    session.add(location)
    await session.flush()
    await audit.record(session, "inventory.location.create", actor_id=actor_id, subject=f"stock_location:{location.id}")
    return location


async def set_par(
    session: AsyncSession, *, item_id: int, location_id: int, par_milli: int | None, actor_id: int | None = None
) -> StockLevel:
    """Set (or clear, with None) the level below which an item is low at a location."""
    await live_item(session, item_id)
    await live_location(session, location_id)
    if par_milli is not None:
        checked_quantity(par_milli, label="Par level", allow_zero=True)
    level = await level_for(session, item_id, location_id)
    before = level.par_milli
    level.par_milli = par_milli
    session.add(level)
    await session.flush()
    await audit.record(
        session,
        "inventory.par.set",
        actor_id=actor_id,
        subject=f"stock_level:{item_id}:{location_id}",
        before={"par_milli": before},
        after={"par_milli": par_milli},
    )
    return level
