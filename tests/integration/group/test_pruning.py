"""A venue prunes the sync records head office acknowledged once they are older than the retention period.

Never one head office does not hold yet; `brigade sync status` shows the same figures before and after; a venue
that joins again numbers what it kept from 1; a head office gone back below what was pruned is told plainly.
Head office keeps everything it received.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
from click.testing import CliRunner
from sqlalchemy import delete, update
from sqlmodel import col, select

from app.cli import main as cli
from app.group import services as head_office
from app.group.models import Venue, VenueRecord
from app.lib.clock import utcnow
from app.sync import queries, services
from app.sync.models import HeadOfficeLink, SyncRecord
from app.sync.sender import SyncSender, join
from tests.integration.group.test_venue_sending import HEAD_OFFICE, _joined, _post_sale, _records, venue_demo

__all__ = ["venue_demo"]


async def _age(db: Any, ids: list[int], days: int) -> None:
    async with db.write() as session:
        table: Any = SyncRecord.__table__  # type: ignore[attr-defined]
        old = utcnow() - dt.timedelta(days=days)
        await (await session.connection()).execute(update(table).where(table.c.id.in_(ids)).values(created_at=old))


async def _status(db: Any) -> queries.SyncStatus:
    async with db.read() as session:
        return await queries.sync_status(session)


async def test_the_sender_prunes_only_old_acknowledged_records_and_the_status_stays_right(
    runtime: Any, venue: Any, venue_demo: None, to_head_office: httpx.AsyncBaseTransport
) -> None:
    await _joined(runtime, venue, to_head_office)
    for number in range(1, 7):
        await _post_sale(venue, number)
    assert (await SyncSender(venue.db, transport=to_head_office).send_all()).acked == 6
    # Two more head office does not hold yet (the line is down), as old as the oldest acknowledged ones.
    await _post_sale(venue, 7)
    await _post_sale(venue, 8)
    kept = await _records(venue.db, SyncRecord)
    await _age(venue.db, [r.id for r in kept[:4]] + [r.id for r in kept[6:]], days=45)
    await _age(venue.db, [kept[4].id], days=29)
    before = await _status(venue.db)
    assert (before.acked_sequence, before.queued, before.kept) == (6, 2, 6)

    # The worker prunes on its first turn; the sender's loop is what runs in `brigade serve`.
    sender = SyncSender(venue.db, transport=CutLink(), retention_days=30, poll_seconds=0.05)
    running = asyncio.create_task(sender.run())
    for _ in range(100):
        if len(await _records(venue.db, SyncRecord)) < len(kept):
            break
        await asyncio.sleep(0.05)
    sender.stop()
    await running

    left = await _records(venue.db, SyncRecord)
    assert [r.id for r in left] == [r.id for r in kept[4:]], "old and acknowledged: pruned; the rest stay"
    assert [r.sequence for r in left[2:]] == [7, 8], "numbered but not acknowledged: they stay, however old"
    after = await _status(venue.db)
    assert (after.acked_sequence, after.queued, after.kept) == (6, 2, 2)
    assert after.oldest_queued_at == before.oldest_queued_at
    env = {
        "BRIGADE_DATABASE_URL": venue.settings.resolved_database_url(),
        "BRIGADE_VAR_DIR": str(venue.settings.var_dir),
        "BRIGADE_ROLE": "venue",
        "BRIGADE_SYNC_RETENTION_DAYS": "30",
    }
    printed = await asyncio.to_thread(CliRunner().invoke, cli, ["sync", "status"], env=env)
    assert printed.exit_code == 0, printed.output
    assert "acknowledged     6" in printed.output
    assert "queued           2" in printed.output
    assert "kept             2 acknowledged, pruned after 30 days" in printed.output

    # Pruning again finds nothing more; the queued records go up after the pruned ones, without a hole.
    assert await SyncSender(venue.db, retention_days=30).prune() == 0
    outcome = await SyncSender(venue.db, transport=to_head_office).send_all()
    assert (outcome.sent, outcome.acked, outcome.error) == (2, 8, None)
    async with runtime.db.read() as session:
        held = (await session.exec(select(VenueRecord.sequence).order_by(col(VenueRecord.sequence)))).all()
    assert list(held) == list(range(1, 9)), "head office keeps every record it received"


async def test_a_head_office_gone_back_below_what_was_pruned_is_told_and_a_new_enrolment_starts_at_1(
    runtime: Any, venue: Any, venue_demo: None, to_head_office: httpx.AsyncBaseTransport
) -> None:
    await _joined(runtime, venue, to_head_office)
    for number in range(1, 5):
        await _post_sale(venue, number)
    assert (await SyncSender(venue.db, transport=to_head_office).send_all()).acked == 4
    records = await _records(venue.db, SyncRecord)
    await _age(venue.db, [r.id for r in records[:2]], days=60)
    assert await SyncSender(venue.db, retention_days=30).prune() == 2

    # Head office restored from a backup older than them answers with a lower mark: records 1 and 2 are gone here.
    async with runtime.db.write() as session:
        await session.exec(delete(VenueRecord))  # type: ignore[call-overload]
        await session.exec(update(Venue).values(acked_sequence=0, highest_sequence=0))  # type: ignore[call-overload]
    async with venue.db.write() as session:
        link = (await session.exec(select(HeadOfficeLink))).one()
        await services.acknowledged(session, link.id or 0, 0, sent_after=4)
    outcome = await SyncSender(venue.db, transport=to_head_office).send_all()
    assert outcome.error is not None
    assert "1 to 2 were pruned here" in outcome.error
    assert (await _status(venue.db)).last_error == outcome.error

    # Enrolled again (as a new venue), the venue numbers what it kept from 1 and head office takes it all.
    async with runtime.db.write() as session:
        await head_office.revoke_venue(session, code="NORTH")
        added = await head_office.add_venue(
            session, code="NORTH2", name="Brigade North", timezone="Europe/Amsterdam", currency="EUR"
        )
    assert (await SyncSender(venue.db, transport=to_head_office).send_all()).error is not None  # refused: revoked
    assert await join(venue.db, HEAD_OFFICE, added.token, transport=to_head_office) == "NORTH2"
    outcome = await SyncSender(venue.db, transport=to_head_office).send_all()
    assert (outcome.sent, outcome.acked, outcome.error) == (2, 2, None)
    assert [r.sequence for r in await _records(venue.db, SyncRecord)] == [1, 2]


class CutLink(httpx.AsyncBaseTransport):
    """A link to head office that is down (the worker prunes all the same)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("the line is down", request=request)
