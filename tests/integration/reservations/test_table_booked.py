"""Seating reads the book only for a table a booking could hold: the table lock's own column (`table_booked`) says
so, and it must never say no where the book (`table_holds`) would hold the table."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from app.floor.models import DiningTable
from app.lib.clock import utcnow
from app.reservations.models import Reservation, ReservationStatus
from app.reservations.queries import MAX_HOLD_MINUTES, table_booked, table_holds


async def test_the_table_locks_test_covers_every_table_the_book_holds_and_no_table_nobody_booked(
    runtime: Any, demo: None
) -> None:
    async with runtime.db.read() as session:
        tables = list((await session.exec(select(DiningTable).order_by(col(DiningTable.id)))).all())
    ids = [t.id or 0 for t in tables][:9]
    now = utcnow()
    bookings = [
        # due in half an hour on the first table; on the second and third pushed together, seated now
        (ReservationStatus.BOOKED, now + timedelta(minutes=30), [ids[0]]),
        (ReservationStatus.SEATED, now - timedelta(minutes=20), [ids[1], ids[2]]),
        # late and not here yet; cancelled; beyond the longest look-ahead; over already
        (ReservationStatus.BOOKED, now - timedelta(minutes=10), [ids[3]]),
        (ReservationStatus.CANCELLED, now + timedelta(minutes=15), [ids[4]]),
        (ReservationStatus.BOOKED, now + timedelta(minutes=MAX_HOLD_MINUTES + 30), [ids[5]]),
        (ReservationStatus.BOOKED, now - timedelta(hours=5), [ids[6]]),
        # table 11 is not table 1: a name inside another's is no match
        (ReservationStatus.BOOKED, now + timedelta(minutes=30), [ids[8] * 10 + 1]),
    ]
    async with runtime.db.write() as session:
        for status, starts, on in bookings:
            session.add(
                Reservation(
                    party_size=2,
                    starts_at=starts,
                    ends_at=starts + timedelta(minutes=90),
                    name="Party",
                    status=status,
                    table_ids=",".join(str(t) for t in on),
                )
            )
    async with runtime.db.read() as session:
        booked = dict(
            (await session.exec(select(DiningTable.id, table_booked()).where(col(DiningTable.id).in_(ids)))).all()
        )
        holds = await table_holds(session, ids)
    assert set(holds) <= {t for t, yes in booked.items() if yes}, "a table the book holds is always tested booked"
    assert {t for t, yes in booked.items() if yes} == {ids[0], ids[1], ids[2], ids[3]}
    assert set(holds) == {ids[0], ids[2], ids[3]}, "the seated party's own table shows its check, not a hold"
