"""Posting many entries at once: each entry exactly as posting it alone, each refusal its own."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import col, select

from app.accounting.locked_days import lock_day
from app.accounting.models import JournalEntry, JournalLine
from app.accounting.services import EntryToPost, PeriodLocked, PostingLine, UnbalancedEntry, post_entries, post_entry
from app.lib.errors import Conflict, DomainError, InvalidInput
from tests.integration.accounting.conftest import DAY

LOCKED = DAY - dt.timedelta(days=1)


def _sale(source_id: str, cents: int, *, day: dt.date = DAY, memo: str = "cash taken") -> EntryToPost:
    return EntryToPost(
        date=day,
        description=f"Sale {source_id}",
        lines=[
            PostingLine("1010", cents + cents // 10, memo),
            PostingLine("4010", -cents, "food", {"category": "starters"}),
            PostingLine("2101", -(cents // 10), "tax", {}),
            PostingLine("4020", 0, "nothing moved"),
        ],
        source_type="sale",
        source_id=source_id,
    )


async def _journal(runtime: Any) -> list[tuple[Any, ...]]:
    async with runtime.db.read() as session:
        entries = (await session.exec(select(JournalEntry).order_by(col(JournalEntry.id)))).all()
        lines = (await session.exec(select(JournalLine).order_by(col(JournalLine.id)))).all()
    by_entry: dict[int, list[tuple[Any, ...]]] = {}
    for line in lines:
        by_entry.setdefault(line.entry_id, []).append(
            (line.position, line.account_id, line.amount_cents, line.memo, line.dimensions)
        )
    return [
        (e.date, e.description, e.source_type, e.source_id, e.idempotency_key, e.fingerprint, by_entry[e.id or 0])
        for e in entries
    ]


async def test_entries_posted_at_once_are_the_entries_posted_one_by_one_and_each_refusal_is_its_own(
    books: Any, runtime: Any
) -> None:
    async with runtime.db.write() as session:
        earlier = await post_entry(
            session,
            date=DAY,
            description="Sale earlier",
            lines=[PostingLine("1010", 500), PostingLine("4010", -500)],
            source_type="sale",
            source_id="earlier",
        )
        await lock_day(session, LOCKED, reason="closed")
    before = await _journal(runtime)
    run = [
        _sale("1", 1000),
        EntryToPost(DAY, "Off by a cent", [PostingLine("1010", 100), PostingLine("4010", -99)], "sale", "2"),
        _sale("3", 2000),
        EntryToPost(DAY, "No such account", [PostingLine("1010", 100), PostingLine("4999", -100)], "sale", "4"),
        _sale("5", 3000, day=LOCKED),
        _sale("1", 1000),  # the same key and lines again: the same entry
        _sale("1", 1200),  # the same key, other lines: refused
        EntryToPost(DAY, "Sale earlier", [PostingLine("1010", 500), PostingLine("4010", -500)], "sale", "earlier"),
        EntryToPost(DAY, "Earlier, changed", [PostingLine("1010", 700), PostingLine("4010", -700)], "sale", "earlier"),
        _sale("6", 4000, memo="card"),
    ]
    async with runtime.db.write() as session:
        outcomes = await post_entries(session, run)
    posted = [o for o in outcomes if isinstance(o, int)]
    assert isinstance(outcomes[1], UnbalancedEntry)
    assert isinstance(outcomes[3], InvalidInput)
    assert "4999" in str(outcomes[3])
    assert isinstance(outcomes[4], PeriodLocked)
    assert outcomes[5] == outcomes[0]
    assert isinstance(outcomes[6], Conflict)
    assert "different lines" in str(outcomes[6])
    assert outcomes[7] == earlier.id
    assert isinstance(outcomes[8], Conflict)
    assert len(set(posted)) == 4  # sales 1, 3 and 6, and the earlier one answered with its own entry
    journal = await _journal(runtime)
    assert len(journal) == len(before) + 3

    # The same entries, posted one by one on a fresh key each, are written exactly alike.
    async with runtime.db.write() as session:
        for spec in (run[0], run[2], run[9]):
            await post_entry(
                session,
                date=spec.date,
                description=spec.description,
                lines=spec.lines,
                source_type=spec.source_type,
                source_id=f"{spec.source_id}-alone",
            )
    alone = (await _journal(runtime))[len(journal) :]
    together = journal[len(before) :]
    assert [row[:3] + row[6:] for row in alone] == [row[:3] + row[6:] for row in together]

    # Posting the run again writes nothing and answers as before; one by one, each key finds its entry.
    async with runtime.db.write() as session:
        again = await post_entries(session, run)
        for spec, outcome in zip(run, outcomes, strict=True):
            if isinstance(outcome, int):
                entry = await post_entry(
                    session,
                    date=spec.date,
                    description=spec.description,
                    lines=spec.lines,
                    source_type=spec.source_type,
                    source_id=spec.source_id,
                )
                assert entry.id == outcome
    assert [o if isinstance(o, int) else type(o) for o in again] == [
        o if isinstance(o, int) else type(o) for o in outcomes
    ]
    assert all(isinstance(o, int | DomainError) for o in again)
    assert len(await _journal(runtime)) == len(journal) + 3
    async with runtime.db.write() as session:
        assert await post_entries(session, []) == []
