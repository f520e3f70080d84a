"""Commands that carry a check through its life at the table: sending or voiding what is unsent, closing it
and clearing the table; the business day and the outbox topics the checks package publishes.

The other commands on a check's money live in rooms of their own: adjustments (discounts, comps, the
service charge), splits, payments and the terminal attempts behind them, tips, refunds (with reopening),
receipts and tenders; guards holds what they share.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks.events import CheckClosed
from app.checks.guards import _authorise as _authorise
from app.checks.guards import _format, _money_for_update, _refuse_unsent, _require_no_pending, _require_open
from app.checks.guards import clean_reason as clean_reason
from app.checks.models import CheckClosing, Payment
from app.checks.queries import CheckMoney, load_check, open_checks_on_table
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.db import UTCDateTime, note_written
from app.lib.errors import Conflict, InvalidInput
from app.lib.events import emit
from app.lib.outbox import enqueue
from app.lib.settings import Settings
from app.lib.sql import rows_as
from app.orders import firing, seating, voids
from app.orders import services as orders
from app.orders.models import Check, CheckStatus
from app.staff.models import Staff

RECOVERY_TOPIC = "checks.payment_attempt"
CLOSED_TOPIC = "checks.closed"
REOPENED_TOPIC = "checks.reopened"
REFUNDED_TOPIC = "checks.refunded"
TIP_ADJUSTED_TOPIC = "checks.tip_adjusted"


def business_day(settings: Settings, moment: datetime) -> dt.date:
    """The trading day a moment belongs to: the day starts at the cutoff hour in the restaurant's time zone."""
    local = moment.astimezone(ZoneInfo(settings.timezone))
    return (local - timedelta(hours=settings.business_day_cutoff_hour)).date()


# ---------------------------------------------------------------------------------------------- the table


async def clear_table(session: AsyncSession, *, check_id: int, actor: Staff) -> Check:
    """The paid table is bussed; refused while another check on it (a split's) is still open."""
    check = await load_check(session, check_id)
    others = [c for c in await open_checks_on_table(session, check.table_id) if c.id != check.id]
    if others:
        numbers = ", ".join(f"#{c.number}" for c in others)
        raise Conflict(
            f"The table still has check{'s' if len(others) != 1 else ''} {numbers} open; clear it once the last "
            "check is paid. Nothing was changed."
        )
    return await seating.clear_table(session, check_id, actor)


# ---------------------------------------------------------------------------------------------- unsent items


async def send_unsent(
    session: AsyncSession,
    *,
    check_id: int,
    actor: Staff,
    expected_version: int | None = None,
    approver: Staff | None = None,
) -> int:
    """The guest is paying: send every item the kitchen has not had, held courses too. Returns how many."""
    money = await _money_for_update(session, check_id, expected_version)
    _require_open(money.check, "send its items")
    unsent = money.unsent_lines
    if not unsent:
        raise InvalidInput("Every item on this check is already with the kitchen.")
    version = expected_version
    for course in sorted({line.course for line in unsent}, key=lambda c: c.order):
        await firing.fire_course(
            session, check_id=check_id, course=course, actor=actor, expected_version=version, approver=approver
        )
        version = None
    return len(unsent)


async def void_unsent(
    session: AsyncSession,
    *,
    check_id: int,
    actor: Staff,
    expected_version: int | None = None,
    approver: Staff | None = None,
) -> int:
    """Take every item the kitchen never had off the bill (nothing reaches the kitchen). Returns how many."""
    money = await _money_for_update(session, check_id, expected_version)
    _require_open(money.check, "void its items")
    unsent = money.unsent_lines
    if not unsent:
        raise InvalidInput("There are no unsent items on this check.")
    version = expected_version
    for line in unsent:
        await voids.void_line(
            session,
            check_id=check_id,
            line_id=line.id or 0,
            actor=actor,
            expected_version=version,
            reason="Not sent to the kitchen; taken off before payment",
            approver=approver,
        )
        version = None
    return len(unsent)


# ---------------------------------------------------------------------------------------------- closing


async def close_check(
    session: AsyncSession,
    *,
    check_id: int,
    actor: Staff,
    expected_version: int | None = None,
    unsent_confirmed: bool = False,
) -> CheckClosing:
    """Close a check that is fully paid (or owes nothing, such as a check comped in full)."""
    money = await _money_for_update(session, check_id, expected_version)
    check = money.check
    _require_open(check, "close it")
    _require_no_pending(money)
    _refuse_unsent(money, confirmed=unsent_confirmed, nothing="Nothing was changed.")
    if money.due > 0:
        raise Conflict(
            f"Check #{check.number} still has {_format(money.due, money.currency)} to pay; take payment before "
            "closing. Nothing was changed."
        )
    await orders.bump_version(session, check, expected_version)
    return await _close(session, money, actor_id=actor.id)


_CLOSINGS: Any = CheckClosing.__table__  # type: ignore[attr-defined]
# How many times the check was closed before, plus one.
_NEXT_SEQUENCE = (
    select(func.count())
    .select_from(CheckClosing)
    .where(col(CheckClosing.check_id) == bindparam("closing_check_id"))
    .scalar_subquery()
    + 1
)


# The closing, numbered by the insert itself, read back as the session's object: built once (see rows_as).
_CLOSING = rows_as(
    CheckClosing,
    insert(_CLOSINGS)
    .values(
        check_id=bindparam("closing_check_id"),
        sequence=_NEXT_SEQUENCE,
        total_cents=bindparam("total"),
        paid_cents=bindparam("paid"),
        tips_cents=bindparam("tips"),
        closed_by=bindparam("closer_id"),
        closed_at=bindparam("at", type_=UTCDateTime()),
    )
    .returning(*_CLOSINGS.c),
)


async def _close(session: AsyncSession, money: CheckMoney, *, actor_id: int | None) -> CheckClosing:
    check = money.check
    now = utcnow()
    # The closing is numbered by the insert itself: one more than the check's closings so far. Without an early
    # flush of the check's pending version bump, so the check is written once, with its closing.
    with session.no_autoflush:
        inserted = await session.exec(
            _CLOSING,
            params={
                "closing_check_id": check.id or 0,
                "total": money.totals.total,
                "paid": money.paid,
                "tips": money.tips,
                "closer_id": actor_id or check.server_id,
                "at": now,
            },
        )
    closing: CheckClosing = inserted.one()[0]
    note_written(session, closing)
    sequence = closing.sequence
    check.status = CheckStatus.CLOSED
    check.closed_at = now
    check.table_cleared_at = None
    check.version += 1
    session.add(check)
    await session.flush()
    await enqueue(
        session,
        CLOSED_TOPIC,
        {"check_id": check.id, "sequence": sequence, "closing_id": closing.id},
        dedupe_key=f"{CLOSED_TOPIC}:{check.id}:{sequence}",
    )
    await audit.record(
        session,
        "checks.close",
        actor_id=actor_id,
        subject=f"check:{check.id}",
        after={
            "sequence": sequence,
            "total_cents": closing.total_cents,
            "paid_cents": closing.paid_cents,
            "tips_cents": closing.tips_cents,
        },
    )
    await emit(session, CheckClosed(check_id=check.id or 0, table_id=check.table_id, sequence=sequence))
    return closing


# ---------------------------------------------------------------------------------------------- the day's tips


async def lock_tips(session: AsyncSession, day: dt.date) -> int:
    """The business day is closing: tips on its payments can no longer be adjusted. Returns how many were locked."""
    now = utcnow()
    payments = (
        await session.exec(select(Payment).where(Payment.business_day == day, col(Payment.tips_locked_at).is_(None)))
    ).all()
    for payment in payments:
        payment.tips_locked_at = now
        session.add(payment)
    return len(payments)
