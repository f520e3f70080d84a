"""Read models for floor pages."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.floor.models import DiningTable, Floor


async def floors(session: AsyncSession) -> list[Floor]:
    """Floors in their order, archived ones left out."""
    result = await session.exec(
        select(Floor).where(col(Floor.archived_at).is_(None)).order_by(col(Floor.sort_order), col(Floor.id))
    )
    return list(result.all())


async def tables_on(session: AsyncSession, floor_id: int) -> list[DiningTable]:
    """The live tables of one floor."""
    result = await session.exec(
        select(DiningTable)
        .where(DiningTable.floor_id == floor_id, col(DiningTable.archived_at).is_(None))
        .order_by(col(DiningTable.id))
    )
    return list(result.all())


@dataclass(frozen=True)
class FloorRow:
    """A floor with how many live tables and seats stand on it."""

    floor: Floor
    tables: int
    seats: int


async def floor_rows(session: AsyncSession) -> list[FloorRow]:
    """Every floor (archived ones last) with its live tables and seats counted."""
    counts = await session.exec(
        select(DiningTable.floor_id, func.count(), func.coalesce(func.sum(DiningTable.seats), 0))
        .where(col(DiningTable.archived_at).is_(None))
        .group_by(col(DiningTable.floor_id))
    )
    by_floor = {int(floor_id): (int(tables), int(seats)) for floor_id, tables, seats in counts}
    rows = await session.exec(
        select(Floor).order_by(col(Floor.archived_at).is_not(None), col(Floor.sort_order), col(Floor.id))
    )
    return [FloorRow(f, *by_floor.get(f.id or 0, (0, 0))) for f in rows]


async def floor(session: AsyncSession, floor_id: int) -> Floor | None:
    """One floor, archived or not."""
    return await session.get(Floor, floor_id)


async def archived_tables_on(session: AsyncSession, floor_id: int) -> list[DiningTable]:
    """Tables taken off one floor's plan, most recently archived first."""
    result = await session.exec(
        select(DiningTable)
        .where(DiningTable.floor_id == floor_id, col(DiningTable.archived_at).is_not(None))
        .order_by(col(DiningTable.archived_at).desc())
    )
    return list(result.all())
