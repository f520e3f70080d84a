"""Kitchen bump commands: bump a ticket or an item, mark ready, recall the last bump, reprint.

Each runs in its caller's transaction and announces changed tickets with a KitchenTicketsChanged event.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.kitchen.events import (
    KitchenTicketsChanged,
    TicketReprintRequested,
)
from app.kitchen.models import (
    KitchenTicket,
    KitchenTicketEvent,
    KitchenTicketLine,
    Station,
    TicketAction,
    TicketKind,
    TicketState,
)
from app.lib.clock import utcnow
from app.lib.errors import Conflict, NotFound
from app.lib.events import emit
from app.lib.sql import is_postgres
from app.menu.models import Course
from app.orders import live as orders_live
from app.orders import pacing as orders_pacing


async def _lock_ticket(session: AsyncSession, ticket_id: int) -> KitchenTicket:
    query = select(KitchenTicket).where(KitchenTicket.id == ticket_id)
    if is_postgres(session):
        query = query.with_for_update()
    ticket = (await session.exec(query)).first()
    if ticket is None:
        raise NotFound("That ticket does not exist.")
    return ticket


async def _ticket_lines(session: AsyncSession, ticket_id: int) -> list[KitchenTicketLine]:
    result = await session.exec(
        select(KitchenTicketLine)
        .where(KitchenTicketLine.ticket_id == ticket_id)
        .order_by(col(KitchenTicketLine.position), col(KitchenTicketLine.id))
    )
    return list(result.all())


async def _siblings(session: AsyncSession, ticket: KitchenTicket) -> list[KitchenTicket]:
    result = await session.exec(
        select(KitchenTicket).where(KitchenTicket.fire_id == ticket.fire_id, KitchenTicket.id != ticket.id)
    )
    return list(result.all())


def _touch(session: AsyncSession, ticket: KitchenTicket) -> None:
    # a new version for the screens; `changed_at` is only for what the food itself became (voids, rushes)
    ticket.version += 1
    session.add(ticket)


async def bump_ticket(session: AsyncSession, ticket_id: int, *, staff_id: int | None) -> list[int]:
    """A station is done with a ticket (expo: the order is ready to run); returns the tickets that changed."""
    ticket = await _lock_ticket(session, ticket_id)
    if not ticket.is_open:
        raise Conflict(f"{ticket.table_label} was already bumped.")
    siblings = await _siblings(session, ticket)
    if ticket.is_expo and ticket.kind is not TicketKind.VOID:
        waiting = [s for s in siblings if not s.is_expo and s.is_open]
        if waiting:
            names = await _station_names(session, [s.station_id for s in waiting])
            raise Conflict(f"{ticket.table_label} is not ready: {', '.join(names)} still working on it.")
    now = utcnow()
    ticket.state = TicketState.BUMPED
    ticket.bumped_at = now
    ticket.bumped_by = staff_id
    _touch(session, ticket)
    for line in await _ticket_lines(session, ticket.id or 0):
        if line.bumped_at is None:
            line.bumped_at = now
            session.add(line)
    action = TicketAction.READY if ticket.is_expo else TicketAction.BUMP
    session.add(
        KitchenTicketEvent(ticket_id=ticket.id or 0, station_id=ticket.station_id, action=action, staff_id=staff_id)
    )
    changed = [ticket.id or 0]
    expo = next((s for s in siblings if s.is_expo), None)
    if expo is not None and not ticket.is_expo:
        # the expo card shows which stations are done
        _touch(session, expo)
        changed.append(expo.id or 0)
    await session.flush()
    if ticket.kind is not TicketKind.VOID and (ticket.is_expo or expo is None):
        await _ready_if_done(session, ticket.check_id, ticket.course)
        orders_live.kitchen_progressed(session, ticket.check_id)
    await emit(session, KitchenTicketsChanged(ticket_ids=tuple(changed)))
    return changed


async def _station_names(session: AsyncSession, ids: Iterable[int]) -> list[str]:
    rows = (await session.exec(select(Station).where(col(Station.id).in_(list(ids))))).all()
    return sorted(s.name for s in rows)


async def _ready_if_done(session: AsyncSession, check_id: int, course: Course | None = None) -> None:
    # Ready means nothing food-bearing for this check is still open anywhere in the kitchen; a course is ready at
    # the pass when none of its tickets is (pacing fires the course after it from then).
    open_courses = (
        await session.exec(
            select(KitchenTicket.course).where(
                KitchenTicket.check_id == check_id,
                KitchenTicket.state == TicketState.OPEN,
                KitchenTicket.kind != TicketKind.VOID,
            )
        )
    ).all()
    if course is not None and course not in open_courses:
        await orders_pacing.course_ready(session, check_id, course)
    if not open_courses:
        from app.orders import seating

        await seating.mark_kitchen_ready(session, check_id)


async def bump_item(session: AsyncSession, ticket_line_id: int, *, staff_id: int | None) -> list[int]:
    """One item on a ticket is done; when every item is, the ticket bumps itself."""
    line = await session.get(KitchenTicketLine, ticket_line_id)
    if line is None:
        raise NotFound("That item is not on any ticket.")
    ticket = await _lock_ticket(session, line.ticket_id)
    if not ticket.is_open:
        raise Conflict(f"{ticket.table_label} was already bumped.")
    if ticket.is_expo:
        raise Conflict("Expo marks whole tickets ready, not single items.")
    if line.bumped_at is not None:
        raise Conflict(f"{line.name} was already bumped.")
    line.bumped_at = utcnow()
    session.add(line)
    session.add(
        KitchenTicketEvent(
            ticket_id=ticket.id or 0,
            ticket_line_id=line.id,
            station_id=ticket.station_id,
            action=TicketAction.BUMP_ITEM,
            staff_id=staff_id,
        )
    )
    await session.flush()
    remaining = [
        other
        for other in await _ticket_lines(session, ticket.id or 0)
        if other.bumped_at is None and other.voided_at is None
    ]
    if not remaining:
        return await bump_ticket(session, ticket.id or 0, staff_id=staff_id)
    _touch(session, ticket)
    await emit(session, KitchenTicketsChanged(ticket_ids=(ticket.id or 0,)))
    return [ticket.id or 0]


async def recall_last(session: AsyncSession, station_id: int, *, staff_id: int | None) -> KitchenTicket:
    """Bring back the ticket this station bumped last."""
    station = await session.get(Station, station_id)
    if station is None:
        raise NotFound("That station does not exist.")
    query = (
        select(KitchenTicket)
        .where(KitchenTicket.station_id == station_id, KitchenTicket.state == TicketState.BUMPED)
        .order_by(col(KitchenTicket.bumped_at).desc(), col(KitchenTicket.id).desc())
        .limit(1)
    )
    ticket = (await session.exec(query)).first()
    if ticket is None:
        raise Conflict(f"{station.name} has no bumped ticket to recall.")
    ticket = await _lock_ticket(session, ticket.id or 0)
    ticket.state = TicketState.OPEN
    ticket.bumped_at = None
    ticket.bumped_by = None
    _touch(session, ticket)
    for line in await _ticket_lines(session, ticket.id or 0):
        line.bumped_at = None
        session.add(line)
    session.add(
        KitchenTicketEvent(
            ticket_id=ticket.id or 0, station_id=station_id, action=TicketAction.RECALL, staff_id=staff_id
        )
    )
    changed = [ticket.id or 0]
    if not ticket.is_expo:
        for sibling in await _siblings(session, ticket):
            if sibling.is_expo:
                _touch(session, sibling)
                changed.append(sibling.id or 0)
    # food the server was told is ready is not ready any more
    orders_live.kitchen_progressed(session, ticket.check_id)
    await emit(session, KitchenTicketsChanged(ticket_ids=tuple(changed)))
    return ticket


async def request_reprint(session: AsyncSession, ticket_id: int, *, staff_id: int | None) -> KitchenTicket:
    """Print a ticket again, marked REPRINT, on its station's printer."""
    ticket = await session.get(KitchenTicket, ticket_id)
    if ticket is None:
        raise NotFound("That ticket does not exist.")
    station = await session.get(Station, ticket.station_id)
    if station is None or station.printer_id is None:
        name = station.name if station else "This station"
        raise Conflict(f"{name} has no printer; a manager sets one under Stations & printers.")
    session.add(
        KitchenTicketEvent(
            ticket_id=ticket_id, station_id=ticket.station_id, action=TicketAction.REPRINT, staff_id=staff_id
        )
    )
    await emit(session, TicketReprintRequested(ticket_id=ticket_id, staff_id=staff_id))
    return ticket


def ticket_summary(ticket: KitchenTicket) -> dict[str, Any]:
    """A ticket as plain data (for logs and the API)."""
    return {
        "id": ticket.id,
        "fire_id": ticket.fire_id,
        "station_id": ticket.station_id,
        "kind": ticket.kind.value,
        "state": ticket.state.value,
        "table": ticket.table_label,
    }
