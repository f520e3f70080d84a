"""A head office whose web processes only take batches in: the posting worker of another process books them."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from app.accounting.chart import seed_chart
from app.group import books, posting_worker
from app.group import services as head_office
from app.group.books_models import PostingStatus, VenuePostedMark, VenuePosting
from app.group.protocol import ENROL_PATH, RECORDS_PATH
from app.inventory.models import StockLocation
from app.lib.settings import Settings
from tests.integration.group.test_bulk_posting import _records


@pytest.fixture
async def settings(settings: Settings) -> Settings:
    """A web process of a head office that runs its workers in a process of their own."""
    return settings.model_copy(update={"run_workers": False})


async def _postings(runtime: Any) -> int:
    async with runtime.db.read() as session:
        return int((await session.exec(select(func.count()).select_from(VenuePosting))).one())


async def test_a_web_process_takes_a_batch_in_without_booking_it_and_the_posting_worker_books_it_once(
    runtime: Any, api: httpx.AsyncClient
) -> None:
    async with runtime.db.write() as session:
        await seed_chart(session)
        session.add(StockLocation(name="Kitchen"))
        session.add(StockLocation(name="Cellar"))
        added = await head_office.add_venue(session, code="NORTH", name="North", timezone="UTC", currency="EUR")
        await session.flush()
        await books.save_mapping(session, venue_code="NORTH", kind="account", subject="4999", target="4040")
    credential = (await api.post(ENROL_PATH, json={"token": added.token})).json()["credential"]
    batch = {
        "records": [
            {
                "sequence": r.sequence,
                "kind": r.kind,
                "key": r.key,
                "occurred_at": r.occurred_at.isoformat(),
                "payload": r.payload,
            }
            for r in _records()
        ]
    }
    answer = await api.post(RECORDS_PATH, json=batch, headers={"authorization": f"Bearer {credential}"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["acked"] == 11

    # The web process answered and booked nothing; the venue waits for the worker.
    assert await _postings(runtime) == 0
    async with runtime.db.read() as session:
        assert await posting_worker.venues_waiting(session) == [added.venue.id]

    worker = posting_worker.start(runtime)
    assert worker is not None
    try:
        for _ in range(200):
            if await _postings(runtime) == 11:
                break
            await asyncio.sleep(0.05)
        # A round more finds nothing left to book, and books nothing twice.
        await posting_worker.post_waiting(runtime.db)
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    async with runtime.db.read() as session:
        statuses = (await session.exec(select(VenuePosting.status))).all()
        mark = (await session.exec(select(VenuePostedMark.sequence))).one()
        assert await posting_worker.venues_waiting(session) == []
    assert statuses == [PostingStatus.POSTED] * 11
    assert mark == 11
