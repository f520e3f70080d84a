"""A host's or manager's form with a missing or malformed field is refused before anything changes, in one
message format that names the field."""

from __future__ import annotations

import html
from typing import Any

import pytest
from sqlmodel import func, select

from app.reservations.models import Reservation, ReservationSettings, WaitlistEntry
from tests.conftest import Device
from tests.integration.reservations.conftest import Host, key


async def _counts(host_book: Host) -> tuple[int, int]:
    async with host_book.db.read() as session:
        reservations = (await session.exec(select(func.count()).select_from(Reservation))).one()
        waiting = (await session.exec(select(func.count()).select_from(WaitlistEntry))).one()
    return reservations, waiting


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"party_size": "four"}, "The party size must be a whole number."),
        ({"party_size": "0"}, "The party size must be at least 1."),
        ({"party_size": None}, "The party size is required."),
        ({"name": "   "}, "The name is required."),
        ({"name": "x" * 200}, "The name is 200 characters; the limit is"),
        ({"phone": "06\x0012"}, "The phone contains control characters."),
        ({"day": "next friday"}, "“next friday” is not a date; use the date picker."),
        ({"time": "seven"}, "Choose a time for the booking."),
        ({"tables": "3,window"}, "Choose the tables from the list."),
    ],
)
async def test_a_malformed_booking_is_refused_by_name_and_books_nothing(
    host_book: Host, host: Device, changes: dict[str, Any], message: str
) -> None:
    form = {
        "idempotency_key": key(),
        "party_size": "2",
        "day": str(host_book.tomorrow(19).date()),
        "time": "19:00",
        "name": "Ines Duarte",
    }
    form.update(changes)
    before = await _counts(host_book)
    refused = await host.post("/reservations", {k: v for k, v in form.items() if v is not None})
    assert refused.status_code == 422, refused.text
    assert message in html.unescape(refused.text)
    assert await _counts(host_book) == before


async def test_a_command_on_a_reservation_without_its_version_changes_nothing(host_book: Host, host: Device) -> None:
    booked = await host_book.book(host_book.tomorrow(19), party=2, name="Kept Party")
    cancel = await host.post(f"/reservations/{booked.id}/cancel", {"idempotency_key": key(), "reason": "Ill"})
    assert cancel.status_code == 422
    assert "The reservation's version is required." in html.unescape(cancel.text)
    seat = await host.post(
        f"/reservations/{booked.id}/seat", {"idempotency_key": key(), "version": "1", "server_id": "lena"}
    )
    assert seat.status_code == 422
    assert "The server must be a whole number." in html.unescape(seat.text)
    no_reason = await host.post(f"/reservations/{booked.id}/cancel", {"idempotency_key": key(), "version": "1"})
    assert no_reason.status_code == 422
    assert "The reason is required." in html.unescape(no_reason.text)
    async with host_book.db.read() as session:
        kept = await session.get(Reservation, booked.id)
        assert kept is not None
        assert (kept.status, kept.version) == (booked.status, booked.version)


async def test_a_walk_in_and_seating_from_the_list_refuse_malformed_fields(host_book: Host, host: Device) -> None:
    before = await _counts(host_book)
    bad = await host.post("/waitlist", {"idempotency_key": key(), "party_size": "many", "name": "Walk In"})
    assert bad.status_code == 422
    assert "The party size must be a whole number." in html.unescape(bad.text)
    assert await _counts(host_book) == before
    joined = await host.post("/waitlist", {"idempotency_key": key(), "party_size": "2", "name": "Walk In"})
    assert joined.status_code == 200, joined.text
    async with host_book.db.read() as session:
        entry = (await session.exec(select(WaitlistEntry).where(WaitlistEntry.name == "Walk In"))).one()
    no_table = await host.post(f"/waitlist/{entry.id}/seat", {"idempotency_key": key()})
    assert no_table.status_code == 422
    assert "Choose the table to seat them at." in html.unescape(no_table.text)
    bad_table = await host.post(f"/waitlist/{entry.id}/ready", {"idempotency_key": key(), "table_id": "0"})
    assert bad_table.status_code == 422
    assert "The table must be at least 1." in html.unescape(bad_table.text)
    async with host_book.db.read() as session:
        still = await session.get(WaitlistEntry, entry.id)
        assert still is not None
        assert (still.status, still.table_id) == (entry.status, entry.table_id)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"slot_minutes": "half an hour"}, "Slot length must be a whole number."),
        ({"first_seating": "six"}, "The first seating must be a time like 17:30."),
        ({"last_seating": None}, "The last seating must be a time like 17:30."),
        ({"hold_minutes": "-5"}, "The floor's look-ahead must be at least 0."),
        ({"turn_party": ["2", "x"], "turn_minutes": ["75", "90"]}, "A turn time's party size must be a whole number."),
        ({"turn_party": ["2"], "turn_minutes": ["5"]}, "A turn time's minutes must be at least 15."),
    ],
)
async def test_malformed_book_settings_are_refused_by_name_and_save_nothing(
    host_book: Host, manager: Device, changes: dict[str, Any], message: str
) -> None:
    form: dict[str, Any] = {
        "idempotency_key": key(),
        "slot_minutes": "30",
        "first_seating": "18:00",
        "last_seating": "21:30",
        "hold_minutes": "45",
        "max_party_size": "8",
        "max_covers_per_slot": "20",
    }
    form.update(changes)
    async with host_book.db.read() as session:
        before = (await session.exec(select(ReservationSettings))).one().model_dump()
    refused = await manager.post("/manage/reservations/settings", {k: v for k, v in form.items() if v is not None})
    assert refused.status_code == 422, refused.text
    assert message in html.unescape(refused.text)
    async with host_book.db.read() as session:
        assert (await session.exec(select(ReservationSettings))).one().model_dump() == before
    combination = await manager.post(
        "/manage/reservations/combinations", {"idempotency_key": key(), "table_id": ["1", "two"]}
    )
    assert combination.status_code == 422
    assert "A table must be a whole number." in html.unescape(combination.text)
