"""The floor shows what is coming; a walk-in on a held table needs the host's say-so; seating a reservation opens
its check with the party's covers and the guest (and their allergies) attached."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.lib.audit import AuditEntry
from app.lib.clock import utcnow
from app.orders.models import Check, CheckStatus
from app.reservations import services
from app.reservations.models import Reservation, ReservationStatus
from app.staff.permissions import Role
from tests.conftest import Device
from tests.integration.reservations.conftest import Host, key


async def test_a_held_table_shows_on_the_floor_warns_a_walk_in_and_seats_its_party_with_their_guest(
    host_book: Host, host: Device, server: Device
) -> None:
    table_id = await host_book.table_id("9")
    reservation = await host_book.book(
        host_book.soon(2), party=4, name="Mara Quist", phone="06 1122 3344", allergies="Sesame", table_ids=(table_id,)
    )
    later = await host_book.book(host_book.tomorrow(21), party=2, name="Tomorrow Party")

    assert (await host.get("/floor")).status_code == 200
    floor = await host_book.plan(host)
    assert floor.status_code == 200
    assert f'data-reservation="{reservation.id}"' in floor.text
    assert '· 4p <span class="table-hold-name">Mara Quist</span>' in floor.text
    assert "Tomorrow Party" not in floor.text, "only what is due within the look-ahead shows"
    sheet = await host.get(f"/tables/{table_id}", htmx=True)
    assert "Held for <strong>Mara Quist</strong>" in sheet.text
    assert 'name="confirm_hold"' in sheet.text

    lena = await host_book.staff(Role.SERVER)
    walk_in = {"idempotency_key": key(), "kind": "table", "table_id": table_id, "covers": 2, "server_id": lena.id}
    refused = await host.post("/checks", walk_in)
    assert refused.status_code == 409
    assert "is held for Mara Quist (party of 4)" in refused.text
    async with host_book.db.read() as session:
        assert (await session.exec(select(Check).where(Check.table_id == table_id))).first() is None

    no_server = await host.post(f"/reservations/{reservation.id}/seat", {"idempotency_key": key(), "version": 1})
    assert no_server.status_code == 422
    assert "Choose the server" in no_server.text
    seat = {"idempotency_key": key(), "version": 1, "server_id": lena.id}
    seated = await host.post(f"/reservations/{reservation.id}/seat", seat)
    assert seated.status_code == 200
    assert seated.headers["hx-redirect"] == "/floor"
    again = await host.post(f"/reservations/{reservation.id}/seat", seat)
    assert again.headers["hx-redirect"] == "/floor", "a double tap seats once"

    async with host_book.db.read() as session:
        stored = await session.get(Reservation, reservation.id)
        assert stored is not None
        assert stored.status == ReservationStatus.SEATED
        check = await session.get(Check, stored.check_id)
        audit = (await session.exec(select(AuditEntry).where(AuditEntry.action == "reservation.seated"))).all()
    assert check is not None
    assert check.status == CheckStatus.OPEN
    assert (check.table_id, check.covers, check.server_id) == (table_id, 4, lena.id)
    assert check.guest_id == stored.guest_id
    assert check.guest_id is not None
    assert check.guest_allergies == "Sesame"
    assert len(audit) == 1
    assert audit[0].after is not None
    assert audit[0].after["check_id"] == check.id

    # Lena sees the seated table as hers; the hold is gone from the floor; the one for tomorrow is untouched.
    floor = await host_book.plan(server)
    assert f'data-reservation="{reservation.id}"' not in floor.text
    too_early = await host.post(
        f"/reservations/{later.id}/seat", {"idempotency_key": key(), "version": 1, "server_id": lena.id}
    )
    assert too_early.status_code == 409
    assert "seated from three hours before its time" in too_early.text
    page = await host.get(f"/reservations/{later.id}")
    assert page.status_code == 200
    assert "Seat 2 at" in page.text
    stale = await host.post(
        f"/reservations/{reservation.id}/cancel", {"idempotency_key": key(), "version": 1, "reason": "x"}
    )
    assert stale.status_code == 409

    # A walk-in confirmed knowingly is seated at a table held for later.
    other = await host_book.table_id("10")
    await host_book.book(host_book.soon(3), party=2, name="Held Later", table_ids=(other,))
    confirmed = await host.post(
        "/checks",
        {
            "idempotency_key": key(),
            "kind": "table",
            "table_id": other,
            "covers": 2,
            "server_id": lena.id,
            "confirm_hold": "1",
        },
    )
    assert confirmed.status_code == 200, confirmed.text


async def test_a_seated_party_on_combined_tables_keeps_the_table_pushed_against_theirs(
    host_book: Host, host: Device
) -> None:
    lena = await host_book.staff(Role.SERVER)
    nineteen, twenty = await host_book.table_id("19"), await host_book.table_id("20")
    party = await host_book.book(host_book.soon(1), party=10, name="Rowing Club")
    assert party.tables == [nineteen, twenty]
    seated = await host.post(
        f"/reservations/{party.id}/seat", {"idempotency_key": key(), "version": 1, "server_id": lena.id}
    )
    assert seated.status_code == 200
    floor = await host_book.plan(host)
    assert 'joined · 10p <span class="table-hold-name">Rowing Club</span>' in floor.text
    walk_in = {"idempotency_key": key(), "kind": "table", "table_id": twenty, "covers": 2, "server_id": lena.id}
    refused = await host.post("/checks", walk_in)
    assert refused.status_code == 409
    assert "pushed together with the table where Rowing Club&#39;s party of 10 is seated" in refused.text


async def test_a_table_cleared_before_its_partys_turn_is_up_can_be_booked_again(host_book: Host, host: Device) -> None:
    lena = await host_book.staff(Role.SERVER)
    table_id = await host_book.table_id("11")
    early = await host_book.book(host_book.soon(0), party=4, name="Quick Lunch", table_ids=(table_id,))
    seat = {"idempotency_key": key(), "version": 1, "server_id": lena.id}
    assert (await host.post(f"/reservations/{early.id}/seat", seat)).status_code == 200
    with pytest.raises(services.SlotFull, match="is taken"):
        await host_book.book(host_book.soon(2), party=4, name="Next Party", table_ids=(table_id,))
    async with host_book.db.write() as session:
        stored = await session.get(Reservation, early.id)
        assert stored is not None
        check = await session.get(Check, stored.check_id)
        assert check is not None
        # Paid and bussed well inside their 105 minutes.
        check.status, check.closed_at, check.table_cleared_at = CheckStatus.CLOSED, utcnow(), utcnow()
        session.add(check)
    after = await host_book.book(host_book.soon(2), party=4, name="Next Party", table_ids=(table_id,))
    assert after.tables == [table_id]
