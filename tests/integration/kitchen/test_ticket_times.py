"""Ticket times per station (fire to bump, expo: fire to ready) are kept for reports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from app.kitchen import bumping, queries
from app.kitchen.models import KitchenTicket, KitchenTicketEvent, TicketAction
from app.lib.clock import utcnow
from tests.integration.kitchen.support import Order, fire, open_check, station_id, tickets_of


async def test_fire_to_bump_times_are_reported_per_station_and_recalls_count_the_last_bump(
    runtime: Any, demo: None
) -> None:
    grill = await station_id(runtime, "Grill")
    scene = await open_check(runtime)
    fire_id = await fire(runtime, scene, [Order("GR-RIB"), Order("FR-CAL")])
    await runtime.dispatcher.drain()
    tickets = {name: ticket for ticket, name, _ in await tickets_of(runtime, fire_id)}
    async with runtime.db.write() as session:
        for ticket in (await session.exec(select(KitchenTicket))).all():
            ticket.fired_at = utcnow() - timedelta(minutes=12)
            session.add(ticket)
    async with runtime.db.write() as session:
        await bumping.bump_ticket(session, tickets["Grill"].id or 0, staff_id=None)
    async with runtime.db.write() as session:
        await bumping.recall_last(session, grill, staff_id=None)
    async with runtime.db.write() as session:
        await bumping.bump_ticket(session, tickets["Grill"].id or 0, staff_id=None)
        await bumping.bump_ticket(session, tickets["Fry"].id or 0, staff_id=None)
        await bumping.bump_ticket(session, tickets["Expo"].id or 0, staff_id=None)

    async with runtime.db.read() as session:
        times = await queries.ticket_times(session, utcnow() - timedelta(hours=1), utcnow())
        actions = [e.action for e in (await session.exec(select(KitchenTicketEvent))).all()]

    assert [(t.station_name, t.tickets) for t in times] == [("Grill", 1), ("Fry", 1), ("Expo", 1)]
    assert all(715 <= t.average_s <= 730 for t in times)
    assert actions == [
        TicketAction.BUMP,
        TicketAction.RECALL,
        TicketAction.BUMP,
        TicketAction.BUMP,
        TicketAction.READY,
    ]
