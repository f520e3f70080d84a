"""Booking: tables by capacity, combinations and turn times; a full slot offers the nearest free times; double
bookings are refused however two tablets race; every change, cancellation and no-show is audited."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from app.floor.models import DiningTable
from app.guests import services as guests
from app.lib.audit import AuditEntry
from app.lib.db import Database
from app.lib.errors import Conflict, InvalidInput, StaleVersion
from app.reservations import host_settings, services
from app.reservations.models import Reservation, ReservationSlot, ReservationStatus
from app.staff.permissions import Role
from tests.integration.reservations.conftest import Host


async def _slots(host_book: Host, reservation_id: int) -> int:
    async with host_book.db.read() as session:
        query = (
            select(func.count()).select_from(ReservationSlot).where(ReservationSlot.reservation_id == reservation_id)
        )
        return int((await session.exec(query)).one())


async def test_tables_follow_capacity_combinations_and_turn_times_and_a_full_slot_offers_the_nearest_free(
    host_book: Host,
) -> None:
    manager = await host_book.staff(Role.MANAGER)
    nineteen, twenty = await host_book.table_id("19"), await host_book.table_id("20")
    eight_pm = host_book.tomorrow(20)
    await host_book.only_combinations()
    with pytest.raises(services.SlotFull) as no_combination:
        await host_book.book(eight_pm, party=8)
    assert "full for a party of 8" in no_combination.value.message
    assert no_combination.value.alternatives == []
    async with host_book.db.write() as session:
        await host_settings.add_combination(session, [nineteen, twenty], actor=manager)

    eight = await host_book.book(eight_pm, party=8, name="Large party")
    assert eight.tables == [nineteen, twenty]
    assert eight.ends_at - eight.starts_at == timedelta(minutes=150)  # parties of 7 and more keep 150 minutes
    assert await _slots(host_book, eight.id) == 2 * 10

    with pytest.raises(services.SlotFull) as full:
        await host_book.book(eight_pm + timedelta(minutes=60), party=8)
    offered = full.value.alternatives
    assert offered, "the nearest free times are offered"
    assert all(abs(at - eight_pm) >= timedelta(minutes=150) for at in offered)
    assert "Free nearby:" in full.value.message

    # A two-top: the smallest table that fits, never the combined six-tops; held 90 minutes.
    two = await host_book.book(eight_pm, party=2)
    async with host_book.db.read() as session:
        seats = {t.id: t.seats for t in (await session.exec(select(DiningTable))).all()}
    assert seats[two.tables[0]] == 2
    assert two.ends_at - two.starts_at == timedelta(minutes=90)
    chosen = (two.tables[0],)
    with pytest.raises(services.SlotFull, match="is taken"):
        await host_book.book(eight_pm + timedelta(minutes=75), party=2, table_ids=chosen)
    after_turn = await host_book.book(eight_pm + timedelta(minutes=90), party=2, table_ids=chosen)
    assert after_turn.tables == list(chosen)
    with pytest.raises(InvalidInput, match="does not fit"):
        await host_book.book(eight_pm, party=5, table_ids=chosen)


async def test_pacing_refuses_a_slot_whose_covers_are_booked(host_book: Host) -> None:
    manager = await host_book.staff(Role.MANAGER)
    async with host_book.db.write() as session:
        current = await services.queries.book_settings(session)
        await host_settings.save_settings(
            session,
            host_settings.BookSettings(
                slot_minutes=15,
                first_seating=current.first_seating,
                last_seating=current.last_seating,
                hold_minutes=60,
                max_party_size=12,
                max_covers_per_slot=6,
                turn_times=((4, 100),),
            ),
            actor=manager,
        )
    seven = host_book.tomorrow(19)
    first = await host_book.book(seven, party=4)
    assert first.ends_at - first.starts_at == timedelta(minutes=100)
    with pytest.raises(services.SlotFull, match="cannot take another 3"):
        await host_book.book(seven, party=3)
    assert (await host_book.book(seven, party=2)).party_size == 2


async def test_bad_bookings_are_refused_and_change_nothing(host_book: Host) -> None:
    for when, party, name, message in [
        (host_book.tomorrow(19, 10), 2, "Ok", "is not one of those times"),
        (host_book.soon(-8), 2, "Ok", "has passed"),
        (host_book.tomorrow(19), 0, "Ok", "A party is 1 to"),
        (host_book.tomorrow(19), 2, "  ", "Name is required"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            await host_book.book(when, party=party, name=name)
    with pytest.raises(InvalidInput, match="not a phone number"):
        await host_book.book(host_book.tomorrow(19), phone="call me")
    async with host_book.db.read() as session:
        assert (await session.exec(select(func.count()).select_from(Reservation))).one() == 0


async def test_two_tablets_booking_the_same_table_at_once_get_one_booking(host_book: Host, runtime: Any) -> None:
    table = (await host_book.table_id("7"),)
    when = host_book.tomorrow(19, 30)
    host = await host_book.staff(Role.HOST)
    # A second process's own connections to the same database: the two bookings really race.
    other = Database(runtime.settings.resolved_database_url(), context=dict(runtime.db.context))
    try:

        async def book(db: Database, name: str) -> Reservation | Exception:
            try:
                async with db.write() as session:
                    booking = services.Booking(party_size=4, starts_at=when, name=name, table_ids=table)
                    return await services.book(session, booking, actor=host)
            except Conflict as refused:
                return refused

        results = await asyncio.gather(*(book(db, name) for db, name in [(runtime.db, "Ana"), (other, "Bo")] * 3))
    finally:
        await other.dispose()
    booked = [r for r in results if isinstance(r, Reservation)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(booked) == 1
    assert len(refused) == 5
    async with host_book.db.read() as session:
        assert (await session.exec(select(func.count()).select_from(Reservation))).one() == 1
        slots = (await session.exec(select(ReservationSlot.reservation_id))).all()
    assert set(slots) == {booked[0].id}

    # The database itself refuses a second hold on a held quarter hour, whatever code tries it.
    twin = ReservationSlot(reservation_id=booked[0].id or 0, table_id=table[0], slot_at=booked[0].starts_at)
    async with host_book.db.write() as session:
        session.add(twin)
        with pytest.raises(IntegrityError):
            await session.flush()
        await session.rollback()


async def test_change_cancel_and_no_show_are_audited_without_personal_data(host_book: Host) -> None:
    host = await host_book.staff(Role.HOST)
    reservation = await host_book.book(host_book.tomorrow(19), party=2, name="Ines Duarte", phone="+31 6 1234 5678")
    assert reservation.guest_id is not None
    later = services.Booking(
        party_size=4, starts_at=host_book.tomorrow(20), name="Ines Duarte", phone="+31 6 1234 5678", notes="window"
    )
    async with host_book.db.write() as session:
        with pytest.raises(StaleVersion):
            await services.change(session, reservation.id or 0, later, actor=host, expected_version=7)
    async with host_book.db.write() as session:
        changed = await services.change(
            session, reservation.id or 0, later, actor=host, expected_version=1, reason="Guest called"
        )
    assert changed.party_size == 4
    assert changed.version == 2
    assert await _slots(host_book, changed.id or 0) == 105 // 15
    async with host_book.db.write() as session:
        cancelled = await services.cancel(session, changed.id or 0, actor=host, reason="Flight delayed")
    assert cancelled.status == ReservationStatus.CANCELLED
    assert await _slots(host_book, cancelled.id or 0) == 0
    async with host_book.db.write() as session:
        with pytest.raises(Conflict, match="is cancelled"):
            await services.cancel(session, cancelled.id or 0, actor=host)

    due_now = await host_book.book(host_book.soon(0), party=3, name="Tom Weller")
    ahead = await host_book.book(host_book.soon(4), party=2, name="Early Bird")
    async with host_book.db.write() as session:
        with pytest.raises(Conflict, match="once their time has come"):
            await services.mark_no_show(session, ahead.id or 0, actor=host)
    async with host_book.db.write() as session:
        gone = await services.mark_no_show(session, due_now.id or 0, actor=host)
    assert gone.status == ReservationStatus.NO_SHOW
    assert await _slots(host_book, gone.id or 0) == 0

    async with host_book.db.read() as session:
        entries = (
            await session.exec(
                select(AuditEntry).where(col(AuditEntry.action).startswith("reservation.")).order_by(col(AuditEntry.id))
            )
        ).all()
    actions = [(e.action, e.subject) for e in entries]
    assert ("reservation.changed", f"reservation:{reservation.id}") in actions
    assert ("reservation.cancelled", f"reservation:{reservation.id}") in actions
    assert ("reservation.no_show", f"reservation:{due_now.id}") in actions
    change_entry = next(e for e in entries if e.action == "reservation.changed")
    assert change_entry.actor_id == host.id
    assert change_entry.reason == "Guest called"
    assert change_entry.before is not None
    assert change_entry.before["party_size"] == 2
    assert change_entry.after is not None
    assert change_entry.after["party_size"] == 4
    assert next(e for e in entries if e.action == "reservation.cancelled").reason == "Flight delayed"
    for entry in entries:
        text = f"{entry.before} {entry.after} {entry.reason}"
        assert "Ines" not in text, "no personal data in the hash-chained log"
        assert "1234" not in text


async def test_erasing_a_guest_empties_their_bookings_but_keeps_the_covers(host_book: Host) -> None:
    manager = await host_book.staff(Role.MANAGER)
    booked = await host_book.book(
        host_book.tomorrow(19), party=3, name="Vera Lind", phone="0622233344", allergies="Celery", notes="Quiet corner"
    )
    async with host_book.db.write() as session:
        await guests.erase_guest(session, booked.guest_id or 0, actor=manager, reason="Asked to be forgotten")
    async with host_book.db.read() as session:
        kept = await session.get(Reservation, booked.id)
    assert kept is not None
    assert (kept.name, kept.phone, kept.allergies, kept.notes) == (guests.ERASED_NAME, "", "", "")
    assert (kept.party_size, kept.status, kept.tables) == (3, ReservationStatus.BOOKED, booked.tables)
