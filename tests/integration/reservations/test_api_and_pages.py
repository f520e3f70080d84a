"""A booking site books through /api/v1/reservations with idempotency keys; the host's day book, run sheet and the
manager's settings page."""

from __future__ import annotations

from typing import Any

import httpx
from litestar import Litestar
from sqlmodel import func, select

from app.reservations.models import Reservation, ReservationSource, ReservationStatus
from app.staff.permissions import Role
from app.staff.services import create_api_token
from tests.conftest import Device
from tests.integration.reservations.conftest import Host, key


async def test_a_booking_site_reads_free_times_books_once_per_key_reads_back_and_cancels(
    host_book: Host, app: Litestar, runtime: Any, live: Any
) -> None:
    async with runtime.db.write() as session:
        token = await create_api_token(session, name="Booking site", scopes="read,write")
        reader = await create_api_token(session, name="Reader", scopes="read")
    auth = {"Authorization": f"Bearer {token}"}
    seven = host_book.tomorrow(19)
    day = seven.date().isoformat()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as api:
        free = await api.get(f"/api/v1/reservations/availability?day={day}&party_size=4", headers=auth)
        assert free.status_code == 200, free.text
        body = free.json()
        assert body["turn_minutes"] == 105
        assert len(body["slots"]) == 96
        assert {"starts_at": seven.isoformat(), "free": True} in body["slots"]

        booking = {
            "party_size": 4,
            "starts_at": seven.strftime("%Y-%m-%dT%H:%M"),
            "name": "Web Guest",
            "phone": "0612345678",
        }
        missing = await api.post("/api/v1/reservations", json=booking, headers=auth)
        assert missing.status_code == 422
        assert "Idempotency-Key" in missing.json()["message"]
        first = await api.post("/api/v1/reservations", json=booking, headers={**auth, "Idempotency-Key": "site-1"})
        assert first.status_code == 201, first.text
        retry = await api.post("/api/v1/reservations", json=booking, headers={**auth, "Idempotency-Key": "site-1"})
        assert retry.status_code == 201
        assert retry.json() == first.json()
        changed = await api.post(
            "/api/v1/reservations", json={**booking, "party_size": 5}, headers={**auth, "Idempotency-Key": "site-1"}
        )
        assert changed.status_code == 422
        assert changed.json()["error"] == "idempotency_mismatch"
        big = await api.post(
            "/api/v1/reservations", json={**booking, "party_size": 13}, headers={**auth, "Idempotency-Key": "site-2"}
        )
        assert big.status_code == 422
        assert "booked by phone" in big.json()["message"]
        made = first.json()
        assert made["status"] == "booked"
        assert made["starts_at"] == seven.isoformat()
        assert made["tables"]

        read = await api.get(f"/api/v1/reservations/{made['id']}", headers={"Authorization": f"Bearer {reader}"})
        assert read.status_code == 200
        assert read.json() == made
        refused = await api.post(
            f"/api/v1/reservations/{made['id']}/cancel",
            json={},
            headers={"Authorization": f"Bearer {reader}", "Idempotency-Key": "c-1"},
        )
        assert refused.status_code == 403
        cancel = {**auth, "Idempotency-Key": "cancel-1"}
        cancelled = await api.post(
            f"/api/v1/reservations/{made['id']}/cancel", json={"reason": "Plans changed"}, headers=cancel
        )
        assert cancelled.status_code == 200
        assert cancelled.json()["status"] == "cancelled"
        again = await api.post(
            f"/api/v1/reservations/{made['id']}/cancel", json={"reason": "Plans changed"}, headers=cancel
        )
        assert again.status_code == 200
        assert again.json() == cancelled.json()
        assert (await api.get("/api/v1/reservations/999999", headers=auth)).status_code == 404

        # Fill every table that seats twelve at seven (19+20 and 21+22 push together): the next booking is told
        # the nearest free times.
        group = {**booking, "party_size": 12, "name": "Team"}
        for number in (1, 2):
            made_group = await api.post(
                "/api/v1/reservations", json=group, headers={**auth, "Idempotency-Key": f"group-{number}"}
            )
            assert made_group.status_code == 201
        full = await api.post("/api/v1/reservations", json=group, headers={**auth, "Idempotency-Key": "group-3"})
        assert full.status_code == 409
        assert full.json()["error"] == "slot_full"
        assert full.json()["next_free"]
        assert "Free nearby" in full.json()["message"]
    async with runtime.db.read() as session:
        rows = (await session.exec(select(Reservation))).all()
    assert sorted((r.source, r.status, r.party_size) for r in rows) == [
        (ReservationSource.API, ReservationStatus.BOOKED, 12),
        (ReservationSource.API, ReservationStatus.BOOKED, 12),
        (ReservationSource.API, ReservationStatus.CANCELLED, 4),
    ]


async def test_the_day_book_counts_covers_per_slot_walk_ins_and_no_shows_and_prints_a_run_sheet(
    host_book: Host, host: Device, manager: Device
) -> None:
    lena = await host_book.staff(Role.SERVER)
    seated = await host_book.book(
        host_book.soon(0), party=4, name="Arrived Party", phone="0611111111", allergies="Gluten"
    )
    missed = await host_book.book(host_book.soon(0), party=2, name="Missed Party")
    await host.post(f"/reservations/{seated.id}/seat", {"idempotency_key": key(), "version": 1, "server_id": lena.id})
    await host.post(f"/reservations/{missed.id}/no-show", {"idempotency_key": key(), "version": 1})
    walk_in = await host.post(
        "/checks",
        {
            "idempotency_key": key(),
            "kind": "table",
            "table_id": await host_book.table_id("14"),
            "covers": 3,
            "server_id": lena.id,
        },
    )
    assert walk_in.status_code == 200, walk_in.text

    page = await host.get("/reservations")
    assert page.status_code == 200
    assert "<html" in page.text
    assert "<strong>6</strong> covers booked · <strong>4</strong> seated" in page.text
    assert "<strong>3</strong> walked in · 1 no-show (50%)" in page.text
    assert "⚠ Gluten" in page.text
    assert 'class="slot has"' in page.text
    fragment = await host.get("/reservations", htmx=True)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "Covers per slot" in fragment.text
    times = await host.get(f"/reservations/availability?day={host_book.tomorrow(19).date()}&party_size=4")
    assert times.status_code == 200
    assert 'id="time-field"' in times.text
    assert "19:00 ·" in times.text

    sheet = await host.get("/reservations/run-sheet")
    assert sheet.status_code == 200
    assert "@media print" not in sheet.text
    assert "reservations.css" in sheet.text
    assert "Arrived Party" in sheet.text
    assert "Gluten" in sheet.text
    assert "✓" in sheet.text
    assert "✗" in sheet.text
    assert (await host.get("/reservations/999999")).status_code == 404
    assert (await host.get("/reservations?day=not-a-day")).status_code == 422

    # Booking through the page; a full slot answers with the form and the nearest free times to choose from.
    form = {
        "idempotency_key": key(),
        "party_size": 40,
        "day": str(host_book.tomorrow(19).date()),
        "time": "19:00",
        "name": "Banquet",
    }
    full = await host.post("/reservations", form)
    assert full.status_code == 409
    assert full.headers["hx-retarget"] == "#booking-form"
    assert "full for a party of 40" in full.text
    page_guest = {**form, "idempotency_key": key(), "party_size": 2, "name": "Page Guest"}
    booked = await host.post("/reservations", page_guest)
    assert booked.status_code == 200
    assert booked.headers["hx-redirect"].startswith("/reservations?day=")
    tapped_twice = await host.post("/reservations", page_guest)
    assert tapped_twice.headers["hx-redirect"] == booked.headers["hx-redirect"]
    # Both twelve-seat combinations taken at 19:00: the form comes back offering the nearest times as buttons.
    for name in ("Club One", "Club Two"):
        await host_book.book(host_book.tomorrow(19), party=12, name=name)
    twelve = await host.post("/reservations", {**form, "idempotency_key": key(), "party_size": 12, "name": "Club 3"})
    assert twelve.status_code == 409
    assert "is full for a party of 12. Free nearby: 16:15, 16:30, 21:30, 21:45." in twelve.text
    assert 'name="alt_time" value="21:30">Book 21:30</button>' in twelve.text
    assert 'value="Club 3"' in twelve.text, "what the host typed is still in the form"
    chosen = await host.post(
        "/reservations", {**form, "idempotency_key": key(), "party_size": 12, "name": "Club 3", "alt_time": "21:30"}
    )
    assert chosen.status_code == 200
    async with host_book.db.read() as session:
        late = (await session.exec(select(Reservation).where(Reservation.name == "Club 3"))).one()
        assert (await session.exec(select(func.count()).select_from(Reservation))).one() == 6
    assert late.starts_at == host_book.tomorrow(21, 30)

    assert (await host.get("/manage/reservations")).status_code == 403
    settings_page = await manager.get("/manage/reservations")
    assert settings_page.status_code == 200
    assert "Tables that combine" in settings_page.text
    saved = await manager.post(
        "/manage/reservations/settings",
        {
            "idempotency_key": key(),
            "slot_minutes": 30,
            "first_seating": "18:00",
            "last_seating": "21:30",
            "hold_minutes": 45,
            "max_party_size": 8,
            "max_covers_per_slot": 20,
            "turn_party": ["2", "6", ""],
            "turn_minutes": ["75", "120", ""],
        },
    )
    assert saved.status_code == 200, saved.text
    bad = await manager.post(
        "/manage/reservations/settings",
        {
            "idempotency_key": key(),
            "slot_minutes": 20,
            "first_seating": "18:00",
            "last_seating": "21:30",
            "hold_minutes": 45,
            "max_party_size": 8,
            "max_covers_per_slot": 0,
            "turn_party": "2",
            "turn_minutes": "75",
        },
    )
    assert bad.status_code == 422
    assert "every 15, 30, 45 or 60 minutes" in bad.text
    assert "75" in (await manager.get("/manage/reservations")).text
