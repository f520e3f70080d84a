"""The posting worker: books venues' ingested entries after each ingest and polls for venues still waiting,
one venue at a time under an advisory lock, retrying a failed venue after a pause.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import func, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.group.books import log, post_pending
from app.group.books_models import VenuePostedMark
from app.group.models import Venue
from app.lib.sql import is_postgres

# Records booked in one transaction after a batch: a batch of 50 checks books its 150 entries and moves in one.
POSTING_CHUNK = 200


# The advisory-lock namespace that lets one posting run at a time book a venue's records (PostgreSQL).
_POSTING_LOCK_NAMESPACE = 0x6272_6732


# Venues this process is posting now, and whether another batch of theirs arrived meanwhile.
_posting_now: dict[int, bool] = {}


async def post_after_ingest(db: Any, venue_id: int) -> None:
    """Book what a venue just sent, in transactions of its own: a failure here never refuses the batch.

    One run per process books a venue; a batch that arrives meanwhile asks it to go round once more instead of
    queueing a run of its own (each would hold a database connection while it waited). Across processes one
    run at a time books a venue (a second waits, then books only what is left, instead of booking the same
    records twice and losing each on the unique index). Each transaction books `POSTING_CHUNK` records.
    """
    if venue_id in _posting_now:
        _posting_now[venue_id] = True
        return
    _posting_now[venue_id] = True
    try:
        while _posting_now[venue_id]:
            _posting_now[venue_id] = False
            await _post_venue(db, venue_id)
    finally:
        del _posting_now[venue_id]


async def _post_venue(db: Any, venue_id: int) -> None:
    try:
        while True:
            async with db.write() as session:
                if is_postgres(session):
                    await session.exec(
                        text("SELECT pg_advisory_xact_lock(:namespace, :venue)").bindparams(
                            namespace=_POSTING_LOCK_NAMESPACE, venue=venue_id
                        )
                    )
                run = await post_pending(session, venue_id=venue_id, limit=POSTING_CHUNK)
            if run.posted + run.exceptions < POSTING_CHUNK:
                break
    except Exception:  # the records are held; the posting worker tries again later, and a retry books them
        log.exception("posting venue %s's records failed; they wait for a retry", venue_id)
        _failed_at[venue_id] = time.monotonic()


# When posting a venue last failed: the worker leaves it alone for `RETRY_AFTER_SECONDS` before trying again.
_failed_at: dict[int, float] = {}


RETRY_AFTER_SECONDS = 30.0


# How often the posting worker looks for venues with records still to book, unless a batch wakes it first.
POSTING_POLL_SECONDS = 0.1


async def venues_waiting(session: AsyncSession) -> list[int]:
    """The venues holding acknowledged records above their posted mark: what is still to be booked."""
    query = (
        select(Venue.id)
        .outerjoin(VenuePostedMark, col(VenuePostedMark.venue_id) == col(Venue.id))
        .where(col(Venue.acked_sequence) > func.coalesce(col(VenuePostedMark.sequence), 0))
        .order_by(col(Venue.id))
    )
    return [int(vid) for vid in (await session.exec(query)).all() if vid is not None]


async def post_waiting(db: Any) -> None:
    """Book every venue with records still to book (one that just failed waits its turn)."""
    async with db.read() as session:
        waiting = await venues_waiting(session)
    now = time.monotonic()
    for venue in waiting:
        if now - _failed_at.get(venue, -RETRY_AFTER_SECONDS) < RETRY_AFTER_SECONDS:
            continue
        _failed_at.pop(venue, None)
        await post_after_ingest(db, venue)


async def run_posting(db: Any, *, poll_seconds: float = POSTING_POLL_SECONDS) -> None:
    """The posting worker: books what the venues sent, wherever it was taken in.

    Runs in each process that runs the workers; the web processes of a deployment that runs its workers in a
    process of their own (`BRIGADE_RUN_WORKERS=false`) only take batches in, and this books them.
    """
    while True:
        try:
            await post_waiting(db)
        except Exception:  # the database is away; the records wait, and the next round tries again
            log.exception("looking for venue records to book failed")
        await asyncio.sleep(poll_seconds)


def start(runtime: Any) -> asyncio.Task[None] | None:
    """Start the posting worker at a head office (a venue books nothing of other venues)."""
    if runtime.settings.role != "head_office":
        return None
    poll_seconds = max(float(runtime.settings.outbox_poll_seconds), POSTING_POLL_SECONDS)
    return asyncio.create_task(run_posting(runtime.db, poll_seconds=poll_seconds))
