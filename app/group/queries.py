"""Head office's read models: the venues and what each has sent."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.group.models import Venue, VenueRecord


async def venues(session: AsyncSession) -> Sequence[Venue]:
    """Every venue of the group, by code."""
    return (await session.exec(select(Venue).order_by(col(Venue.code)))).all()


async def record_counts(session: AsyncSession, venue_id: int) -> dict[str, int]:
    """How many records of each kind head office holds from one venue."""
    rows = (
        await session.exec(
            select(VenueRecord.kind, func.count()).where(VenueRecord.venue_id == venue_id).group_by(VenueRecord.kind)
        )
    ).all()
    return {kind: int(count) for kind, count in rows}
