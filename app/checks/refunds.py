"""Reopening a closed check and refunding its payments, whole or by lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks import split_calculations
from app.checks.attempts import (
    _ask_terminal,
    _charge_reference,
    _finish_refund,
    _new_reference,
    _owe_recovery,
    _record_result,
    _settle_recovery,
)
from app.checks.events import CheckReopened
from app.checks.guards import _authorise, _format, _live_line, _money_for_update, clean_reason, db_currency
from app.checks.models import (
    AttemptKind,
    AttemptStatus,
    CheckClosing,
    Payment,
    PaymentAttempt,
    Refund,
    RefundLine,
    RefundStatus,
)
from app.checks.queries import CheckMoney, closings
from app.checks.services import REOPENED_TOPIC
from app.checks.terminal import PaymentTerminal
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.db import Database
from app.lib.errors import Conflict, InvalidInput
from app.lib.events import emit
from app.lib.outbox import enqueue
from app.orders import services as orders
from app.orders.models import CheckStatus
from app.staff.models import Staff
from app.staff.permissions import Perm


async def reopen_check(
    session: AsyncSession,
    *,
    check_id: int,
    actor: Staff,
    reason: str,
    expected_version: int | None = None,
    approver: Staff | None = None,
) -> CheckClosing:
    """Reopen a closed check with a manager: its closing is marked reversed (not edited) and the ledger told."""
    check = await orders.get_check_for_update(session, check_id, expected_version)
    approved_by = _authorise(actor, approver, Perm.CHECKS_REOPEN, "reopen a check")
    reason = clean_reason(reason)
    if check.status is not CheckStatus.CLOSED:
        raise Conflict(f"Check #{check.number} is {check.status.value}, not closed; there is nothing to reopen.")
    history = await closings(session, check.id or 0)
    closing = history[-1] if history else None
    if closing is None or closing.reopened_at is not None:
        raise Conflict(f"Check #{check.number} has no closing to reverse.")
    pending_refund = (
        await session.exec(select(Refund.id).where(Refund.check_id == check.id, Refund.status == RefundStatus.PENDING))
    ).first()
    if pending_refund is not None:
        raise Conflict("A card refund on this check is still waiting for the terminal; resolve it first.")
    await orders.bump_version(session, check, expected_version)
    now = utcnow()
    closing.reopened_at = now
    closing.reopened_by = actor.id
    closing.reopen_approved_by = approved_by
    closing.reopen_reason = reason
    session.add(closing)
    check.status = CheckStatus.OPEN
    check.closed_at = None
    check.table_cleared_at = None
    session.add(check)
    await session.flush()
    await enqueue(
        session,
        REOPENED_TOPIC,
        {"check_id": check.id, "sequence": closing.sequence, "closing_id": closing.id},
        dedupe_key=f"{REOPENED_TOPIC}:{check.id}:{closing.sequence}",
    )
    await audit.record(
        session,
        "checks.reopen",
        actor_id=actor.id,
        approver_id=approved_by,
        subject=f"check:{check.id}",
        reason=reason,
        before={"status": "closed", "sequence": closing.sequence, "total_cents": closing.total_cents},
        after={"status": "open"},
    )
    await emit(session, CheckReopened(check_id=check.id or 0, table_id=check.table_id, sequence=closing.sequence))
    return closing


# ---------------------------------------------------------------------------------------------- refunds


@dataclass(frozen=True)
class RefundRequest:
    """A manager's refund: the whole check, or chosen lines back to one payment."""

    check_id: int
    actor: Staff
    reason: str
    idempotency_key: str
    full: bool = False
    line_ids: tuple[int, ...] = ()
    payment_id: int | None = None
    approver: Staff | None = None
    device_id: int | None = None


async def refund(db: Database, terminal: PaymentTerminal, request: RefundRequest) -> list[Refund]:
    """Give money back on a closed check: reversing refund rows (never edits), card refunds through the terminal."""
    async with db.read() as session:
        existing = (
            await session.exec(
                select(PaymentAttempt.refund_id).where(
                    col(PaymentAttempt.idempotency_key).startswith(f"{request.idempotency_key[:90]}:")
                )
            )
        ).all()
        done = (
            await session.exec(
                select(Refund)
                .where(col(Refund.id).in_([i for i in existing if i is not None]))
                .order_by(col(Refund.id))
            )
        ).all()
        if done:
            return list(done)
    async with db.write() as session:
        refunds, attempts = await _begin_refund(session, request)
    for attempt in attempts:
        result = await _ask_terminal(terminal, attempt, db_currency(db))
        async with db.write() as session:
            await _settle_recovery(session, attempt, result)
            await _record_result(session, attempt.id or 0, result, terminal_name=terminal.name)
    async with db.read() as session:
        return [r for r in [await session.get(Refund, r.id) for r in refunds] if r is not None]


async def _begin_refund(session: AsyncSession, request: RefundRequest) -> tuple[list[Refund], list[PaymentAttempt]]:
    money = await _money_for_update(session, request.check_id)
    check = money.check
    approved_by = _authorise(request.actor, request.approver, Perm.REFUND, "refund")
    reason = clean_reason(request.reason)
    if check.status is not CheckStatus.CLOSED:
        raise Conflict(
            f"Check #{check.number} is {check.status.value}; refunds are made on closed checks. Nothing was changed."
        )
    if any(r.status is RefundStatus.PENDING for r in money.refunds):
        raise Conflict("A card refund on this check is still waiting for the terminal; resolve it first.")
    if not money.payments:
        raise Conflict(f"Nothing was paid on check #{check.number}; there is nothing to refund.")
    plans: list[tuple[Payment, int, int, list[RefundLine]]] = []
    refunded_lines = {
        line.line_id
        for line in await _refund_lines_of(
            session, [r.id or 0 for r in money.refunds if r.status is not RefundStatus.FAILED]
        )
        if line.line_id is not None
    }
    if request.full:
        if any(r.status is RefundStatus.COMPLETED for r in money.refunds):
            raise Conflict("Part of this check was already refunded; refund the remaining items instead.")
        payments = [p for p in money.payments if p.refundable_cents > 0]
        parts = (
            split_calculations.allocate_check_to_parts(money.totals, [p.amount_cents for p in payments])
            if payments
            else []
        )
        for payment, part in zip(payments, parts, strict=True):
            part_lines = [
                RefundLine(refund_id=0, category_id=category_id, description="Sales", net_cents=net, tax_cents=0)
                for category_id, net in part.net_by_category.items()
                if net
            ]
            part_lines += [
                RefundLine(
                    refund_id=0,
                    tax_rate_id=tax.rate.id,
                    tax_rate_bp=int(tax.rate.rate * 10000),
                    description=tax.rate.name[:80],
                    net_cents=0,
                    tax_cents=tax.tax,
                )
                for tax in part.taxes
                if tax.tax
            ]
            if part.service_charge:
                part_lines.append(
                    RefundLine(refund_id=0, description="Service charge", net_cents=part.service_charge, tax_cents=0)
                )
            plans.append((payment, payment.amount_cents, payment.tip_cents, part_lines))
    else:
        ids = list(dict.fromkeys(request.line_ids))
        if not ids:
            raise InvalidInput("Choose the items to refund, or refund the whole check.")
        chosen: list[RefundLine] = []
        amount = 0
        for line_id in ids:
            line = _live_line(money, line_id)
            if line_id in refunded_lines:
                raise Conflict(f"{line.name} was already refunded. Nothing was changed.")
            totals = money.line_totals[line_id]
            if totals.total == 0:
                raise InvalidInput(f"{line.name} was not charged (comped); there is nothing to refund.")
            amount += totals.total
            chosen.append(
                RefundLine(
                    refund_id=0,
                    line_id=line_id,
                    category_id=line.category_id,
                    tax_rate_id=line.tax_rate_id,
                    tax_rate_bp=line.tax_rate_bp,
                    description=line.name,
                    net_cents=totals.net,
                    tax_cents=totals.tax,
                )
            )
        payment = _refund_payment(money, request.payment_id, amount)
        left = payment.amount_cents - _refunded_amount(money, payment)
        if amount > left:
            raise InvalidInput(
                f"Refunding {_format(amount, money.currency)} is more than the {_format(left, money.currency)} "
                f"left to refund on that payment. Nothing was changed."
            )
        plans.append((payment, amount, 0, chosen))
    refunds: list[Refund] = []
    attempts: list[PaymentAttempt] = []
    for index, (payment, amount, tip, lines) in enumerate(plans):
        tender = money.tenders[payment.tender_id]
        row = Refund(
            check_id=check.id or 0,
            payment_id=payment.id or 0,
            tender_id=tender.id or 0,
            amount_cents=amount,
            tip_cents=tip,
            full=request.full,
            reason=reason,
            refunded_by=request.actor.id or 0,
            approved_by=approved_by,
        )
        session.add(row)
        await session.flush()
        for refund_line in lines:
            refund_line.refund_id = row.id or 0
            session.add(refund_line)
        attempt = PaymentAttempt(
            kind=AttemptKind.REFUND,
            check_id=check.id or 0,
            tender_id=tender.id or 0,
            reference=_new_reference(),
            idempotency_key=f"{request.idempotency_key[:90]}:{index}",
            amount_cents=amount + tip,
            refund_id=row.id,
            original_payment_id=payment.id,
            # The terminal refunds against the charge it approved, known by our reference to it.
            original_reference=await _charge_reference(session, payment),
            requested_by=request.actor.id or 0,
            device_id=request.device_id,
        )
        session.add(attempt)
        await session.flush()
        await audit.record(
            session,
            "checks.refund",
            actor_id=request.actor.id,
            approver_id=approved_by,
            subject=f"check:{check.id}",
            reason=reason,
            before={"payment_id": payment.id, "refundable_cents": payment.refundable_cents},
            after={
                "refund_id": row.id,
                "amount_cents": amount,
                "tip_cents": tip,
                "full": request.full,
                "line_ids": [line.line_id for line in lines if line.line_id is not None],
            },
        )
        refunds.append(row)
        if tender.uses_terminal and payment.processor_reference:
            _owe_recovery(session, attempt)
            attempts.append(attempt)
        else:
            attempt.status = AttemptStatus.APPROVED
            attempt.resolved_at = utcnow()
            session.add(attempt)
            await _finish_refund(session, attempt, None)
    return refunds, attempts


def _refund_payment(money: CheckMoney, payment_id: int | None, amount: int) -> Payment:
    if payment_id is not None:
        payment = next((p for p in money.payments if p.id == payment_id), None)
        if payment is None:
            raise InvalidInput("That payment is not on this check; choose one of its payments.")
        return payment
    # Without a choice, give it back to the payment with the most left to refund.
    return max(money.payments, key=lambda p: (p.amount_cents - _refunded_amount(money, p), -(p.id or 0)))


def _refunded_amount(money: CheckMoney, payment: Payment) -> int:
    return sum(
        r.amount_cents for r in money.refunds if r.payment_id == payment.id and r.status is not RefundStatus.FAILED
    )


async def _refund_lines_of(session: AsyncSession, refund_ids: Sequence[int]) -> list[RefundLine]:
    if not refund_ids:
        return []
    return list((await session.exec(select(RefundLine).where(col(RefundLine.refund_id).in_(list(refund_ids))))).all())
