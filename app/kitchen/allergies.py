"""A guest's allergies on the kitchen's tickets: shown on every open ticket of their check, printed again on paper."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.kitchen.events import KitchenTicketsChanged, TicketReprintRequested
from app.kitchen.models import KitchenTicket, KitchenTicketEvent, Station, TicketAction, TicketKind, TicketState
from app.kitchen.services import table_label
from app.lib.events import DomainEvent, emit
from app.orders.models import Check


@dataclass(frozen=True)
class TicketAllergiesErased(DomainEvent):
    """These tickets' guest was erased (allergies gone, label renamed): what was printed for them is written again."""

    name: ClassVar[str] = "kitchen.ticket_allergies_erased"
    ticket_ids: tuple[int, ...]


async def show_allergies(
    session: AsyncSession, check_id: int, allergies: str | None, *, staff_id: int | None
) -> list[int]:
    """Put `allergies` (None: none) on the check's open tickets; the boards redraw them, and each one whose station
    prints is printed again with its ALLERGY banner, as a cook working from paper never sees the screen.

    Tickets already bumped keep what they showed: that food has left the kitchen.
    """
    tickets = list(
        (
            await session.exec(
                select(KitchenTicket)
                .where(KitchenTicket.check_id == check_id, KitchenTicket.state == TicketState.OPEN)
                .order_by(col(KitchenTicket.id))
            )
        ).all()
    )
    changed = [ticket for ticket in tickets if ticket.allergies != allergies]
    if not changed:
        return []
    stations = {s.id: s for s in (await session.exec(select(Station))).all()}
    for ticket in changed:
        ticket.allergies = allergies
        ticket.version += 1
        session.add(ticket)
    await session.flush()
    ids = tuple(ticket.id or 0 for ticket in changed)
    await emit(session, KitchenTicketsChanged(ticket_ids=ids))
    if allergies:
        for ticket in changed:
            station = stations.get(ticket.station_id)
            if ticket.kind is TicketKind.VOID or station is None or station.printer_id is None:
                continue
            session.add(
                KitchenTicketEvent(
                    ticket_id=ticket.id or 0,
                    station_id=ticket.station_id,
                    action=TicketAction.REPRINT,
                    staff_id=staff_id,
                )
            )
            await emit(session, TicketReprintRequested(ticket_id=ticket.id or 0, staff_id=staff_id))
    return list(ids)


async def forget_guest(session: AsyncSession, check_ids: Sequence[int]) -> list[int]:
    """The guest of these checks was erased: empty the allergies their tickets hold and name each ticket as its check
    is named now (a tab named after the guest was renamed); the open ones redraw, and the print queue writes its
    copies of them again (TicketAllergiesErased). The open tickets that changed."""
    if not check_ids:
        return []
    checks = list((await session.exec(select(Check).where(col(Check.id).in_(list(check_ids))))).all())
    labels = {check.id: await table_label(session, check) for check in checks}
    tickets = list(
        (await session.exec(select(KitchenTicket).where(col(KitchenTicket.check_id).in_(list(check_ids))))).all()
    )
    changed = []
    for ticket in tickets:
        label = labels.get(ticket.check_id, ticket.table_label)
        if ticket.allergies is None and ticket.table_label == label:
            continue
        ticket.allergies = None
        ticket.table_label = label
        ticket.version += 1
        session.add(ticket)
        changed.append(ticket)
    if not changed:
        return []
    await session.flush()
    showing = tuple(ticket.id or 0 for ticket in changed if ticket.state == TicketState.OPEN)
    if showing:
        await emit(session, KitchenTicketsChanged(ticket_ids=showing))
    await emit(session, TicketAllergiesErased(ticket_ids=tuple(ticket.id or 0 for ticket in changed)))
    return list(showing)
