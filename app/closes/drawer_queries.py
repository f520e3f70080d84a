"""Read models for the cash drawers: what a drawer should hold, the day's drawers, and cash taken into no drawer.

Cash records the drawer it went into; cash taken before drawers were recorded is placed in the drawer open on its
device (or the house drawer) when it was taken.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks.models import Payment, Refund, RefundStatus, Tender, TenderKind
from app.closes import calculations as calc
from app.closes.models import DrawerMovement, DrawerSession, DrawerStatus
from app.lib.clock import utcnow
from app.orders.models import Check
from app.staff.models import Staff


async def _windows(session: AsyncSession, start: datetime | None, end: datetime) -> list[calc.DrawerWindow]:
    query = select(DrawerSession).where(DrawerSession.opened_at <= end)
    if start is not None:
        query = query.where((col(DrawerSession.closed_at).is_(None)) | (col(DrawerSession.closed_at) >= start))
    return [
        calc.DrawerWindow(
            d.id or 0, d.device_id, d.opened_at.timestamp(), d.closed_at.timestamp() if d.closed_at else None
        )
        for d in (await session.exec(query)).all()
    ]


async def _cash_tender_ids(session: AsyncSession) -> list[int]:
    return [t.id or 0 for t in (await session.exec(select(Tender).where(Tender.kind == TenderKind.CASH))).all()]


async def drawer_expected(session: AsyncSession, drawer: DrawerSession) -> int:
    """What a drawer should hold now: float, cash taken into it, cash in and out, less cash refunds.

    Cash records the drawer it went into; cash from before drawers were recorded is placed by when it was taken.
    """
    end = drawer.closed_at or utcnow()
    cash_tenders = await _cash_tender_ids(session)
    placed = (
        await session.exec(
            select(Payment).where(col(Payment.tender_id).in_(cash_tenders), Payment.drawer_id == drawer.id)
        )
    ).all()
    legacy = (
        await session.exec(
            select(Payment).where(
                col(Payment.tender_id).in_(cash_tenders),
                col(Payment.drawer_id).is_(None),
                Payment.taken_at >= drawer.opened_at,
                Payment.taken_at <= end,
            )
        )
    ).all()
    back_placed = (
        await session.exec(
            select(Refund).where(
                col(Refund.tender_id).in_(cash_tenders),
                Refund.status == RefundStatus.COMPLETED,
                Refund.drawer_id == drawer.id,
            )
        )
    ).all()
    back_legacy = (
        await session.exec(
            select(Refund).where(
                col(Refund.tender_id).in_(cash_tenders),
                Refund.status == RefundStatus.COMPLETED,
                col(Refund.drawer_id).is_(None),
                col(Refund.completed_at) >= drawer.opened_at,
                col(Refund.completed_at) <= end,
            )
        )
    ).all()
    windows = await _windows(session, drawer.opened_at, end)
    cash = [calc.CashPayment(p.taken_at.timestamp(), p.device_id, p.amount_cents) for p in legacy]
    taken = calc.assign_cash(cash, windows).get(drawer.id, 0) + sum(p.amount_cents for p in placed)
    back = [calc.CashPayment((r.completed_at or r.created_at).timestamp(), None, r.amount_cents) for r in back_legacy]
    refunded = calc.assign_cash(back, windows).get(drawer.id, 0) + sum(r.amount_cents for r in back_placed)
    movements = (await session.exec(select(DrawerMovement).where(DrawerMovement.drawer_id == drawer.id))).all()
    return calc.expected_cash(drawer.float_cents, taken, [(m.kind.sign, m.amount_cents) for m in movements], refunded)


@dataclass(frozen=True)
class LooseCash:
    """Cash taken while no drawer was open: no count will ever find it until it is put in a drawer."""

    payment: Payment
    check_number: int
    taken_by: str


async def loose_cash(session: AsyncSession, day: dt.date | None = None) -> list[LooseCash]:
    """Cash payments (of `day`, or any day) that are in no drawer, oldest first."""
    query = select(Payment).where(
        col(Payment.tender_id).in_(await _cash_tender_ids(session)), col(Payment.drawer_id).is_(None)
    )
    if day is not None:
        query = query.where(Payment.business_day == day)
    payments = (await session.exec(query.order_by(col(Payment.id)))).all()
    if not payments:
        return []
    windows = await _windows(session, None, utcnow())
    staff = await staff_names(session)
    numbers = {
        c.id: c.number
        for c in (await session.exec(select(Check).where(col(Check.id).in_({p.check_id for p in payments})))).all()
    }
    loose = []
    for payment in payments:
        cash = [calc.CashPayment(payment.taken_at.timestamp(), payment.device_id, payment.amount_cents)]
        if None in calc.assign_cash(cash, windows):
            loose.append(LooseCash(payment, numbers.get(payment.check_id, 0), staff.get(payment.taken_by, "")))
    return loose


@dataclass(frozen=True)
class DrawerView:
    """A drawer with its movements and, unless counted blind and still open, what it should hold."""

    drawer: DrawerSession
    movements: list[DrawerMovement]
    expected_cents: int
    opened_by: str

    @property
    def shows_expected(self) -> bool:
        """A blind count hides the expected amount until the drawer is counted."""
        return not self.drawer.blind or self.drawer.status is DrawerStatus.CLOSED


async def drawers(session: AsyncSession, day: dt.date) -> list[DrawerView]:
    """The day's drawers (and any still open from before), open first."""
    rows = (
        await session.exec(
            select(DrawerSession)
            .where((DrawerSession.business_day == day) | (DrawerSession.status == DrawerStatus.OPEN))
            .order_by(col(DrawerSession.status).desc(), col(DrawerSession.id))
        )
    ).all()
    staff = await staff_names(session)
    views = []
    for drawer in rows:
        movements = list(
            (
                await session.exec(
                    select(DrawerMovement).where(DrawerMovement.drawer_id == drawer.id).order_by(col(DrawerMovement.id))
                )
            ).all()
        )
        expected = (
            drawer.expected_cents if drawer.expected_cents is not None else await drawer_expected(session, drawer)
        )
        views.append(DrawerView(drawer, movements, expected, staff.get(drawer.opened_by, "")))
    return views


async def staff_names(session: AsyncSession) -> dict[int, str]:
    """Everyone's name by id, archived staff too (history names them)."""
    return {s.id or 0: s.name for s in (await session.exec(select(Staff))).all()}
