"""Ledger invariants under random postings: every entry sums to zero, the trial balance nets to zero,
a reversal nets its original to zero, and an unbalanced entry leaves no trace."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting import queries
from app.accounting.chart import seed_chart
from app.accounting.models import JournalEntry, JournalLine
from app.accounting.reversals import reverse_entry
from app.accounting.services import PostingLine, UnbalancedEntry, post_entry
from app.lib.db import Database
from app.models import metadata

T = TypeVar("T")
CODES = ["1010", "1020", "1030", "1100", "2010", "2020", "2101", "2102", "4010", "4020", "4030", "4500", "5010", "6010"]
START = dt.date(2025, 1, 1)


@pytest.fixture(scope="module")
def ledger_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("ledger") / "ledger.db"
    url = f"sqlite+aiosqlite:///{path}"

    async def build() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        await engine.dispose()
        db = Database(url)
        async with db.write() as session:
            await seed_chart(session, sales_tax_rates_bp=[900, 2100])
        await db.dispose()

    asyncio.run(build())
    return url


def _with_db(url: str, work: Callable[[Database], Awaitable[T]]) -> T:
    async def go() -> T:
        db = Database(url)
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(go())


amounts = st.integers(min_value=-5_000_000, max_value=5_000_000).filter(lambda cents: cents != 0)


@st.composite
def balanced_lines(draw: st.DrawFn) -> list[PostingLine]:
    """Two to eight lines on random accounts whose amounts sum to zero."""
    first = draw(st.lists(amounts, min_size=1, max_size=7))
    closing = -sum(first)
    if closing == 0:
        first.append(1)
        closing = -sum(first)
    codes = draw(st.lists(st.sampled_from(CODES), min_size=len(first) + 1, max_size=len(first) + 1))
    return [PostingLine(code, cents) for code, cents in zip(codes, [*first, closing], strict=True)]


entries = st.lists(
    st.tuples(balanced_lines(), st.integers(min_value=0, max_value=30), st.booleans()), min_size=1, max_size=6
)


async def _entry_sums(session: AsyncSession) -> set[int]:
    rows = await session.exec(
        select(JournalLine.entry_id, func.sum(JournalLine.amount_cents)).group_by(JournalLine.entry_id)
    )
    return {int(total) for _, total in rows.all()}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=entries)
def test_posted_entries_sum_to_zero_and_the_trial_balance_nets_to_zero(ledger_url: str, batch: Any) -> None:
    async def work(db: Database) -> None:
        posted: list[tuple[int, bool]] = []
        for lines, offset, reverse in batch:
            async with db.write() as session:
                entry = await post_entry(
                    session,
                    date=START + dt.timedelta(days=offset),
                    description="random",
                    lines=lines,
                    source_type="property",
                    source_id=uuid.uuid4().hex,
                )
                posted.append((entry.id or 0, reverse))
        for entry_id, reverse in posted:
            if reverse:
                async with db.write() as session:
                    await reverse_entry(session, entry_id, "property test")
        async with db.read() as session:
            assert await _entry_sums(session) == {0}
            for offset in (0, 7, 15, 31):
                trial = await queries.trial_balance(session, START + dt.timedelta(days=offset))
                assert trial.net_cents == 0
                assert trial.total_debit_cents == trial.total_credit_cents
            for entry_id, reverse in posted:
                if not reverse:
                    continue
                reversal = await queries.entry_detail(session, entry_id)
                assert reversal.reversed_by is not None
                mirror = await queries.entry_detail(session, reversal.reversed_by.id or 0)
                net: dict[str, int] = {}
                for view in [*reversal.lines, *mirror.lines]:
                    net[view.account.code] = net.get(view.account.code, 0) + view.line.amount_cents
                assert set(net.values()) == {0}

    _with_db(ledger_url, work)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=balanced_lines(), index=st.integers(min_value=0), delta=amounts)
def test_an_entry_off_by_any_amount_is_refused_and_leaves_no_trace(
    ledger_url: str, lines: list[PostingLine], index: int, delta: int
) -> None:
    position = index % len(lines)
    broken = list(lines)
    broken[position] = PostingLine(lines[position].account, lines[position].amount_cents + delta)

    async def work(db: Database) -> None:
        async with db.read() as session:
            before = (await session.exec(select(func.count()).select_from(JournalEntry))).one()
        source = uuid.uuid4().hex
        with pytest.raises(UnbalancedEntry):
            async with db.write() as session:
                await post_entry(
                    session, date=START, description="broken", lines=broken, source_type="property", source_id=source
                )
        async with db.read() as session:
            after = (await session.exec(select(func.count()).select_from(JournalEntry))).one()
            assert after == before

    if sum(line.amount_cents for line in broken) == 0 or sum(1 for line in broken if line.amount_cents) < 2:
        return
    _with_db(ledger_url, work)
