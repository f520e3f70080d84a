"""Read models for floor pages."""

from __future__ import annotations

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
