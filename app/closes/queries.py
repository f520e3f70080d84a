"""Read models for the close pages: mappings, exceptions, checkouts, tip pools, what blocks a day close.

What the cash drawers hold and the cash in no drawer are read in drawer_queries.py.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.models import Account
from app.checks.models import AttemptStatus, PaymentAttempt, Tender, TenderKind
from app.checks.queries import CASH_DRAWER_OPEN, settings_of
from app.checks.services import RECOVERY_TOPIC, business_day
from app.closes import calculations as calc
from app.closes.drawer_queries import loose_cash, staff_names
from app.closes.models import (
    BusinessDay,
    CheckPosting,
    DayStatus,
    DrawerSession,
    DrawerStatus,
    ExceptionStatus,
    MappingKind,
    PostingException,
    PostingKind,
    PostingMapping,
    ServerCheckout,
    StaffHours,
    TipPoolRule,
    TipShare,
)
from app.closes.posting_base import subject_names
from app.closes.reports import SALES_KINDS
from app.floor.models import DiningTable
from app.inventory.models import StockLocation
from app.kitchen.printing import pending_jobs
from app.lib.db import Database
from app.lib.outbox import OutboxMessage
from app.orders.models import Check, CheckStatus
from app.staff.models import Staff

TOPIC_NAMES = {
    "kitchen.fire": "kitchen tickets",
    "kds.push": "kitchen screen updates",
    "checks.closed": "closed checks to post",
    "checks.reopened": "reopened checks to reverse",
    "checks.refunded": "refunds to post",
    "checks.tip_adjusted": "tip changes to post",
}


# ---------------------------------------------------------------------------------------------- mappings


@dataclass(frozen=True)
class MappingRow:
    """One subject and where it is mapped (None: missing)."""

    kind: MappingKind
    subject: str
    label: str
    account_code: str | None
    stock_location_id: int | None

    @property
    def missing(self) -> bool:
        """Whether nothing is mapped yet."""
        return self.account_code is None and self.stock_location_id is None


@dataclass(frozen=True)
class MappingsView:
    """Every mapping section with its rows, and the choices for them."""

    sections: list[tuple[MappingKind, list[MappingRow]]]
    accounts: list[Account]
    locations: list[StockLocation]

    @property
    def missing_count(self) -> int:
        """How many subjects have no mapping."""
        return sum(1 for _, rows in self.sections for row in rows if row.missing)


async def mappings_view(session: AsyncSession) -> MappingsView:
    """Categories, tenders, tax rates, stations and house roles, each with its mapping or a gap."""
    names = await subject_names(session)
    rows = {(m.kind, m.subject): m for m in (await session.exec(select(PostingMapping))).all()}

    def section(kind: MappingKind, subjects: list[tuple[str, str]]) -> tuple[MappingKind, list[MappingRow]]:
        found = []
        for subject, label in subjects:
            row = rows.get((kind, subject))
            found.append(
                MappingRow(
                    kind, subject, label, row.account_code if row else None, row.stock_location_id if row else None
                )
            )
        return kind, found

    sections = [
        section(MappingKind.CATEGORY, [(str(k), v) for k, v in sorted(names.categories.items(), key=lambda i: i[1])]),
        section(MappingKind.TENDER, [(str(k), v) for k, v in sorted(names.tenders.items(), key=lambda i: i[1])]),
        section(MappingKind.TAX_RATE, [(str(k), v) for k, v in sorted(names.tax_rates.items(), key=lambda i: i[1])]),
        section(
            MappingKind.STATION,
            [
                *((str(k), v) for k, v in sorted(names.stations.items(), key=lambda i: i[1])),
                ("default", "Items without a station"),
            ],
        ),
        section(MappingKind.ACCOUNT, list(calc.ACCOUNT_ROLES.items())),
    ]
    accounts = list(
        (
            await session.exec(select(Account).where(col(Account.archived_at).is_(None)).order_by(col(Account.code)))
        ).all()
    )
    locations = list(
        (
            await session.exec(
                select(StockLocation)
                .where(col(StockLocation.archived_at).is_(None))
                .order_by(col(StockLocation.sort_order))
            )
        ).all()
    )
    return MappingsView(sections, accounts, locations)


# ---------------------------------------------------------------------------------------------- exceptions


async def exceptions(
    session: AsyncSession, *, include_resolved: bool = False, limit: int = 200
) -> list[PostingException]:
    """Posting exceptions, open first, newest first."""
    query = select(PostingException)
    if not include_resolved:
        query = query.where(PostingException.status == ExceptionStatus.OPEN)
    query = query.order_by(col(PostingException.status).desc(), col(PostingException.id).desc()).limit(limit)
    return list((await session.exec(query)).all())


async def open_exception_count(session: AsyncSession) -> int:
    """How many postings wait for a person."""
    return int(
        (
            await session.exec(
                select(func.count())
                .select_from(PostingException)
                .where(PostingException.status == ExceptionStatus.OPEN)
            )
        ).one()
    )


# ---------------------------------------------------------------------------------------------- checkout


@dataclass
class CheckoutSummary:
    """A server's day: checks, sales, tips and cash, and what still blocks the checkout."""

    staff_id: int
    day: dt.date
    open_checks: list[str] = field(default_factory=list)
    check_count: int = 0
    net_sales_cents: int = 0
    total_cents: int = 0
    card_tips_cents: int = 0
    cash_collected_cents: int = 0
    takings_by_tender: dict[str, int] = field(default_factory=dict)
    checkout: ServerCheckout | None = None

    def owed_to_house(self, pooled: bool) -> int:
        """Cash the server hands in (negative: the house pays the server)."""
        return calc.cash_owed_to_house(self.cash_collected_cents, 0 if pooled else self.card_tips_cents)


async def checkout_summary(session: AsyncSession, staff_id: int, day: dt.date) -> CheckoutSummary:
    """A server's sales, tips and cash on a business day, with the open checks that block their checkout."""
    summary = CheckoutSummary(staff_id=staff_id, day=day)
    open_checks = (
        await session.exec(
            select(Check, DiningTable)
            .join(DiningTable, col(DiningTable.id) == col(Check.table_id), isouter=True)
            .where(Check.server_id == staff_id, Check.status == CheckStatus.OPEN)
            .order_by(col(Check.id))
        )
    ).all()
    summary.open_checks = [
        f"#{check.number} ({f'table {table.name}' if table else check.tab_name or check.kind.value})"
        for check, table in open_checks
    ]
    tenders = {t.id or 0: t for t in (await session.exec(select(Tender))).all()}
    postings = (
        await session.exec(
            select(CheckPosting).where(
                CheckPosting.server_id == staff_id,
                CheckPosting.posted_day == day,
                col(CheckPosting.kind).in_(SALES_KINDS),
            )
        )
    ).all()
    by_tender: dict[str, int] = defaultdict(int)
    for p in postings:
        sign = p.kind.sign
        if p.kind is PostingKind.SALE and p.entry_id is not None:
            summary.check_count += 1
        elif p.kind is PostingKind.REVERSAL and p.entry_id is not None:
            summary.check_count -= 1
        summary.net_sales_cents += sign * p.net_sales_cents
        summary.total_cents += sign * p.total_cents
        summary.card_tips_cents += sign * p.tips_cents
        for key, cents in p.breakdown.get("takings_by_tender", {}).items():
            tender = tenders.get(int(key))
            by_tender[tender.name if tender else key] += sign * int(cents)
            if tender is not None and tender.kind is TenderKind.CASH:
                summary.cash_collected_cents += sign * int(cents)
    summary.takings_by_tender = dict(by_tender)
    summary.checkout = (
        await session.exec(
            select(ServerCheckout).where(ServerCheckout.staff_id == staff_id, ServerCheckout.business_day == day)
        )
    ).first()
    return summary


async def servers_of_day(session: AsyncSession, day: dt.date) -> list[Staff]:
    """Everyone who served a check posted on the day or still holds an open check."""
    ids = set(
        (
            await session.exec(
                select(CheckPosting.server_id).where(
                    CheckPosting.posted_day == day, col(CheckPosting.kind).in_(SALES_KINDS)
                )
            )
        ).all()
    )
    ids |= set((await session.exec(select(Check.server_id).where(Check.status == CheckStatus.OPEN))).all())
    ids.discard(None)
    if not ids:
        return []
    return list((await session.exec(select(Staff).where(col(Staff.id).in_(ids)).order_by(col(Staff.name)))).all())


# ---------------------------------------------------------------------------------------------- tip pools


async def active_rule(session: AsyncSession) -> TipPoolRule | None:
    """The tip pooling rule in force, if any."""
    return (
        await session.exec(
            select(TipPoolRule).where(col(TipPoolRule.archived_at).is_(None), col(TipPoolRule.active).is_(True))
        )
    ).first()


@dataclass(frozen=True)
class TipPool:
    """A day's pool: card tips as posted, cash tips as declared at checkout."""

    card_cents: int
    cash_cents: int
    include_cash: bool

    @property
    def total_cents(self) -> int:
        """What is shared."""
        return self.card_cents + (self.cash_cents if self.include_cash else 0)


async def tip_pool(session: AsyncSession, day: dt.date, *, include_cash: bool) -> TipPool:
    """The day's tips to share."""
    postings = (
        await session.exec(
            select(CheckPosting).where(CheckPosting.posted_day == day, col(CheckPosting.kind).in_(SALES_KINDS))
        )
    ).all()
    card = sum(p.kind.sign * p.tips_cents for p in postings)
    cash = sum(
        c.declared_cash_tips_cents
        for c in (await session.exec(select(ServerCheckout).where(ServerCheckout.business_day == day))).all()
    )
    return TipPool(card, cash, include_cash)


async def pool_members(session: AsyncSession, day: dt.date) -> list[calc.PoolMember]:
    """Who shares the day's pool: everyone with hours, and every server who had checks (without hours: evenly)."""
    hours = {
        h.staff_id: h.minutes
        for h in (await session.exec(select(StaffHours).where(StaffHours.business_day == day))).all()
    }
    ids = {sid for sid, minutes in hours.items() if minutes > 0}
    ids |= {s.id or 0 for s in await servers_of_day(session, day)}
    if not ids:
        return []
    people = (await session.exec(select(Staff).where(col(Staff.id).in_(ids)).order_by(col(Staff.id)))).all()
    return [calc.PoolMember(p.id or 0, p.role.value, hours.get(p.id or 0, 0)) for p in people]


async def tip_shares(session: AsyncSession, day: dt.date) -> list[tuple[TipShare, str]]:
    """The day's computed shares, with names."""
    names = await staff_names(session)
    rows = (
        await session.exec(select(TipShare).where(TipShare.business_day == day).order_by(col(TipShare.staff_id)))
    ).all()
    return [(row, names.get(row.staff_id, "")) for row in rows]


async def hours_of_day(session: AsyncSession, day: dt.date) -> dict[int, int]:
    """Minutes worked per person on the day."""
    return {
        h.staff_id: h.minutes
        for h in (await session.exec(select(StaffHours).where(StaffHours.business_day == day))).all()
    }


async def active_staff(session: AsyncSession) -> list[Staff]:
    """Everyone not archived, by name."""
    return list(
        (await session.exec(select(Staff).where(col(Staff.archived_at).is_(None)).order_by(col(Staff.name)))).all()
    )


# ---------------------------------------------------------------------------------------------- day close


async def close_blockers(session: AsyncSession, day: dt.date) -> list[str]:
    """Exactly what stops `day` from closing, one sentence each; empty when it can close."""
    settings = settings_of(session)
    blockers: list[str] = []
    staff = await staff_names(session)
    open_checks = (
        await session.exec(
            select(Check, DiningTable)
            .join(DiningTable, col(DiningTable.id) == col(Check.table_id), isouter=True)
            .where(Check.status == CheckStatus.OPEN)
            .order_by(col(Check.id))
        )
    ).all()
    for check, table in open_checks:
        if business_day(settings, check.opened_at) > day:
            continue
        where = f"table {table.name}" if table else (f"tab {check.tab_name}" if check.tab_name else check.kind.value)
        blockers.append(f"Check #{check.number} ({where}, {staff.get(check.server_id, 'no server')}) is still open")
    pending = (
        await session.exec(
            select(PaymentAttempt)
            .where(PaymentAttempt.status == AttemptStatus.PENDING)
            .order_by(col(PaymentAttempt.id))
        )
    ).all()
    for attempt in pending:
        blockers.append(
            f"A card payment of {(attempt.amount_cents + attempt.tip_cents) / 100:.2f} on check {attempt.check_id} "
            "is still waiting for the terminal"
        )
    undelivered = (
        await session.exec(
            select(OutboxMessage.topic, func.count())
            .where(col(OutboxMessage.delivered_at).is_(None), OutboxMessage.topic != RECOVERY_TOPIC)
            .group_by(col(OutboxMessage.topic))
            .order_by(col(OutboxMessage.topic))
        )
    ).all()
    for topic, count in undelivered:
        noun = "message" if count == 1 else "messages"
        blockers.append(f"{count} undelivered {noun} for {TOPIC_NAMES.get(topic, topic)} ({topic})")
    prints = await pending_jobs(session)
    if prints:
        blockers.append(f"{prints} print job{'s' if prints != 1 else ''} still waiting for a printer")
    for exception in await exceptions(session):
        blockers.append(f"Posting exception {exception.source_key}: {exception.reason}")
    open_drawers = (
        await session.exec(
            select(DrawerSession)
            .where(DrawerSession.status == DrawerStatus.OPEN, col(DrawerSession.business_day) <= day)
            .order_by(col(DrawerSession.id))
        )
    ).all()
    for drawer in open_drawers:
        blockers.append(f"Drawer {drawer.name} is still open; count it")
    for loose in await loose_cash(session, day):
        blockers.append(
            f"Cash of {loose.payment.amount_cents / 100:.2f} on check #{loose.check_number} "
            f"({loose.taken_by}) went into no drawer; put it in a drawer on Cash drawers, then count that drawer"
        )
    checked_out = {
        c.staff_id for c in (await session.exec(select(ServerCheckout).where(ServerCheckout.business_day == day))).all()
    }
    served = (
        await session.exec(
            select(CheckPosting.server_id).where(
                CheckPosting.posted_day == day,
                CheckPosting.kind == PostingKind.SALE,
                col(CheckPosting.entry_id).is_not(None),
            )
        )
    ).all()
    for server_id in sorted(
        {s for s in served if s is not None and s not in checked_out}, key=lambda s: staff.get(s, "")
    ):
        blockers.append(f"{staff.get(server_id, f'Staff {server_id}')} has not checked out")
    return blockers


@dataclass(frozen=True)
class DayState:
    """A business day as the close page shows it."""

    day: dt.date
    row: BusinessDay | None
    locked: bool

    @property
    def closed(self) -> bool:
        """Whether the day is closed."""
        return self.locked or (self.row is not None and self.row.status is DayStatus.CLOSED)


async def day_state(session: AsyncSession, day: dt.date) -> DayState:
    """Whether a day is closed, with its stored close."""
    from app.accounting.services import is_day_locked

    row = (await session.exec(select(BusinessDay).where(BusinessDay.day == day))).first()
    return DayState(day, row, await is_day_locked(session, day))


async def recent_days(session: AsyncSession, limit: int = 14) -> list[BusinessDay]:
    """The latest closed days."""
    return list((await session.exec(select(BusinessDay).order_by(col(BusinessDay.day).desc()).limit(limit))).all())


async def oldest_unclosed_day(session: AsyncSession, today: dt.date) -> dt.date:
    """The earliest day with postings or open drawers that is not closed yet, else today."""
    from app.accounting.services import next_open_day

    first = (
        await session.exec(select(func.min(CheckPosting.posted_day)).where(col(CheckPosting.posted_day) <= today))
    ).one()
    candidate = first if isinstance(first, dt.date) else today
    day = await next_open_day(session, candidate)
    return min(day, today) if day <= today else today


def local_moment(settings_tz: str, value: datetime) -> datetime:
    """A UTC moment in the venue's zone (for pages)."""
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo(settings_tz))


async def cash_drawer_open(session: AsyncSession, device_id: int | None) -> bool:
    """Whether cash taken on this device has an open drawer to go into: its own, or a house drawer."""
    query = (
        select(DrawerSession.id)
        .where(DrawerSession.status == DrawerStatus.OPEN)
        .where((col(DrawerSession.device_id).is_(None)) | (col(DrawerSession.device_id) == device_id))
        .limit(1)
    )
    return (await session.exec(query)).first() is not None


def wire(db: Database) -> None:
    """Let the settle page say before a cash payment whether a drawer is open to take it."""
    db.context[CASH_DRAWER_OPEN] = cash_drawer_open
