"""Read models of the books: chart with balances, trial balance, journal, entry detail, account ledger."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.models import Account, JournalEntry, JournalLine, LockedDay
from app.lib.errors import NotFound


@dataclass(frozen=True)
class BalanceRow:
    """An account and its balance in signed cents (debit positive), placed in the chart's tree."""

    account: Account
    balance_cents: int
    depth: int = 0

    @property
    def debit_cents(self) -> int:
        """The balance when it is a debit, else 0."""
        return max(self.balance_cents, 0)

    @property
    def credit_cents(self) -> int:
        """The balance when it is a credit (as a positive number), else 0."""
        return max(-self.balance_cents, 0)


@dataclass(frozen=True)
class TrialBalance:
    """Every account with a balance on a day; debits and credits always net to zero."""

    as_of: dt.date
    rows: list[BalanceRow]

    @property
    def total_debit_cents(self) -> int:
        """The debit column's total."""
        return sum(row.debit_cents for row in self.rows)

    @property
    def total_credit_cents(self) -> int:
        """The credit column's total."""
        return sum(row.credit_cents for row in self.rows)

    @property
    def net_cents(self) -> int:
        """Debits less credits: zero for books that hold."""
        return sum(row.balance_cents for row in self.rows)


async def balances(
    session: AsyncSession, *, as_of: dt.date | None = None, before: dt.date | None = None, only: Any = None
) -> dict[int, int]:
    """Each account's balance (signed cents) over entries dated on or before `as_of` / before `before`.

    `only`, when given, is a query of entry ids: the balances then count those entries alone (one venue's).
    """
    query = (
        select(JournalLine.account_id, func.sum(JournalLine.amount_cents))
        .join(JournalEntry, col(JournalEntry.id) == col(JournalLine.entry_id))
        .group_by(col(JournalLine.account_id))
    )
    if only is not None:
        query = query.where(col(JournalEntry.id).in_(only))
    if as_of is not None:
        query = query.where(col(JournalEntry.date) <= as_of)
    if before is not None:
        query = query.where(col(JournalEntry.date) < before)
    return {int(account_id): int(total or 0) for account_id, total in (await session.exec(query)).all()}


def _tree_order(accounts: Sequence[Account]) -> list[tuple[Account, int]]:
    children: dict[int | None, list[Account]] = defaultdict(list)
    known = {a.id for a in accounts}
    for account in accounts:
        parent = account.parent_id if account.parent_id in known else None
        children[parent].append(account)
    ordered: list[tuple[Account, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for account in sorted(children.get(parent, []), key=lambda a: a.code):
            ordered.append((account, depth))
            walk(account.id, depth + 1)

    walk(None, 0)
    return ordered


async def accounts(session: AsyncSession, *, include_archived: bool = True) -> list[Account]:
    """The chart, ordered by code."""
    query = select(Account).order_by(col(Account.code))
    if not include_archived:
        query = query.where(col(Account.archived_at).is_(None))
    return list((await session.exec(query)).all())


async def chart(session: AsyncSession, *, as_of: dt.date | None = None) -> list[BalanceRow]:
    """Every account as a tree (parents before children), each with its own balance."""
    totals = await balances(session, as_of=as_of)
    return [
        BalanceRow(account, totals.get(account.id or 0, 0), depth)
        for account, depth in _tree_order(await accounts(session))
    ]


async def trial_balance(session: AsyncSession, as_of: dt.date) -> TrialBalance:
    """The trial balance at the end of `as_of`: every account with a non-zero balance."""
    totals = await balances(session, as_of=as_of)
    rows = [
        BalanceRow(account, totals[account.id or 0], depth)
        for account, depth in _tree_order(await accounts(session))
        if totals.get(account.id or 0)
    ]
    return TrialBalance(as_of=as_of, rows=rows)


@dataclass(frozen=True)
class EntrySummary:
    """A journal row: the entry, its size, and the entry that reversed it (if any)."""

    entry: JournalEntry
    debit_cents: int
    line_count: int
    reversed_by_id: int | None


async def journal(
    session: AsyncSession,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    source_type: str | None = None,
    limit: int = 200,
) -> list[EntrySummary]:
    """Entries between two days (newest first), with their debit totals and reversal links."""
    query = select(JournalEntry).order_by(col(JournalEntry.date).desc(), col(JournalEntry.id).desc()).limit(limit)
    if start is not None:
        query = query.where(col(JournalEntry.date) >= start)
    if end is not None:
        query = query.where(col(JournalEntry.date) <= end)
    if source_type:
        query = query.where(JournalEntry.source_type == source_type)
    entries = list((await session.exec(query)).all())
    ids = [e.id for e in entries]
    if not ids:
        return []
    sizes: dict[int, tuple[int, int]] = {
        int(entry_id): (int(debits or 0), int(count))
        for entry_id, debits, count in (
            await session.exec(
                select(
                    JournalLine.entry_id,
                    func.sum(JournalLine.amount_cents).filter(col(JournalLine.amount_cents) > 0),
                    func.count(),
                )
                .where(col(JournalLine.entry_id).in_(ids))
                .group_by(col(JournalLine.entry_id))
            )
        ).all()
    }
    reversals = {
        int(original or 0): int(reversal or 0)
        for original, reversal in (
            await session.exec(
                select(JournalEntry.reverses_id, JournalEntry.id).where(col(JournalEntry.reverses_id).in_(ids))
            )
        ).all()
    }
    return [
        EntrySummary(
            entry=entry,
            debit_cents=sizes.get(entry.id or 0, (0, 0))[0],
            line_count=sizes.get(entry.id or 0, (0, 0))[1],
            reversed_by_id=reversals.get(entry.id or 0),
        )
        for entry in entries
    ]


@dataclass(frozen=True)
class EntryLineView:
    """A line with its account."""

    line: JournalLine
    account: Account


@dataclass(frozen=True)
class EntryDetail:
    """One entry, its lines, and the entries it reverses or is reversed by."""

    entry: JournalEntry
    lines: list[EntryLineView]
    reversed_by: JournalEntry | None
    reverses: JournalEntry | None

    @property
    def debit_cents(self) -> int:
        """The debit total (equal to the credit total)."""
        return sum(view.line.debit_cents for view in self.lines)


async def entry_detail(session: AsyncSession, entry_id: int) -> EntryDetail:
    """An entry with its lines; NotFound for an unknown id."""
    entry = await session.get(JournalEntry, entry_id)
    if entry is None:
        raise NotFound(f"There is no journal entry #{entry_id}.")
    rows = (
        await session.exec(
            select(JournalLine, Account)
            .join(Account, col(Account.id) == col(JournalLine.account_id))
            .where(JournalLine.entry_id == entry_id)
            .order_by(col(JournalLine.position))
        )
    ).all()
    reversed_by = (await session.exec(select(JournalEntry).where(JournalEntry.reverses_id == entry_id))).first()
    reverses = await session.get(JournalEntry, entry.reverses_id) if entry.reverses_id else None
    return EntryDetail(
        entry=entry,
        lines=[EntryLineView(line, account) for line, account in rows],
        reversed_by=reversed_by,
        reverses=reverses,
    )


@dataclass(frozen=True)
class LedgerRow:
    """A line in an account's ledger with the balance after it."""

    entry_id: int
    date: dt.date
    description: str
    memo: str
    amount_cents: int
    balance_cents: int
    reverses_id: int | None

    @property
    def debit_cents(self) -> int:
        """The debit side of the line."""
        return max(self.amount_cents, 0)

    @property
    def credit_cents(self) -> int:
        """The credit side of the line, as a positive number."""
        return max(-self.amount_cents, 0)


@dataclass(frozen=True)
class AccountLedger:
    """An account's lines between two days with a running balance from the opening balance."""

    account: Account
    start: dt.date
    end: dt.date
    opening_cents: int
    rows: list[LedgerRow]

    @property
    def closing_cents(self) -> int:
        """The balance at the end of `end`."""
        return self.rows[-1].balance_cents if self.rows else self.opening_cents


async def account_ledger(session: AsyncSession, account_id: int, *, start: dt.date, end: dt.date) -> AccountLedger:
    """The account's postings from `start` to `end` in date order, with the running balance."""
    account = await session.get(Account, account_id)
    if account is None:
        raise NotFound("No such account.")
    opening = (
        await session.exec(
            select(func.coalesce(func.sum(JournalLine.amount_cents), 0))
            .join(JournalEntry, col(JournalEntry.id) == col(JournalLine.entry_id))
            .where(JournalLine.account_id == account_id, col(JournalEntry.date) < start)
        )
    ).one()
    lines = (
        await session.exec(
            select(JournalLine, JournalEntry)
            .join(JournalEntry, col(JournalEntry.id) == col(JournalLine.entry_id))
            .where(
                JournalLine.account_id == account_id,
                col(JournalEntry.date) >= start,
                col(JournalEntry.date) <= end,
            )
            .order_by(col(JournalEntry.date), col(JournalEntry.id), col(JournalLine.position))
        )
    ).all()
    running = int(opening)
    rows: list[LedgerRow] = []
    for line, entry in lines:
        running += line.amount_cents
        rows.append(
            LedgerRow(
                entry_id=entry.id or 0,
                date=entry.date,
                description=entry.description,
                memo=line.memo,
                amount_cents=line.amount_cents,
                balance_cents=running,
                reverses_id=entry.reverses_id,
            )
        )
    return AccountLedger(account=account, start=start, end=end, opening_cents=int(opening), rows=rows)


async def locked_days(session: AsyncSession, *, limit: int = 60) -> list[LockedDay]:
    """The most recently locked days, newest first."""
    return list((await session.exec(select(LockedDay).order_by(col(LockedDay.day).desc()).limit(limit))).all())


@dataclass(frozen=True)
class ExportEntry:
    """An entry with its lines and accounts, as the exports need it."""

    entry: JournalEntry
    lines: list[EntryLineView]


async def entries_between(
    session: AsyncSession, start: dt.date, end: dt.date, *, only: Any = None
) -> list[ExportEntry]:
    """Every entry dated from `start` to `end` (of `only`, a query of entry ids, when given), in date then
    posting order, with lines and accounts."""
    query = (
        select(JournalEntry, JournalLine, Account)
        .join(JournalLine, col(JournalLine.entry_id) == col(JournalEntry.id))
        .join(Account, col(Account.id) == col(JournalLine.account_id))
        .where(col(JournalEntry.date) >= start, col(JournalEntry.date) <= end)
        .order_by(col(JournalEntry.date), col(JournalEntry.id), col(JournalLine.position))
    )
    if only is not None:
        query = query.where(col(JournalEntry.id).in_(only))
    rows: Sequence[Any] = (await session.exec(query)).all()
    result: list[ExportEntry] = []
    for entry, line, account in rows:
        if not result or result[-1].entry.id != entry.id:
            result.append(ExportEntry(entry, []))
        result[-1].lines.append(EntryLineView(line, account))
    return result
