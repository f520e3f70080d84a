"""Read models of house accounts: the list, the accounts a server may charge, and an account's statement."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.house_accounts.models import CustomerAccount, CustomerAccountEntry, CustomerAccountStatus
from app.lib.errors import NotFound


async def accounts(session: AsyncSession) -> list[CustomerAccount]:
    """Every house account, open ones first, by name."""
    rows = await session.exec(select(CustomerAccount).order_by(col(CustomerAccount.status), col(CustomerAccount.name)))
    return list(rows.all())


async def chargeable(session: AsyncSession) -> list[CustomerAccount]:
    """The accounts a check can be charged to (active ones), by name."""
    rows = await session.exec(
        select(CustomerAccount)
        .where(CustomerAccount.status == CustomerAccountStatus.ACTIVE)
        .order_by(col(CustomerAccount.name))
    )
    return list(rows.all())


async def total_balance(session: AsyncSession) -> int:
    """What every house account owes together."""
    total = (await session.exec(select(func.coalesce(func.sum(CustomerAccount.balance_cents), 0)))).one()
    return int(total)


@dataclass(frozen=True)
class Statement:
    """An account's statement for a period: the balance it opened with, its entries, and the closing balance."""

    account: CustomerAccount
    start: dt.date | None
    end: dt.date | None
    opening_cents: int
    entries: list[CustomerAccountEntry]

    @property
    def closing_cents(self) -> int:
        """The balance after the last entry of the period."""
        return self.entries[-1].balance_after_cents if self.entries else self.opening_cents

    @property
    def charges_cents(self) -> int:
        """Charges in the period."""
        return sum(e.amount_cents for e in self.entries if e.amount_cents > 0)

    @property
    def credits_cents(self) -> int:
        """Payments and refunds in the period, as a positive figure."""
        return -sum(e.amount_cents for e in self.entries if e.amount_cents < 0)


async def account(session: AsyncSession, account_id: int) -> CustomerAccount:
    """One account, or a refusal."""
    found = await session.get(CustomerAccount, account_id)
    if found is None:
        raise NotFound("That house account does not exist.")
    return found


async def statement(
    session: AsyncSession, account_id: int, *, start: dt.date | None = None, end: dt.date | None = None
) -> Statement:
    """Charges, refunds and payments of one account between two business days (inclusive), in order."""
    found = await account(session, account_id)
    query = select(CustomerAccountEntry).where(CustomerAccountEntry.account_id == account_id)
    if start is not None:
        query = query.where(col(CustomerAccountEntry.business_day) >= start)
    if end is not None:
        query = query.where(col(CustomerAccountEntry.business_day) <= end)
    entries = list((await session.exec(query.order_by(col(CustomerAccountEntry.id)))).all())
    # The balance each entry left is kept on it, so the opening balance is the one before the first shown.
    opening = entries[0].balance_after_cents - entries[0].amount_cents if entries else 0
    if not entries and start is not None:
        before = (
            await session.exec(
                select(CustomerAccountEntry.balance_after_cents)
                .where(CustomerAccountEntry.account_id == account_id, col(CustomerAccountEntry.business_day) < start)
                .order_by(col(CustomerAccountEntry.id).desc())
                .limit(1)
            )
        ).first()
        opening = before or 0
    return Statement(account=found, start=start, end=end, opening_cents=opening, entries=entries)
