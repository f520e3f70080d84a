"""Sequence numbers follow commit order and leave no gap, even when transactions commit out of id order."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.sync import services
from app.sync.models import HeadOfficeLink, SyncRecord

AT = dt.datetime(2026, 12, 5, 21, 0, tzinfo=dt.UTC)


async def _link(runtime: Any) -> None:
    async with runtime.db.write() as session:
        session.add(
            HeadOfficeLink(url="http://head-office.test", venue_code="NORTH", venue_name="North", credential="x")
        )


async def _number(runtime: Any) -> list[tuple[str, int | None]]:
    async with runtime.db.write() as session:
        link = await services.current_link(session, lock=True)
        assert link is not None
        await services.number_records(session, link)
    async with runtime.db.read() as session:
        rows = (await session.exec(select(SyncRecord).order_by(col(SyncRecord.id)))).all()
    return [(r.key, r.sequence) for r in rows]


async def test_numbers_are_given_once_in_the_order_records_were_written(runtime: Any) -> None:
    await _link(runtime)
    async with runtime.db.write() as session:
        for key in ("a", "b", "c"):
            session.add(SyncRecord(key=key, kind="journal.entry", occurred_at=AT))
    assert await _number(runtime) == [("a", 1), ("b", 2), ("c", 3)]
    async with runtime.db.write() as session:
        session.add(SyncRecord(key="d", kind="journal.entry", occurred_at=AT))
    assert await _number(runtime) == [("a", 1), ("b", 2), ("c", 3), ("d", 4)]


async def test_a_transaction_committing_late_gets_the_next_number_not_a_hole(runtime: Any, backend: str) -> None:
    if backend != "postgres":
        pytest.skip("SQLite has one writer at a time: its transactions cannot commit out of id order")
    await _link(runtime)
    sessions = async_sessionmaker(runtime.db.write_engine, class_=AsyncSession, expire_on_commit=False)
    early, late = sessions(), sessions()
    try:
        await early.begin()
        early.add(SyncRecord(key="written-first", kind="journal.entry", occurred_at=AT))
        await early.flush()  # takes the lower id, then stays open
        async with late.begin():
            late.add(SyncRecord(key="committed-first", kind="journal.entry", occurred_at=AT))
        numbered = await asyncio.wait_for(_number(runtime), 10)
        assert numbered == [("committed-first", 1)]
        await early.commit()
    finally:
        await early.close()
        await late.close()
    numbered = await _number(runtime)
    assert sorted(numbered, key=lambda row: row[1] or 0) == [("committed-first", 1), ("written-first", 2)]


async def _mark(runtime: Any) -> int:
    async with runtime.db.read() as session:
        link = await services.current_link(session)
    assert link is not None
    return link.acked_sequence


async def test_a_late_answer_from_a_second_sender_does_not_move_the_mark_back(runtime: Any) -> None:
    await _link(runtime)
    async with runtime.db.write() as session:
        link = await services.current_link(session)
        assert link is not None
        await services.acknowledged(session, link.id or 0, 80, sent_after=0)
        await services.acknowledged(session, link.id or 0, 40, sent_after=0)
    assert await _mark(runtime) == 80


async def test_a_head_office_that_lost_records_is_sent_them_again(runtime: Any) -> None:
    await _link(runtime)
    async with runtime.db.write() as session:
        link = await services.current_link(session)
        assert link is not None
        await services.acknowledged(session, link.id or 0, 80, sent_after=0)
        # head office was restored from last night's backup: it holds only up to 30 when asked after 80
        await services.acknowledged(session, link.id or 0, 30, sent_after=80)
    assert await _mark(runtime) == 30
