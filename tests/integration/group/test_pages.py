"""Head office's venues page: add a venue (token shown once), refuse a taken code, revoke; as page and fragment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import select

from app.group.models import Venue


async def _venues(runtime: Any) -> list[Venue]:
    async with runtime.db.read() as session:
        return list((await session.exec(select(Venue))).all())


async def test_the_venues_page_is_a_page_and_its_list_a_fragment(manager: Any) -> None:
    page = await manager.get("/manage/venues")
    assert page.status_code == 200
    assert "<h1>Venues</h1>" in page.text
    assert "No venues yet." in page.text
    assert 'href="/manage/venues"' in page.text
    assert 'href="/manage/head-office"' not in page.text
    fragment = await manager.get("/manage/venues", htmx=True)
    assert fragment.status_code == 200
    assert "No venues yet." in fragment.text
    assert "<h1>" not in fragment.text


async def test_a_manager_adds_a_venue_and_sees_its_token_once(manager: Any, runtime: Any) -> None:
    added = await manager.post("/manage/venues", {"code": "north", "name": "Brigade North"})
    assert added.status_code == 200
    assert "brg_enrol_" in added.text
    assert "NORTH" in added.text
    token = added.text.split("brg_enrol_", 1)[1].split("<", 1)[0]
    again = await manager.get("/manage/venues")
    assert token not in again.text
    assert "waiting to join" in again.text
    (venue,) = await _venues(runtime)
    assert (venue.code, venue.timezone, venue.currency) == ("NORTH", "Europe/Amsterdam", "EUR")
    assert venue.token_hash is not None
    assert token not in venue.token_hash


async def test_a_taken_code_or_bad_currency_is_refused_and_adds_nothing(manager: Any, runtime: Any) -> None:
    await manager.post("/manage/venues", {"code": "NORTH", "name": "Brigade North"})
    taken = await manager.post("/manage/venues", {"code": "north", "name": "Another"})
    assert taken.status_code == 409
    assert "already has a venue NORTH" in taken.text
    bad = await manager.post("/manage/venues", {"code": "SOUTH", "name": "South", "currency": "E1"})
    assert bad.status_code == 422
    assert "three-letter" in bad.text
    assert len(await _venues(runtime)) == 1


async def test_revoking_a_venue_from_the_page(manager: Any, runtime: Any) -> None:
    await manager.post("/manage/venues", {"code": "NORTH", "name": "Brigade North"})
    revoked = await manager.post("/manage/venues/NORTH/revoke")
    assert revoked.status_code == 200
    assert "Venue NORTH is revoked." in revoked.text
    twice = await manager.post("/manage/venues/NORTH/revoke")
    assert twice.status_code == 409
    unknown = await manager.post("/manage/venues/EAST/revoke")
    assert unknown.status_code == 404
    async with runtime.db.read() as session:
        count = (await session.exec(select(func.count()).select_from(Venue))).one()
    assert count == 1
    assert (await _venues(runtime))[0].status.value == "revoked"
