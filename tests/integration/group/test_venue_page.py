"""The venue's head-office page: not linked, joining (and its refusals), the link's status and "Send now"."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.lib.settings import Settings
from app.sync.models import HeadOfficeLink, SyncRecord

# Nothing listens on the discard port of the loopback: a head office that cannot be reached.
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture
async def settings(settings: Settings) -> Settings:
    """This module's app is a venue."""
    return settings.model_copy(update={"role": "venue"})


async def _linked(runtime: Any, *, owed: int = 1) -> None:
    async with runtime.db.write() as session:
        session.add(
            HeadOfficeLink(url=NOWHERE, venue_code="NORTH", venue_name="Brigade North", credential="brg_venue_x")
        )
        for n in range(owed):
            session.add(SyncRecord(key=f"journal.entry:{n}", kind="journal.entry", occurred_at=dt.datetime.now(dt.UTC)))


async def test_a_venue_on_its_own_says_so_as_page_and_fragment(manager: Any) -> None:
    page = await manager.get("/manage/head-office")
    assert page.status_code == 200
    assert "<h1>Head office</h1>" in page.text
    assert "not linked to a head office" in page.text
    assert 'href="/manage/head-office"' in page.text
    assert 'href="/manage/venues"' not in page.text
    fragment = await manager.get("/manage/head-office", htmx=True)
    assert "not linked to a head office" in fragment.text
    assert "<h1>" not in fragment.text


async def test_joining_without_a_token_or_to_nowhere_is_refused_and_links_nothing(manager: Any, runtime: Any) -> None:
    empty = await manager.post("/manage/head-office/join", {"url": NOWHERE})
    assert empty.status_code == 422
    assert "Enrolment token is required" in empty.text
    nowhere = await manager.post("/manage/head-office/join", {"url": NOWHERE, "token": "brg_enrol_x"})
    assert nowhere.status_code == 409
    assert "could not be reached" in nowhere.text
    page = await manager.get("/manage/head-office")
    assert "not linked to a head office" in page.text


async def test_the_page_shows_the_acknowledged_mark_the_queue_and_the_last_error(manager: Any, runtime: Any) -> None:
    await _linked(runtime, owed=2)
    page = await manager.get("/manage/head-office")
    assert "NORTH" in page.text
    assert "record 0" in page.text
    assert "2 records" in page.text
    assert "none applied yet" in page.text
    sent = await manager.post("/manage/head-office/send")
    assert sent.status_code == 200
    assert "Sending failed" in sent.text
    assert "could not be reached" in sent.text
    assert "next try" in sent.text
