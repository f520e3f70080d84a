"""Posting balanced entries: refusal, idempotency, immutability, reversal, locked days."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from app.accounting import queries
from app.accounting.locked_days import lock_day, unlock_day
from app.accounting.models import ImmutableEntry, JournalEntry, JournalLine
from app.accounting.reversals import reverse_entry
from app.accounting.services import PeriodLocked, PostingLine, UnbalancedEntry, next_open_day, post_entry
from app.lib.audit import AuditEntry
from app.lib.errors import Conflict, InvalidInput, NotFound
from tests.integration.accounting.conftest import DAY, post_sale


async def _counts(runtime: Any) -> tuple[int, int]:
    async with runtime.db.read() as session:
        entries = (await session.exec(select(func.count()).select_from(JournalEntry))).one()
        lines = (await session.exec(select(func.count()).select_from(JournalLine))).one()
    return int(entries), int(lines)


async def test_a_balanced_entry_is_posted_with_its_lines(books: Any) -> None:
    entry = await post_sale(books, "1")
    async with books.db.read() as session:
        detail = await queries.entry_detail(session, entry.id)
    assert [(v.account.code, v.line.amount_cents) for v in detail.lines] == [
        ("1010", 1090),
        ("4010", -1000),
        ("2101", -90),
    ]
    assert detail.lines[1].line.dimensions == {"category": "starters"}
    assert detail.debit_cents == 1090


async def test_an_unbalanced_entry_is_refused_and_nothing_is_written(books: Any) -> None:
    with pytest.raises(UnbalancedEntry, match=r"debits 10\.90, credits 10\.89 \(off by 0\.01\)"):
        await post_sale(books, "1", cash=1090, food=1000, tax=89)
    assert await _counts(books) == (0, 0)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([PostingLine("1010", 100)], "at least two lines"),
        ([PostingLine("1010", 0), PostingLine("4010", 0)], "at least two lines"),
        ([PostingLine("1010", 100), PostingLine("9999", -100)], "9999 is not in the chart"),
        ([PostingLine("1010", 1.5), PostingLine("4010", -1.5)], "whole cents"),  # type: ignore[arg-type]
        ([PostingLine("1010", True), PostingLine("4010", -1)], "whole cents"),
        ([PostingLine("1010", 100, "x" * 201), PostingLine("4010", -100)], "memo is 201 characters"),
        ([PostingLine("1010", 100, "", {"Bad Key": "1"}), PostingLine("4010", -100)], "dimension name"),
        ([PostingLine("1010", 10**13), PostingLine("4010", -(10**13))], "beyond any real posting"),
    ],
)
async def test_bad_lines_are_refused_with_a_clear_message(books: Any, lines: list[Any], message: str) -> None:
    async with books.db.write() as session:
        with pytest.raises(InvalidInput, match=message):
            await post_entry(session, date=DAY, description="x", lines=lines, source_type="t", source_id="1")
    assert await _counts(books) == (0, 0)


async def test_a_datetime_is_not_taken_for_a_posting_date(books: Any) -> None:
    async with books.db.write() as session:
        with pytest.raises(InvalidInput, match="calendar date"):
            await post_entry(
                session,
                date=dt.datetime(2025, 3, 14, tzinfo=dt.UTC),
                description="x",
                lines=[PostingLine("1010", 1), PostingLine("4010", -1)],
                source_type="t",
                source_id="1",
            )


async def test_zero_lines_are_left_out_of_the_entry(books: Any) -> None:
    async with books.db.write() as session:
        entry = await post_entry(
            session,
            date=DAY,
            description="zero tax",
            lines=[PostingLine("1010", 500), PostingLine("4020", -500), PostingLine("2101", 0)],
            source_type="t",
            source_id="1",
        )
    async with books.db.read() as session:
        assert len((await queries.entry_detail(session, entry.id)).lines) == 2


async def test_posting_to_an_archived_account_is_refused(books: Any) -> None:
    from app.accounting.accounts import account_by_code, archive_account

    async with books.db.write() as session:
        account = await account_by_code(session, "4040")
        await archive_account(session, account.id)
    async with books.db.write() as session:
        with pytest.raises(Conflict, match="archived"):
            await post_entry(
                session,
                date=DAY,
                description="x",
                lines=[PostingLine("1010", 1), PostingLine("4040", -1)],
                source_type="t",
                source_id="1",
            )


async def test_the_same_source_posted_twice_is_posted_once(books: Any) -> None:
    first = await post_sale(books, "42")
    second = await post_sale(books, "42")
    assert second.id == first.id
    assert await _counts(books) == (1, 3)


async def test_the_same_source_with_different_lines_is_refused(books: Any) -> None:
    first = await post_sale(books, "42")
    with pytest.raises(Conflict, match=f"already posted as entry #{first.id}"):
        await post_sale(books, "42", cash=2180, food=2000, tax=180)
    assert await _counts(books) == (1, 3)


async def test_the_orm_refuses_to_change_a_posted_entry(books: Any) -> None:
    entry = await post_sale(books, "1")

    async def edit_description() -> None:
        async with books.db.write() as session:
            stored = await session.get(JournalEntry, entry.id)
            stored.description = "edited"
            session.add(stored)

    async def delete_a_line() -> None:
        async with books.db.write() as session:
            line = (await session.exec(select(JournalLine).where(JournalLine.entry_id == entry.id))).first()
            await session.delete(line)

    with pytest.raises(ImmutableEntry, match="reversing entry"):
        await edit_description()
    with pytest.raises(ImmutableEntry):
        await delete_a_line()
    async with books.db.read() as session:
        assert (await session.get(JournalEntry, entry.id)).description == "Sale 1"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE journal_line SET amount_cents = amount_cents + 1",
        "UPDATE journal_entry SET description = 'edited'",
        "DELETE FROM journal_line",
        "DELETE FROM journal_entry",
    ],
)
async def test_the_database_refuses_to_change_a_posted_entry(books: Any, statement: str) -> None:
    await post_sale(books, "1")
    with pytest.raises(DBAPIError, match="immutable"):
        async with books.db.write() as session:
            await session.exec(text(statement))  # type: ignore[call-overload]
    assert await _counts(books) == (1, 3)
    async with books.db.read() as session:
        assert (await queries.trial_balance(session, DAY)).total_debit_cents == 1090


async def test_a_reversal_mirrors_the_original_and_nets_it_to_zero(books: Any) -> None:
    entry = await post_sale(books, "7")
    async with books.db.write() as session:
        reversal = await reverse_entry(session, entry.id, "rung in twice", actor_id=None)
    async with books.db.read() as session:
        detail = await queries.entry_detail(session, reversal.id)
        original = await queries.entry_detail(session, entry.id)
        balances = await queries.balances(session, as_of=DAY)
        audit = (await session.exec(select(AuditEntry).where(AuditEntry.action == "accounting.entry.reverse"))).all()
    assert detail.reverses is not None
    assert detail.reverses.id == entry.id
    assert original.reversed_by is not None
    assert original.reversed_by.id == reversal.id
    assert [(v.account.code, v.line.amount_cents) for v in detail.lines] == [
        ("1010", -1090),
        ("4010", 1000),
        ("2101", 90),
    ]
    assert reversal.reason == "rung in twice"
    assert set(balances.values()) == {0}
    assert [a.reason for a in audit] == ["rung in twice"]


async def test_reversing_twice_gives_back_the_first_reversal(books: Any) -> None:
    entry = await post_sale(books, "7")
    async with books.db.write() as session:
        first = await reverse_entry(session, entry.id, "mistake")
    async with books.db.write() as session:
        second = await reverse_entry(session, entry.id, "mistake again")
    assert first.id == second.id
    assert await _counts(books) == (2, 6)


async def test_a_reversal_cannot_itself_be_reversed_and_needs_a_reason(books: Any) -> None:
    entry = await post_sale(books, "7")
    async with books.db.write() as session:
        with pytest.raises(InvalidInput, match="Reason is required"):
            await reverse_entry(session, entry.id, "  ")
    async with books.db.write() as session:
        reversal = await reverse_entry(session, entry.id, "mistake")
    async with books.db.write() as session:
        with pytest.raises(Conflict, match="itself the reversal"):
            await reverse_entry(session, reversal.id, "undo the undo")
    async with books.db.write() as session:
        with pytest.raises(NotFound):
            await reverse_entry(session, 999, "nothing there")


async def test_a_locked_day_refuses_postings_with_a_clear_message(books: Any) -> None:
    async with books.db.write() as session:
        await lock_day(session, DAY, reason="day closed")
    with pytest.raises(PeriodLocked, match="2025-03-14 are locked"):
        await post_sale(books, "1")
    assert await _counts(books) == (0, 0)
    next_day = await post_sale(books, "1", day=DAY + dt.timedelta(days=1))
    assert next_day.date == dt.date(2025, 3, 15)


async def test_a_reversal_on_a_locked_day_goes_on_an_open_day(books: Any) -> None:
    entry = await post_sale(books, "1")
    async with books.db.write() as session:
        await lock_day(session, DAY)
    async with books.db.write() as session:
        with pytest.raises(PeriodLocked):
            await reverse_entry(session, entry.id, "refund")
    async with books.db.write() as session:
        day = await next_open_day(session, DAY)
        reversal = await reverse_entry(session, entry.id, "refund", date=day)
    assert reversal.date == dt.date(2025, 3, 15)


async def test_an_entry_already_posted_is_returned_even_after_its_day_is_locked(books: Any) -> None:
    entry = await post_sale(books, "1")
    async with books.db.write() as session:
        await lock_day(session, DAY)
    assert (await post_sale(books, "1")).id == entry.id


async def test_next_open_day_skips_every_locked_day(books: Any) -> None:
    async with books.db.write() as session:
        await lock_day(session, DAY)
        await lock_day(session, DAY + dt.timedelta(days=1))
        await lock_day(session, DAY)
        assert await next_open_day(session, DAY) == DAY + dt.timedelta(days=2)
        assert await next_open_day(session, DAY - dt.timedelta(days=1)) == DAY - dt.timedelta(days=1)


async def test_unlocking_a_day_needs_a_reason_and_lets_postings_in_again(books: Any) -> None:
    async with books.db.write() as session:
        await lock_day(session, DAY)
    async with books.db.write() as session:
        with pytest.raises(InvalidInput, match="Reason"):
            await unlock_day(session, DAY, reason="")
    async with books.db.write() as session:
        await unlock_day(session, DAY, reason="late correction")
    async with books.db.write() as session:
        with pytest.raises(Conflict, match="not locked"):
            await unlock_day(session, DAY, reason="again")
    assert (await post_sale(books, "1")).date == DAY


async def test_the_trial_balance_nets_to_zero_and_shows_each_side(books: Any) -> None:
    await post_sale(books, "1")
    await post_sale(books, "2", cash=2180, food=2000, tax=180, day=DAY + dt.timedelta(days=1))
    async with books.db.read() as session:
        first_day = await queries.trial_balance(session, DAY)
        both_days = await queries.trial_balance(session, DAY + dt.timedelta(days=1))
    assert first_day.net_cents == 0
    assert both_days.net_cents == 0
    assert first_day.total_debit_cents == first_day.total_credit_cents == 1090
    rows = {row.account.code: (row.debit_cents, row.credit_cents) for row in both_days.rows}
    assert rows == {"1010": (3270, 0), "2101": (0, 270), "4010": (0, 3000)}


async def test_an_account_ledger_runs_its_balance_from_the_opening_balance(books: Any) -> None:
    from app.accounting.accounts import account_by_code

    await post_sale(books, "1", day=DAY - dt.timedelta(days=1))
    await post_sale(books, "2")
    entry = await post_sale(books, "3", cash=545, food=500, tax=45)
    async with books.db.write() as session:
        await reverse_entry(session, entry.id, "void")
    async with books.db.read() as session:
        cash = await account_by_code(session, "1010")
        ledger = await queries.account_ledger(session, cash.id, start=DAY, end=DAY)
    assert ledger.opening_cents == 1090
    assert [r.balance_cents for r in ledger.rows] == [2180, 2725, 2180]
    assert ledger.closing_cents == 2180
    assert ledger.rows[-1].reverses_id == entry.id


async def test_an_account_with_a_balance_cannot_be_archived(books: Any) -> None:
    from app.accounting.accounts import account_by_code, archive_account

    await post_sale(books, "1")
    async with books.db.write() as session:
        cash = await account_by_code(session, "1010")
        with pytest.raises(Conflict, match=r"carries a balance of 10\.90"):
            await archive_account(session, cash.id)
        parent = await account_by_code(session, "1000")
        with pytest.raises(Conflict, match="live sub-accounts"):
            await archive_account(session, parent.id)


async def test_seeding_the_chart_twice_changes_nothing(books: Any) -> None:
    from app.accounting.chart import seed_chart

    async with books.db.read() as session:
        before = [(a.code, a.name) for a in await queries.accounts(session)]
    async with books.db.write() as session:
        seeded = await seed_chart(session, sales_tax_rates_bp=[900, 2100])
    async with books.db.read() as session:
        after = [(a.code, a.name) for a in await queries.accounts(session)]
    assert before == after
    assert seeded.sales_tax_by_rate_bp == {900: "2101", 2100: "2102"}
    names = dict(after)
    assert names["2101"] == "Sales tax payable 9 %"
    assert names["2102"] == "Sales tax payable 21 %"
