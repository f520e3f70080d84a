"""Business-day close: refused while anything is open or owed; then the Z report is stored and printed
and the day's books are locked.

Each command runs in the caller's write transaction and refuses bad input with a message before it
changes anything.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.locked_days import lock_day
from app.accounting.services import is_day_locked
from app.checks import printing as check_printing
from app.checks import services as checks
from app.checks.models import AttemptStatus, PaymentAttempt
from app.checks.queries import settings_of
from app.closes import posting_base, queries, reports, stock_postings
from app.closes.guards import _require
from app.closes.models import BusinessDay, CheckPosting, DayStatus
from app.closes.tip_pools import distribute_tips
from app.kitchen.print_documents import AmountLineDoc, CountedAmountDoc, TaxLineDoc, TenderTotalDoc, ZReportDoc
from app.kitchen.printing import enqueue_print
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, DomainError, InvalidInput
from app.lib.settings import Settings
from app.orders.models import Check, CheckLine, CheckStatus, LineState
from app.staff.models import Staff
from app.staff.permissions import Perm


class DayNotReady(Conflict):
    """The business day cannot close yet; `detail['blockers']` lists why."""

    code = "day_not_ready"


async def close_day(session: AsyncSession, *, day: dt.date, actor: Staff, device_id: int | None = None) -> BusinessDay:
    """Close a business day: refused with the list of what is still open or owed; then sweep void waste,
    share the tip pool, lock tips, store and print the Z report, and lock the day's books."""
    _require(actor, Perm.DAY_CLOSE, "close the business day")
    settings = settings_of(session)
    row = (await session.exec(select(BusinessDay).where(BusinessDay.day == day))).first()
    if (row is not None and row.status is DayStatus.CLOSED) or await is_day_locked(session, day):
        raise Conflict(f"The business day {day.isoformat()} is already closed.")
    if day > checks.business_day(settings, utcnow()):
        raise InvalidInput(f"{day.isoformat()} has not started yet; it cannot be closed.")
    blockers = await queries.close_blockers(session, day)
    if blockers:
        raise DayNotReady(
            f"{day.isoformat()} cannot close yet: " + "; ".join(blockers) + ".", detail={"blockers": blockers}
        )
    await sweep_void_waste(session, day)
    if await queries.active_rule(session) is not None:
        pool = await queries.tip_pool(session, day, include_cash=True)
        if pool.total_cents:
            await distribute_tips(session, day=day, actor=None)
    await checks.lock_tips(session, day)
    z = await reports.z_report(session, day)
    if row is None:
        row = BusinessDay(day=day)
    row.status = DayStatus.CLOSED
    row.closed_by = actor.id
    row.closed_at = utcnow()
    row.z_report = z.as_json()
    row.late_arrivals = z.late_postings
    session.add(row)
    await session.flush()
    row.print_job_id = await _print_z(session, settings, z, device_id)
    session.add(row)
    await lock_day(session, day, actor_id=actor.id, reason="Business day closed")
    await audit.record(
        session,
        "closes.day_close",
        actor_id=actor.id,
        subject=f"day:{day.isoformat()}",
        after={"net_sales_cents": z.net_sales_cents, "tax_cents": z.tax_cents, "checks": z.checks},
    )
    return row


async def sweep_void_waste(session: AsyncSession, day: dt.date) -> int:
    """Lines voided after they were fired, on checks that never closed, leave stock as waste before the day closes."""
    settings = settings_of(session)
    if not settings.void_after_fire_is_waste:
        return 0
    lines = (
        await session.exec(
            select(CheckLine).where(CheckLine.state == LineState.VOIDED, col(CheckLine.sent_at).is_not(None))
        )
    ).all()
    done = {
        p.source_key
        for p in (
            await session.exec(select(CheckPosting).where(col(CheckPosting.source_key).startswith("void-waste:")))
        ).all()
    }
    count = 0
    for line in lines:
        if f"void-waste:{line.id}" in done or line.voided_at is None:
            continue
        if checks.business_day(settings, line.voided_at) > day:
            continue
        try:
            await stock_postings.waste_voided_line(session, line)
        except posting_base.PostingProblem as exc:
            raise DayNotReady(
                f"{day.isoformat()} cannot close yet: {exc.message}", detail={"blockers": [exc.message]}
            ) from None
        count += 1
    return count


def z_document(settings: Settings, z: reports.ZReport) -> ZReportDoc:
    """The Z report as the printer lays it out."""
    return ZReportDoc(
        venue_name=settings.venue_name,
        business_day=z.day,
        printed_at=utcnow(),
        categories=tuple(AmountLineDoc(label=c.label, amount_cents=c.cents) for c in z.categories),
        net_sales_cents=z.net_sales_cents,
        tenders=tuple(TenderTotalDoc(tender=t.label, count=t.count, amount_cents=t.cents) for t in z.tenders),
        taxes=tuple(
            TaxLineDoc(
                label=t.label,
                tax_cents=t.cents,
                base_cents=t.base_cents,
                included=settings.prices_include_tax,
                rounded_per_line=settings.tax_rounding == "per_line",
            )
            for t in z.taxes
        ),
        voids=CountedAmountDoc(count=z.voids.count, amount_cents=z.voids.cents),
        comps=CountedAmountDoc(count=z.comps.count, amount_cents=z.comps.cents),
        discounts=CountedAmountDoc(count=z.discounts.count, amount_cents=z.discounts.cents),
        promotions=CountedAmountDoc(count=z.promotions.count, amount_cents=z.promotions.cents),
        tips_cents=z.tips_cents,
        cash_over_short_cents=z.over_short_cents,
    )


async def _print_z(session: AsyncSession, settings: Settings, z: reports.ZReport, device_id: int | None) -> int | None:
    try:
        printer = await check_printing.receipt_printer(session, device_id)
    except DomainError:
        return None
    job = await enqueue_print(
        session,
        printer_id=printer.id or 0,
        kind="z_report",
        reference=f"z:{z.day.isoformat()}",
        document=z_document(settings, z),
    )
    return job.id


async def print_z_again(session: AsyncSession, *, day: dt.date, actor: Staff, device_id: int | None = None) -> int:
    """Print a closed day's Z report again, from the figures stored when it closed."""
    _require(actor, Perm.REPORTS_VIEW, "print the Z report")
    row = (await session.exec(select(BusinessDay).where(BusinessDay.day == day))).first()
    if row is None or row.status is not DayStatus.CLOSED:
        raise Conflict(f"{day.isoformat()} is not closed; its Z report is printed when it closes.")
    settings = settings_of(session)
    z = await reports.z_report(session, day)
    job = await _print_z(session, settings, z, device_id)
    if job is None:
        raise Conflict("No receipt printer is set up to print the Z report on.")
    await audit.record(session, "closes.z_reprint", actor_id=actor.id, subject=f"day:{day.isoformat()}")
    return job


async def pending_attempts_count(session: AsyncSession) -> int:
    """Card payments whose outcome the terminal has not told yet."""
    rows = (await session.exec(select(PaymentAttempt.id).where(PaymentAttempt.status == AttemptStatus.PENDING))).all()
    return len(rows)


async def open_checks_count(session: AsyncSession) -> int:
    """Checks still open anywhere."""
    return len((await session.exec(select(Check.id).where(Check.status == CheckStatus.OPEN))).all())
