"""Where stock stands: items and locations in use, the level row of an item at a location, and totals."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.inventory import calculations
from app.inventory.models import StockItem, StockLevel, StockLocation
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.lib.sql import is_postgres


def checked_quantity(value: object, *, label: str, allow_zero: bool = False) -> int:
    """A quantity in thousandths, refused unless whole, positive (or zero when allowed) and believable."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{label} must be a whole number of thousandths.")
    if value < 0 or (value == 0 and not allow_zero):
        raise InvalidInput(f"{label} must be more than zero." if not allow_zero else f"{label} cannot be negative.")
    if value > calculations.QUANTITY_MAX_MILLI:
        raise InvalidInput(f"{label} is beyond any real stock.")
    return value


async def locked_item(session: AsyncSession, item_id: int) -> StockItem:
    """A stock item, locked on PostgreSQL while its stock moves."""
    query = select(StockItem).where(StockItem.id == item_id)
    if is_postgres(session):
        query = query.with_for_update()
    item = (await session.exec(query)).first()
    if item is None:
        raise NotFound("No such stock item.")
    return item


async def live_item(session: AsyncSession, item_id: int) -> StockItem:
    """A stock item that is not archived."""
    item = await locked_item(session, item_id)
    if item.archived_at is not None:
        raise Conflict(f"{item.name} is archived.")
    return item


async def live_location(session: AsyncSession, location_id: int) -> StockLocation:
    """A stock location that is not archived."""
    location = await session.get(StockLocation, location_id)
    if location is None:
        raise InvalidInput("Unknown stock location.")
    if location.archived_at is not None:
        raise Conflict(f"{location.name} is archived.")
    return location


async def level_for(session: AsyncSession, item_id: int, location_id: int) -> StockLevel:
    """The level row for an item at a location, created at zero if missing, locked on PostgreSQL."""
    values = {
        "stock_item_id": item_id,
        "location_id": location_id,
        "on_hand_milli": 0,
        "value_cents": 0,
        "updated_at": utcnow(),
    }
    table = StockLevel.__table__  # type: ignore[attr-defined]
    # Two first moves for the same pair must not both insert; the loser's insert does nothing.
    statement = (pg_insert if is_postgres(session) else sqlite_insert)(table).values(**values)
    await session.exec(statement.on_conflict_do_nothing(index_elements=["stock_item_id", "location_id"]))
    query = select(StockLevel).where(StockLevel.stock_item_id == item_id, StockLevel.location_id == location_id)
    if is_postgres(session):
        query = query.with_for_update()
    level = (await session.exec(query.execution_options(populate_existing=True))).one()
    return level


async def total_on_hand(session: AsyncSession, item_id: int) -> int:
    return (await item_totals(session, item_id))[0]


async def item_totals(session: AsyncSession, item_id: int) -> tuple[int, int]:
    """An item's quantity and value across every location."""
    quantity, value = (
        await session.exec(
            select(
                func.coalesce(func.sum(StockLevel.on_hand_milli), 0), func.coalesce(func.sum(StockLevel.value_cents), 0)
            ).where(StockLevel.stock_item_id == item_id)
        )
    ).one()
    return int(quantity), int(value)
