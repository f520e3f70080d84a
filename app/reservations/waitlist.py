"""The walk-in waitlist: quoted waits, joining, a table ready, seating and leaving."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.floor.models import DiningTable
from app.guests import services as guests
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.lib.sql import is_postgres
from app.orders import seating
from app.orders.floor_view import refuse_held_table
from app.orders.models import Check, CheckKind
from app.reservations import calculations as calc
from app.reservations import queries
from app.reservations.models import (
    WaitlistEntry,
    WaitStatus,
)
from app.reservations.services import Booking, _clean_booking, _guest_id, _server
from app.staff.models import Staff


async def quotes(session: AsyncSession, party_sizes: Sequence[int]) -> list[int | None]:
    """Minutes each party in line (first come first served) is expected to wait, each behind those before it,
    from one read of the floor; None where no table fits."""
    now = utcnow()
    turns = await queries.observed_turn_times(session, now)
    floor, held = await queries.floor_for_waitlist(session, now, turns)
    combos = await queries.combinations(session)

    def turn(size: int) -> int:
        return calc.turn_minutes(size, turns)

    return [
        calc.quote_wait(now, size, floor, combos, party_sizes[:position], turn, held)
        for position, size in enumerate(party_sizes)
    ]


async def quote(session: AsyncSession, party_size: int, *, ahead: Sequence[int] | None = None) -> int | None:
    """Minutes a party of `party_size` is expected to wait, behind the parties waiting now (None: no table fits)."""
    if ahead is None:
        ahead = [e.party_size for e in await queries.waiting(session) if e.status == WaitStatus.WAITING]
    return (await quotes(session, [*ahead, party_size]))[-1]


async def join_waitlist(
    session: AsyncSession,
    *,
    actor: Staff,
    name: str,
    party_size: int,
    phone: str = "",
    notes: str = "",
    allergies: str = "",
) -> WaitlistEntry:
    """Put a walk-in party on the waitlist with an honest quoted wait and a status link of their own."""
    cleaned = _clean_booking(Booking(party_size, utcnow(), name, phone, notes, allergies))
    minutes = await quote(session, cleaned.party_size)
    if minutes is None:
        raise InvalidInput(
            f"No table or combination of tables seats a party of {cleaned.party_size}; a manager can allow one."
        )
    entry = WaitlistEntry(
        name=cleaned.name,
        phone=cleaned.phone,
        party_size=cleaned.party_size,
        notes=cleaned.notes,
        allergies=cleaned.allergies,
        quoted_minutes=minutes,
        token=secrets.token_urlsafe(24),
        created_by=actor.id,
    )
    session.add(entry)
    await session.flush()
    await audit.record(
        session,
        "waitlist.joined",
        actor_id=actor.id,
        subject=f"waitlist:{entry.id}",
        after={"party_size": entry.party_size, "quoted_minutes": minutes},
    )
    return entry


async def _entry_for_update(session: AsyncSession, entry_id: int) -> WaitlistEntry:
    query = select(WaitlistEntry).where(WaitlistEntry.id == entry_id).execution_options(populate_existing=True)
    if is_postgres(session):
        query = query.with_for_update()
    entry = (await session.exec(query)).first()
    if entry is None:
        raise NotFound(f"There is no waitlist entry {entry_id}.")
    if entry.status not in (WaitStatus.WAITING, WaitStatus.READY):
        raise Conflict(f"{entry.name} is no longer waiting ({entry.status.value}).")
    return entry


async def _free_table(session: AsyncSession, table_id: int) -> DiningTable:
    table = await session.get(DiningTable, table_id)
    if table is None or table.archived_at is not None:
        raise NotFound("There is no such table on the floor plan; reload and choose again.")
    return table


async def table_ready(session: AsyncSession, entry_id: int, *, actor: Staff, table_id: int | None) -> WaitlistEntry:
    """Tell a waiting party their table is ready: their status page says so at its next refresh."""
    entry = await _entry_for_update(session, entry_id)
    if table_id is not None:
        entry.table_id = (await _free_table(session, table_id)).id
    entry.status = WaitStatus.READY
    entry.ready_at = utcnow()
    entry.version += 1
    session.add(entry)
    await audit.record(session, "waitlist.table_ready", actor_id=actor.id, subject=f"waitlist:{entry.id}")
    return entry


async def seat_waiting(
    session: AsyncSession,
    entry_id: int,
    *,
    actor: Staff,
    table_id: int,
    server_id: int | None = None,
    confirm_hold: bool = False,
) -> Check:
    """Seat a waiting party: their check opens with their covers (and their guest, when they gave allergies)."""
    entry = await _entry_for_update(session, entry_id)
    table = await _free_table(session, table_id)
    await refuse_held_table(session, table, confirmed=confirm_hold)
    server = await _server(session, actor, server_id)
    check = await seating.open_check(
        session, table_id=table.id, covers=entry.party_size, server=server, kind=CheckKind.TABLE, actor=actor
    )
    booking = Booking(entry.party_size, entry.joined_at, entry.name, entry.phone, entry.notes, entry.allergies)
    guest_id = await _guest_id(session, actor, booking)
    if guest_id is not None:
        await guests.attach_guest_to_check(session, check.id or 0, guest_id, actor)
        entry.guest_id = guest_id
    entry.status = WaitStatus.SEATED
    entry.table_id = table.id
    entry.check_id = check.id
    entry.seated_at = utcnow()
    entry.version += 1
    session.add(entry)
    waited = int((entry.seated_at - entry.joined_at).total_seconds() // 60)
    await audit.record(
        session,
        "waitlist.seated",
        actor_id=actor.id,
        subject=f"waitlist:{entry.id}",
        after={"check_id": check.id, "quoted_minutes": entry.quoted_minutes, "waited_minutes": waited},
    )
    return check


async def leave_waitlist(session: AsyncSession, entry_id: int, *, actor: Staff) -> WaitlistEntry:
    """The party left (or was taken off the list)."""
    entry = await _entry_for_update(session, entry_id)
    entry.status = WaitStatus.LEFT
    entry.left_at = utcnow()
    entry.version += 1
    session.add(entry)
    await audit.record(session, "waitlist.left", actor_id=actor.id, subject=f"waitlist:{entry.id}")
    return entry
