"""A venue writes what head office must hear of with the change itself, and sends it until head office holds it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import func
from sqlmodel import col, select

from app.accounting.services import PostingLine, post_entry
from app.checks.delivery import payment_terminal
from app.closes.simulation import simulate
from app.group import services as head_office
from app.group.models import VenueRecord
from app.lib.errors import DomainError
from app.main import build_runtime
from app.sync import queries
from app.sync.models import HeadOfficeLink, SyncRecord
from app.sync.sender import SyncRefused, SyncSender, join, learn_link
from tests.support.services import DemoSnapshots
from tests.support.statements import statements_sent

HEAD_OFFICE = "http://head-office.test"


class CutLink(httpx.AsyncBaseTransport):
    """A link to head office that is down."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("the line is down", request=request)


@pytest.fixture
async def venue_demo(venue: Any, demo_snapshots: DemoSnapshots) -> None:
    await demo_snapshots.load(venue.db, venue.settings)


async def _joined(runtime: Any, venue: Any, transport: httpx.AsyncBaseTransport, code: str = "NORTH") -> str:
    async with runtime.db.write() as session:
        added = await head_office.add_venue(
            session, code=code, name="Brigade North", timezone="Europe/Amsterdam", currency="EUR"
        )
    return await join(venue.db, HEAD_OFFICE, added.token, transport=transport)


async def _post_sale(venue: Any, number: int) -> None:
    async with venue.db.write() as session:
        await post_entry(
            session,
            date=dt.date(2026, 12, 5),
            description=f"Cash sale {number}",
            lines=[PostingLine("1010", 1250), PostingLine("4010", -1250)],
            source_type="test",
            source_id=str(number),
        )


async def _records(db: Any, model: Any) -> list[Any]:
    async with db.read() as session:
        return list((await session.exec(select(model).order_by(col(model.id)))).all())


async def test_a_venue_without_a_head_office_writes_no_sync_records(venue: Any, venue_demo: None) -> None:
    await _post_sale(venue, 1)
    assert await _records(venue.db, SyncRecord) == []
    async with venue.db.read() as session:
        status = await queries.sync_status(session)
    assert (status.linked, status.queued, status.status) == (False, 0, "not linked")


async def test_sending_from_a_venue_on_its_own_says_how_to_join(venue: Any) -> None:
    outcome = await SyncSender(venue.db).send_all()
    assert outcome.sent == 0
    assert outcome.error is not None
    assert "brigade head-office join" in outcome.error


async def test_a_joined_venues_journal_entry_reaches_head_office_once(
    runtime: Any, venue: Any, venue_demo: None, to_head_office: httpx.AsyncBaseTransport
) -> None:
    assert await _joined(runtime, venue, to_head_office) == "NORTH"
    await _post_sale(venue, 1)
    await _post_sale(venue, 2)
    owed = await _records(venue.db, SyncRecord)
    assert [r.kind for r in owed] == ["journal.entry", "journal.entry"]
    assert owed[0].payload["lines"][0]["amount_cents"] in (1250, -1250)
    async with venue.db.read() as session:
        before = await queries.sync_status(session)
    assert (before.queued, before.acked_sequence) == (2, 0)
    assert before.oldest_queued_age_seconds is not None

    sender = SyncSender(venue.db, transport=to_head_office)
    outcome = await sender.send_all()
    assert (outcome.sent, outcome.acked, outcome.error) == (2, 2, None)
    again = await sender.send_all()
    assert again.sent == 0

    held = await _records(runtime.db, VenueRecord)
    assert [(r.sequence, r.kind) for r in held] == [(1, "journal.entry"), (2, "journal.entry")]
    assert held[0].payload["entry"]["description"] == "Cash sale 1"
    async with venue.db.read() as session:
        after = await queries.sync_status(session)
    assert (after.queued, after.acked_sequence, after.last_error, after.catalog_release) == (0, 2, None, None)


async def test_a_change_that_rolls_back_owes_head_office_nothing(
    runtime: Any, venue: Any, venue_demo: None, to_head_office: httpx.AsyncBaseTransport
) -> None:
    await _joined(runtime, venue, to_head_office)

    async def post_then_fail() -> None:
        async with venue.db.write() as session:
            await post_entry(
                session,
                date=dt.date(2026, 12, 5),
                description="Never kept",
                lines=[PostingLine("1010", 500), PostingLine("4010", -500)],
                source_type="test",
                source_id="gone",
            )
            raise RuntimeError("the tablet lost power")

    with pytest.raises(RuntimeError):
        await post_then_fail()
    assert await _records(venue.db, SyncRecord) == []


async def test_a_cut_link_is_recorded_and_the_records_wait_then_go_once(
    runtime: Any, venue: Any, venue_demo: None, to_head_office: httpx.AsyncBaseTransport
) -> None:
    await _joined(runtime, venue, to_head_office)
    await _post_sale(venue, 1)
    cut = await SyncSender(venue.db, transport=CutLink()).send_all()
    assert cut.sent == 0
    assert cut.error is not None
    assert "could not be reached" in cut.error
    async with venue.db.read() as session:
        status = await queries.sync_status(session)
    assert status.queued == 1
    assert status.last_error is not None
    assert "the line is down" in status.last_error
    assert status.next_attempt_at is not None
    # The worker waits out the backoff; `brigade sync now` does not.
    waiting = await SyncSender(venue.db, transport=to_head_office).send_all(respect_backoff=True)
    assert waiting.sent == 0
    await _post_sale(venue, 2)
    sent = await SyncSender(venue.db, transport=to_head_office).send_all()
    assert (sent.sent, sent.acked) == (2, 2)
    assert [r.sequence for r in await _records(runtime.db, VenueRecord)] == [1, 2]
    async with venue.db.read() as session:
        status = await queries.sync_status(session)
    assert (status.queued, status.last_error, status.next_attempt_at) == (0, None, None)


async def test_a_revoked_venue_stops_sending_and_says_why(
    runtime: Any, venue: Any, venue_demo: None, to_head_office: httpx.AsyncBaseTransport
) -> None:
    await _joined(runtime, venue, to_head_office)
    await _post_sale(venue, 1)
    async with runtime.db.write() as session:
        await head_office.revoke_venue(session, code="NORTH")
    outcome = await SyncSender(venue.db, transport=to_head_office).send_all()
    assert outcome.error is not None
    assert "revoked venue NORTH" in outcome.error
    link = (await _records(venue.db, HeadOfficeLink))[0]
    assert link.status.value == "revoked"
    later = await SyncSender(venue.db, transport=to_head_office).send_all()
    assert later.error is not None
    assert "revoked venue NORTH" in later.error
    assert await _records(runtime.db, VenueRecord) == []


async def test_a_used_token_is_refused_at_the_venue_with_head_offices_reason(
    runtime: Any, venue: Any, venue_demo: None, to_head_office: httpx.AsyncBaseTransport, tmp_path: Any
) -> None:
    async with runtime.db.write() as session:
        added = await head_office.add_venue(session, code="NORTH", name="North", timezone="UTC", currency="EUR")
    await join(venue.db, HEAD_OFFICE, added.token, transport=to_head_office)
    with pytest.raises(SyncRefused, match="already linked"):
        await join(venue.db, HEAD_OFFICE, added.token, transport=to_head_office)
    async with venue.db.write() as session:
        link = (await session.exec(select(HeadOfficeLink))).one()
        link.status = link.status.REVOKED
        session.add(link)
    with pytest.raises(DomainError, match="already used"):
        await join(venue.db, HEAD_OFFICE, added.token, transport=to_head_office)


async def test_a_closed_check_goes_up_whole_with_its_lines_payments_and_postings(
    runtime: Any, venue: Any, venue_app: Litestar, venue_demo: None, to_head_office: httpx.AsyncBaseTransport
) -> None:
    await _joined(runtime, venue, to_head_office)
    async with venue_app.lifespan():
        await simulate(venue.db, venue.dispatcher, payment_terminal(venue.db), checks_count=3, close=False)
        await venue.dispatcher.drain()
    await SyncSender(venue.db, transport=to_head_office, batch_size=7).send_all()
    held = await _records(runtime.db, VenueRecord)
    closed = [r for r in held if r.kind == "check.closed"]
    assert len(closed) == len({r.key for r in closed}) >= 3
    check = closed[0].payload
    assert check["lines"]
    assert "guest_id" in check["check"]
    assert not {"guest_name", "guest_allergies"} & set(check["check"])
    assert check["payments"]
    assert check["closing"]["paid_cents"] == sum(p["amount_cents"] for p in check["payments"])
    kinds = {r.kind for r in held}
    assert {"check.closed", "journal.entry", "stock.move"} <= kinds
    assert [r.sequence for r in held] == list(range(1, len(held) + 1))
    async with venue.db.read() as session:
        owed = (await session.exec(select(func.count()).select_from(SyncRecord))).one()
    assert owed == len(held)


async def test_a_commit_that_owes_head_office_records_wakes_the_sender_once_committed(
    runtime: Any, venue: Any, venue_demo: None, to_head_office: httpx.AsyncBaseTransport
) -> None:
    from app.sync.capture import WAKE

    await _joined(runtime, venue, to_head_office)
    woken: list[int] = []
    venue.db.context[WAKE] = lambda: woken.append(len(woken))
    try:
        await _post_sale(venue, 1)
        assert woken == [0]
        async with venue.db.write() as session:
            await session.exec(select(SyncRecord.id))  # a transaction that owes nothing
        assert woken == [0]
    finally:
        del venue.db.context[WAKE]


async def test_sending_with_nothing_queued_still_learns_of_a_revocation(
    runtime: Any, venue: Any, venue_demo: None, to_head_office: httpx.AsyncBaseTransport
) -> None:
    await _joined(runtime, venue, to_head_office)
    await _post_sale(venue, 1)
    assert (await SyncSender(venue.db, transport=to_head_office).send_all()).acked == 1
    async with runtime.db.write() as session:
        await head_office.revoke_venue(session, code="NORTH")
    quiet = await SyncSender(venue.db, transport=to_head_office).send_all()
    assert quiet.error is not None
    assert "revoked venue NORTH" in quiet.error
    assert (await _records(venue.db, HeadOfficeLink))[0].status.value == "revoked"


async def test_a_venue_on_its_own_pays_not_one_statement_for_head_office(venue: Any, venue_demo: None) -> None:
    await learn_link(venue.db)  # as the venue's process does when it starts
    with statements_sent(venue) as seen:
        await _post_sale(venue, 1)
    assert [s for s in seen if "head_office_link" in s or "sync_record" in s] == []
    assert await _records(venue.db, SyncRecord) == []


async def test_a_joined_venue_writes_its_records_without_reading_its_link_at_each_sale(
    runtime: Any, venue: Any, venue_demo: None, to_head_office: httpx.AsyncBaseTransport
) -> None:
    await learn_link(venue.db)
    await _joined(runtime, venue, to_head_office)
    with statements_sent(venue) as seen:
        await _post_sale(venue, 1)
        await _post_sale(venue, 2)
    assert [s for s in seen if "head_office_link" in s] == []
    written = await _records(venue.db, SyncRecord)
    assert [r.payload["entry"]["description"] for r in written] == ["Cash sale 1", "Cash sale 2"]


async def test_a_sale_made_by_a_process_not_yet_aware_of_the_join_still_reaches_head_office(
    runtime: Any, venue: Any, venue_demo: None, to_head_office: httpx.AsyncBaseTransport
) -> None:
    await learn_link(venue.db)  # this process started while the venue was on its own
    other = build_runtime(venue.settings)  # `brigade head-office join` in a process of its own
    try:
        async with runtime.db.write() as session:
            added = await head_office.add_venue(session, code="NORTH", name="North", timezone="UTC", currency="EUR")
        await join(other.db, HEAD_OFFICE, added.token, transport=to_head_office)
    finally:
        await other.db.dispose()
    await _post_sale(venue, 1)  # before this process's next poll: it still believes the venue on its own
    assert await _records(venue.db, SyncRecord) == []

    outcome = await SyncSender(venue.db, transport=to_head_office).send_all()

    assert (outcome.sent, outcome.acked, outcome.error) == (1, 1, None)
    [held] = await _records(runtime.db, VenueRecord)
    assert held.kind == "journal.entry"
    assert held.payload["entry"]["description"] == "Cash sale 1"
    await _post_sale(venue, 2)  # the sender's pass told this process: captured with the sale now
    assert len(await _records(venue.db, SyncRecord)) == 2


async def test_a_tip_adjustment_written_in_one_statement_is_owed_to_head_office_once(
    runtime: Any, venue: Any, venue_demo: None, to_head_office: httpx.AsyncBaseTransport
) -> None:
    from app.checks.services import TIP_ADJUSTED_TOPIC
    from app.lib.outbox import OutboxMessage, enqueue

    await learn_link(venue.db)
    await _joined(runtime, venue, to_head_office)
    adjustment = {"check_id": 1, "payment_id": 0, "tip_cents": 300, "previous": 100}
    for _ in range(2):  # the same adjustment twice (a retried request): one message, one record
        async with venue.db.write() as session:
            await enqueue(session, TIP_ADJUSTED_TOPIC, adjustment, dedupe_key=f"{TIP_ADJUSTED_TOPIC}:0:once")
    [message] = [m for m in await _records(venue.db, OutboxMessage) if m.topic == TIP_ADJUSTED_TOPIC]
    owed = [r for r in await _records(venue.db, SyncRecord) if r.kind == "check.tip_adjusted"]
    assert [r.key for r in owed] == [f"check.tip_adjusted:{message.id}"]
    assert owed[0].payload["adjustment"] == adjustment
