"""The manager's settings for the book: pacing, turn times and combinable tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.floor.models import DiningTable
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.reservations import queries
from app.reservations.models import (
    MAX_PARTY,
    ReservationSettings,
    TableCombination,
    TurnTime,
)
from app.staff.models import Staff
from app.staff.permissions import Perm


@dataclass(frozen=True)
class BookSettings:
    """What a manager sets for the book."""

    slot_minutes: int
    first_seating: time
    last_seating: time
    hold_minutes: int
    max_party_size: int
    max_covers_per_slot: int
    turn_times: tuple[tuple[int, int], ...]


def _require_manager(actor: Staff) -> None:
    if not actor.can(Perm.FLOOR_MANAGE):
        raise InvalidInput(f"{actor.name} cannot change how the book runs; a manager can.")


async def save_settings(session: AsyncSession, new: BookSettings, *, actor: Staff) -> ReservationSettings:
    """Save booking hours, slot length, the floor's look-ahead, pacing and turn times; audited."""
    _require_manager(actor)
    if new.slot_minutes not in (15, 30, 45, 60):
        raise InvalidInput("Bookings start every 15, 30, 45 or 60 minutes.")
    if new.first_seating.minute % 15 or new.last_seating.minute % 15:
        raise InvalidInput("The first and last seatings fall on a quarter hour.")
    if not 0 <= new.hold_minutes <= 480:
        raise InvalidInput("The floor looks ahead 0 to 480 minutes.")
    if not 1 <= new.max_party_size <= MAX_PARTY:
        raise InvalidInput(f"The largest party booked online is 1 to {MAX_PARTY}.")
    if not 0 <= new.max_covers_per_slot <= 999:
        raise InvalidInput("Covers per slot are 0 (no limit) to 999.")
    rows = sorted(new.turn_times)
    if not rows:
        raise InvalidInput("Give at least one turn time.")
    sizes = [size for size, _ in rows]
    if len(set(sizes)) != len(sizes):
        raise InvalidInput("Each party size has one turn time.")
    for size, minutes in rows:
        if not 1 <= size <= MAX_PARTY or not 15 <= minutes <= 600:
            raise InvalidInput(f"A turn time is for parties of 1 to {MAX_PARTY}, and 15 to 600 minutes long.")
    settings = await queries.book_settings(session, lock=True)
    before = {**_settings_facts(settings), "turn_times": await queries.turn_times(session)}
    settings.slot_minutes = new.slot_minutes
    settings.first_seating = new.first_seating
    settings.last_seating = new.last_seating
    settings.hold_minutes = new.hold_minutes
    settings.max_party_size = new.max_party_size
    settings.max_covers_per_slot = new.max_covers_per_slot
    settings.updated_at = utcnow()
    settings.updated_by = actor.id
    session.add(settings)
    await session.exec(delete(TurnTime))
    for size, minutes in rows:
        session.add(TurnTime(max_party=size, minutes=minutes))
    await session.flush()
    await audit.record(
        session,
        "reservations.settings_changed",
        actor_id=actor.id,
        subject="reservation_settings",
        before=before,
        after={**_settings_facts(settings), "turn_times": [list(r) for r in rows]},
    )
    return settings


def _settings_facts(settings: ReservationSettings) -> dict[str, Any]:
    return {
        "slot_minutes": settings.slot_minutes,
        "first_seating": settings.first_seating.isoformat(),
        "last_seating": settings.last_seating.isoformat(),
        "hold_minutes": settings.hold_minutes,
        "max_party_size": settings.max_party_size,
        "max_covers_per_slot": settings.max_covers_per_slot,
    }


async def add_combination(
    session: AsyncSession, table_ids: Sequence[int], *, actor: Staff, seats: int | None = None
) -> TableCombination:
    """Allow tables to be pushed together for one party; they seat the sum of their seats unless told otherwise."""
    _require_manager(actor)
    ids = sorted(set(table_ids))
    if len(ids) < 2:
        raise InvalidInput("Choose two or more tables to combine.")
    found = (await session.exec(select(DiningTable).where(col(DiningTable.id).in_(ids)))).all()
    tables = {t.id: t for t in found if t.archived_at is None}
    if set(tables) != set(ids):
        raise NotFound("One of those tables is not on the floor plan; reload and choose again.")
    if len({t.floor_id for t in tables.values()}) > 1:
        raise InvalidInput("Tables on different floors cannot be pushed together.")
    total = seats if seats is not None else sum(t.seats for t in tables.values())
    if not 2 <= total <= MAX_PARTY * 2:
        raise InvalidInput(f"A combination seats 2 to {MAX_PARTY * 2}.")
    key = ",".join(str(i) for i in ids)
    existing = (
        await session.exec(
            select(TableCombination).where(
                TableCombination.table_ids == key, col(TableCombination.archived_at).is_(None)
            )
        )
    ).first()
    if existing is not None:
        raise Conflict(f"Tables {existing.name} are already a combination.")
    combination = TableCombination(name="+".join(tables[i].name for i in ids), table_ids=key, seats=total)
    session.add(combination)
    await session.flush()
    await audit.record(
        session,
        "reservations.combination_added",
        actor_id=actor.id,
        subject=f"combination:{combination.id}",
        after={"table_ids": key, "seats": total},
    )
    return combination


async def archive_combination(session: AsyncSession, combination_id: int, *, actor: Staff) -> TableCombination:
    """Stop offering a combination; bookings already on it keep their tables."""
    _require_manager(actor)
    combination = await session.get(TableCombination, combination_id)
    if combination is None or combination.archived_at is not None:
        raise NotFound("There is no such combination; reload the page.")
    combination.archived_at = utcnow()
    session.add(combination)
    await audit.record(
        session, "reservations.combination_archived", actor_id=actor.id, subject=f"combination:{combination.id}"
    )
    return combination
