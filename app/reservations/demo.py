"""The demo restaurant's book: tables that push together for larger parties (its settings are the defaults)."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.floor.models import DiningTable
from app.reservations.models import TableCombination

# The window two-tops pair up into fours; the long six-tops at the back pair up into twelves.
DEMO_COMBINATIONS = (("1", "2"), ("3", "4"), ("5", "6"), ("19", "20"), ("21", "22"))


async def seed_demo_book(session: AsyncSession) -> None:
    """Allow the demo floor's natural combinations."""
    names = {name for pair in DEMO_COMBINATIONS for name in pair}
    tables = {
        t.name: t for t in (await session.exec(select(DiningTable).where(col(DiningTable.name).in_(names)))).all()
    }
    for pair in DEMO_COMBINATIONS:
        members = sorted((tables[name] for name in pair), key=lambda t: t.id or 0)
        session.add(
            TableCombination(
                name="+".join(t.name for t in members),
                table_ids=",".join(str(t.id) for t in members),
                seats=sum(t.seats for t in members),
            )
        )
    await session.flush()
