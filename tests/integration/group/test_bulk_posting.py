"""Head office books a run of a venue's records together: the same entries as one by one, each exception its own."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from app.accounting.chart import seed_chart
from app.accounting.models import Account, JournalEntry, JournalLine
from app.accounting.services import PostingLine, post_entry
from app.group import books
from app.group import services as head_office
from app.group.books_models import PostingStatus, VenuePostedMark, VenuePosting
from app.group.models import Venue
from app.group.protocol import IncomingRecord
from app.inventory.models import StockLocation

AT = dt.datetime(2026, 12, 5, 20, 0, tzinfo=dt.UTC)
DAY = "2026-12-05"
UNMAPPED = 3  # the entry whose sales account the group chart does not have


def _entry(sequence: int, number: int) -> IncomingRecord:
    sales = "4999" if number == UNMAPPED else "4010"
    return IncomingRecord(
        sequence,
        "journal.entry",
        f"journal.entry:{number}",
        AT,
        {
            "entry": {"date": DAY, "description": f"Check {number}", "source_type": "check", "source_id": str(number)},
            "lines": [
                {"account_id": 1, "amount_cents": 1100 * number, "position": 0, "memo": "Card", "dimensions": {}},
                {
                    "account_id": 1,
                    "amount_cents": 100,
                    "position": 1,
                    "memo": "Tip",
                    "dimensions": {"tender": "2"},
                },
                {"account_id": 2, "amount_cents": -1000 * number, "position": 2, "memo": "", "dimensions": {}},
                {"account_id": 3, "amount_cents": -100 * number - 100, "position": 3, "memo": "", "dimensions": {}},
            ],
            "accounts": {"1": "1010", "2": sales, "3": "2100"},
        },
    )


def _move(sequence: int, number: int, location: str) -> IncomingRecord:
    return IncomingRecord(
        sequence, "stock.move", f"stock.move:{number}", AT, {"move": {"id": number}, "location": location}
    )


def _records() -> list[IncomingRecord]:
    """Five checks' entries, one unmapped in the middle; stock moves, one from a location with no warehouse."""
    records: list[IncomingRecord] = []
    for number in range(1, 6):
        records.append(_entry(len(records) + 1, number))
        records.append(_move(len(records) + 1, number, "Cellar" if number == 2 else "Kitchen"))
    records.append(IncomingRecord(len(records) + 1, "day.closed", "day.closed:1", AT, {"business_day": {"day": DAY}}))
    return records


async def _balances(runtime: Any) -> dict[str, int]:
    async with runtime.db.read() as session:
        rows = (
            await session.exec(
                select(Account.code, JournalLine.amount_cents).join(
                    JournalLine, col(JournalLine.account_id) == col(Account.id)
                )
            )
        ).all()
    totals: dict[str, int] = defaultdict(int)
    for code, cents in rows:
        totals[code] += cents
    return {code: cents for code, cents in totals.items() if cents}


async def test_a_run_books_the_entries_one_by_one_would_with_each_exception_alone_and_nothing_twice(
    runtime: Any,
) -> None:
    async with runtime.db.write() as session:
        await seed_chart(session)
        session.add(StockLocation(name="Kitchen"))
        added = await head_office.add_venue(session, code="NORTH", name="North", timezone="UTC", currency="EUR")
        await session.flush()
        await books.save_mapping(session, venue_code="NORTH", kind="tender", subject="2", target="2020")
        await head_office.ingest(session, added.venue, _records())
        run = await books.post_pending(session)

    # Four entries, four moves and the day close are booked; the unmapped entry and the cellar's move are
    # exceptions with their reasons, and nothing of the unmapped entry is posted.
    assert (run.posted, run.exceptions) == (9, 2)
    async with runtime.db.read() as session:
        postings = (await session.exec(select(VenuePosting).order_by(col(VenuePosting.sequence)))).all()
        entries = (await session.exec(select(JournalEntry).order_by(col(JournalEntry.id)))).all()
    assert [p.sequence for p in postings] == list(range(1, 12))
    failed = {p.sequence: p.reason for p in postings if p.status is PostingStatus.EXCEPTION}
    assert set(failed) == {4, 5}
    assert "Venue account 4999 is not mapped" in failed[5]
    assert "Cellar is not mapped to a head-office warehouse" in failed[4]
    assert all(p.business_day == dt.date(2026, 12, 5) for p in postings if p.kind != "stock.move")
    assert [p.warehouse for p in postings if p.kind == "stock.move" and p.status is PostingStatus.POSTED] == [
        "Kitchen"
    ] * 4
    assert [e.idempotency_key for e in entries] == [f"venue:NORTH:journal.entry:{n}" for n in (1, 2, 4, 5)]
    assert [p.entry_id for p in postings if p.kind == "journal.entry"] == [
        entries[0].id,
        entries[1].id,
        None,
        entries[2].id,
        entries[3].id,
    ]
    assert await _balances(runtime) == {"1010": 13200, "2020": 400, "4010": -12000, "2100": -1600}

    # Each entry is the one posting it alone makes: posted again one by one, every key answers with its entry.
    async with runtime.db.write() as session:
        for number, entry in zip((1, 2, 4, 5), entries, strict=True):
            alone = await post_entry(
                session,
                date=dt.date(2026, 12, 5),
                description=f"NORTH: Check {number}",
                lines=[
                    PostingLine("1010", 1100 * number, "Card", {"venue": "NORTH"}),
                    PostingLine("2020", 100, "Tip", {"tender": "2", "venue": "NORTH"}),
                    PostingLine("4010", -1000 * number, "", {"venue": "NORTH"}),
                    PostingLine("2100", -100 * number - 100, "", {"venue": "NORTH"}),
                ],
                source_type="check",
                source_id=f"NORTH:{number}",
                idempotency_key=f"venue:NORTH:journal.entry:{number}",
            )
            assert alone.id == entry.id

    # Running again books nothing; a retry before the causes are fixed books nothing either.
    async with runtime.db.write() as session:
        again = await books.post_pending(session)
        retried = await books.retry(session, venue_code="NORTH")
    assert (again.posted, again.exceptions) == (0, 0)
    assert (retried.posted, retried.exceptions) == (0, 2)

    # Once 4999 and the cellar are mapped, a retry books each once; the books then hold every entry once.
    async with runtime.db.write() as session:
        await books.save_mapping(session, venue_code="NORTH", kind="account", subject="4999", target="4040")
        await books.save_mapping(session, venue_code="NORTH", kind="location", subject="Cellar", target="Kitchen")
        fixed = await books.retry(session, venue_code="NORTH")
        after = await books.post_pending(session, retry=True)
    assert (fixed.posted, fixed.exceptions) == (2, 0)
    assert (after.posted, after.exceptions) == (0, 0)
    async with runtime.db.read() as session:
        statuses = (await session.exec(select(VenuePosting.status))).all()
        keys = (await session.exec(select(JournalEntry.idempotency_key))).all()
    assert set(statuses) == {PostingStatus.POSTED}
    assert sorted(keys) == sorted(f"venue:NORTH:journal.entry:{n}" for n in range(1, 6))
    assert await _balances(runtime) == {"1010": 16500, "2020": 500, "4010": -12000, "4040": -3000, "2100": -2000}


async def _marks(runtime: Any) -> dict[str, int]:
    async with runtime.db.read() as session:
        rows = (
            await session.exec(
                select(Venue.code, VenuePostedMark.sequence).join(
                    VenuePostedMark, col(VenuePostedMark.venue_id) == col(Venue.id)
                )
            )
        ).all()
    return dict(rows)


async def test_posting_looks_above_each_venues_mark_and_short_runs_still_book_everything_once(runtime: Any) -> None:
    async with runtime.db.write() as session:
        await seed_chart(session)
        session.add(StockLocation(name="Kitchen"))
        session.add(StockLocation(name="Cellar"))
        north = (await head_office.add_venue(session, code="NORTH", name="N", timezone="UTC", currency="EUR")).venue
        south = (await head_office.add_venue(session, code="SOUTH", name="S", timezone="UTC", currency="EUR")).venue
        await session.flush()
        for code in ("NORTH", "SOUTH"):
            await books.save_mapping(session, venue_code=code, kind="account", subject="4999", target="4040")
        await head_office.ingest(session, north, _records())
        await head_office.ingest(session, south, _records())

    # Runs of four records: the first sees four of NORTH's, so NORTH's mark stands at the fourth, SOUTH has none.
    async with runtime.db.write() as session:
        first = await books.post_pending(session, limit=4)
    assert (first.posted, first.exceptions) == (4, 0)
    assert await _marks(runtime) == {"NORTH": 4}
    runs = 1
    while True:
        async with runtime.db.write() as session:
            run = await books.post_pending(session, limit=4)
        runs += 1
        if run.posted + run.exceptions == 0:
            break
    assert runs == 7  # 22 records, four a run, and one that finds nothing left
    assert await _marks(runtime) == {"NORTH": 11, "SOUTH": 11}

    # A record kept above a gap waits (the mark stays at the acknowledged sequence); the gap filled, both book.
    check = IncomingRecord(12, "check.closed", "check.closed:9:1", AT, {"check": {"id": 9}})
    async with runtime.db.write() as session:
        venue = await session.get(Venue, north.id)
        assert venue is not None
        await head_office.ingest(session, venue, [check, _entry(14, 9)])
        waiting = await books.post_pending(session, venue_id=north.id)
    assert (waiting.posted, waiting.exceptions) == (0, 0)
    assert await _marks(runtime) == {"NORTH": 12, "SOUTH": 11}
    async with runtime.db.write() as session:
        venue = await session.get(Venue, north.id)
        assert venue is not None
        await head_office.ingest(session, venue, [_move(13, 9, "Kitchen")])
        filled = await books.post_pending(session, venue_id=north.id)
    assert (filled.posted, filled.exceptions) == (2, 0)
    assert await _marks(runtime) == {"NORTH": 14, "SOUTH": 11}
    async with runtime.db.read() as session:
        postings = (await session.exec(select(VenuePosting.venue_id, VenuePosting.sequence))).all()
        entries = (await session.exec(select(func.count()).select_from(JournalEntry))).one()
    assert len(postings) == len(set(postings)) == 24
    assert entries == 11
