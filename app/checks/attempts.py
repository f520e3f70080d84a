"""Asking the payment terminal and recording its answer, for payments and refunds alike.

Payments through a terminal take the database instead of a session, because the attempt must be committed
before the terminal is asked and the outcome recorded after it answered: a crash in between leaves a pending
attempt that `recover_pending_attempts` resolves by asking the terminal about its reference, so a check ends
fully paid and closed or still open, never half.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from app.checks import printing
from app.checks.events import CashHandled, CheckRefunded, PaymentTaken
from app.checks.models import (
    AttemptKind,
    AttemptStatus,
    Payment,
    PaymentAttempt,
    Refund,
    RefundStatus,
    Tender,
    TenderKind,
)
from app.checks.queries import CheckMoney, check_money, settings_of, with_payment
from app.checks.services import RECOVERY_TOPIC, REFUNDED_TOPIC, _close, business_day
from app.checks.terminal import PaymentTerminal, TerminalError, TerminalOutcome, TerminalResult
from app.house_accounts import services as house_accounts
from app.kitchen.printing import enqueue_drawer_kick
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.db import Database, UTCDateTime
from app.lib.errors import DomainError, NotFound
from app.lib.events import emit
from app.lib.money import Money
from app.lib.outbox import OutboxMessage, RetryLater, enqueue
from app.lib.sql import rows_as
from app.orders import services as orders
from app.orders.models import Check, CheckStatus

log = logging.getLogger(__name__)
# A terminal answers within a minute or two; after that the outbox asks it what happened.
RECOVERY_DELAY = timedelta(seconds=120)


@dataclass(frozen=True)
class PaymentOutcome:
    """What became of a payment request: the attempt, its payment if taken, and whether the check closed."""

    attempt: PaymentAttempt
    payment: Payment | None
    closed: bool
    repeated: bool = False
    # The check's money as the payment left it, when this request booked it: the page that answers shows it as is.
    money: CheckMoney | None = field(default=None, compare=False, repr=False)

    @property
    def message(self) -> str:
        """What the server reads after tapping Pay."""
        attempt = self.attempt
        if self.repeated and attempt.status is AttemptStatus.PENDING:
            return "That payment is already on its way to the terminal; nothing was charged twice."
        if self.repeated:
            return "That payment was already recorded; nothing was charged twice."
        if attempt.status is AttemptStatus.DECLINED:
            return f"Declined: {attempt.message or 'the card was declined'}. Nothing was charged; try another card."
        if attempt.status is AttemptStatus.FAILED:
            return f"The terminal never took this payment ({attempt.message}). Nothing was charged."
        if attempt.status is AttemptStatus.PENDING:
            return (
                "The terminal did not answer. Do not charge again: check the terminal, then tap Resolve "
                "(the app will also ask it by itself)."
            )
        if self.payment is not None and self.payment.change_cents:
            change = Money(self.payment.change_cents).format()
            return f"Change due {change}." + (" Check closed." if self.closed else "")
        return "Payment taken." + (" Check closed." if self.closed else "")


async def _outcome_for(session: AsyncSession, attempt: PaymentAttempt) -> PaymentOutcome:
    payment = (await session.exec(select(Payment).where(Payment.attempt_id == attempt.id))).first()
    check = await session.get(Check, attempt.check_id)
    return PaymentOutcome(attempt, payment, closed=bool(check and check.status is CheckStatus.CLOSED))


def _booked(attempt: PaymentAttempt, payment: Payment, money: CheckMoney) -> PaymentOutcome:
    return PaymentOutcome(attempt, payment, closed=money.check.status is CheckStatus.CLOSED, money=money)


def _new_reference() -> str:
    return f"BRG-{uuid.uuid4().hex[:20].upper()}"


def _recovery_key(attempt_id: int | None) -> str:
    return f"{RECOVERY_TOPIC}:{attempt_id}"


def _owe_recovery(session: AsyncSession, attempt: PaymentAttempt) -> None:
    # Committed with the attempt: if this process dies mid-payment, any process will ask the terminal later. The
    # row is written as it is, not through enqueue(): an attempt just made cannot owe one already (no dedupe
    # lookup), and nothing needs waking for a message that falls due only after RECOVERY_DELAY.
    session.add(
        OutboxMessage(
            topic=RECOVERY_TOPIC,
            payload={"attempt_id": attempt.id},
            dedupe_key=_recovery_key(attempt.id),
            available_at=utcnow() + RECOVERY_DELAY,
        )
    )


async def _settle_recovery(session: AsyncSession, attempt: PaymentAttempt, result: TerminalResult) -> None:
    """The terminal answered, and this transaction records it: the recovery the attempt owes is owed no more.

    Marked delivered with the answer instead of being claimed and delivered later only to find nothing pending.
    Run before the attempt is locked, the order in which a worker delivering that recovery takes the same two
    rows, so on PostgreSQL the two never wait for each other in a circle.
    """
    if result.outcome is TerminalOutcome.TIMED_OUT:
        return
    await session.exec(_RECOVERY_ANSWERED, params={"recovery_key": _recovery_key(attempt.id), "now": utcnow()})


async def _ask_terminal(terminal: PaymentTerminal, attempt: PaymentAttempt, currency: str) -> TerminalResult:
    try:
        if attempt.kind is AttemptKind.REFUND:
            return await terminal.refund(
                reference=attempt.reference,
                original_reference=attempt.original_reference or "",
                amount_cents=attempt.amount_cents,
                currency=currency,
            )
        return await terminal.charge(
            reference=attempt.reference,
            amount_cents=attempt.amount_cents,
            tip_cents=attempt.tip_cents,
            currency=currency,
        )
    except (TerminalError, OSError, TimeoutError) as exc:
        log.warning("terminal %s did not answer for %s: %s", terminal.name, attempt.reference, exc)
        return TerminalResult(TerminalOutcome.TIMED_OUT, attempt.reference, message=str(exc)[:150])


_OUTBOX: Any = OutboxMessage.__table__  # type: ignore[attr-defined]
_ATTEMPTS: Any = PaymentAttempt.__table__  # type: ignore[attr-defined]
# The recovery a card payment left for a crash, marked delivered with the terminal's answer: built once, as the other
# statements of every payment (a statement built per call costs more CPU than its execution).
_RECOVERY_ANSWERED: Any = (
    update(_OUTBOX)
    .where(_OUTBOX.c.dedupe_key == bindparam("recovery_key"), _OUTBOX.c.delivered_at.is_(None))
    .values(delivered_at=bindparam("now", type_=UTCDateTime()))
)


@cache
def _recording(columns: tuple[str, ...]) -> Select[PaymentAttempt]:
    """UPDATE … RETURNING of a pending attempt (`attempt`) with an answer's `columns` (see `_answer`), read back as the
    session's object: built once for each shape of answer (see rows_as)."""
    recording = (
        update(_ATTEMPTS)
        .where(_ATTEMPTS.c.id == bindparam("attempt"), _ATTEMPTS.c.status == AttemptStatus.PENDING.value)
        .values({name: bindparam(name, type_=_ATTEMPTS.c[name].type) for name in columns})
        .returning(*_ATTEMPTS.c)
    )
    return rows_as(PaymentAttempt, recording).execution_options(populate_existing=True)


def _answer(result: TerminalResult, terminal_name: str) -> dict[str, Any]:
    """What a terminal's answer writes on a pending attempt; no answer (a timeout) leaves it pending."""
    values: dict[str, Any] = {"terminal": terminal_name[:40]}
    if result.outcome is TerminalOutcome.TIMED_OUT:
        values["message"] = (result.message or "The terminal did not answer")[:200]
        return values
    values["resolved_at"] = utcnow()
    if result.outcome is TerminalOutcome.NOT_FOUND:
        values["status"] = AttemptStatus.FAILED
        values["message"] = (result.message or "the terminal never received it")[:200]
    elif result.outcome is TerminalOutcome.DECLINED:
        values["status"] = AttemptStatus.DECLINED
        values["message"] = (result.message or "Declined")[:200]
    else:
        values["status"] = AttemptStatus.APPROVED
        values["message"] = None
    return values


async def _record_result(
    session: AsyncSession,
    attempt_id: int,
    result: TerminalResult,
    *,
    terminal_name: str,
    tender: Tender | None = None,
) -> PaymentOutcome:
    """Record the terminal's answer on a pending attempt; `tender` is the attempt's, when the caller holds it."""
    # Only a pending attempt takes an answer: one conditional UPDATE locks it, records the answer and says whether
    # it was still pending (another process may have resolved it meanwhile).
    answer = _answer(result, terminal_name)
    recording = _recording(tuple(sorted(answer)))
    recorded = (await session.exec(recording, params={"attempt": attempt_id, **answer})).first()
    attempt = recorded[0] if recorded is not None else None
    if attempt is None:
        attempt = await session.get(PaymentAttempt, attempt_id)
        if attempt is None:
            raise NotFound("That payment attempt does not exist.")
        return await _outcome_for(session, attempt)
    if result.outcome is TerminalOutcome.TIMED_OUT:
        return await _outcome_for(session, attempt)
    if attempt.kind is AttemptKind.REFUND:
        await _finish_refund(session, attempt, result)
        return await _outcome_for(session, attempt)
    if attempt.status is AttemptStatus.APPROVED:
        if tender is None or tender.id != attempt.tender_id:
            tender = await session.get(Tender, attempt.tender_id)
        assert tender is not None
        payment, money = await _book_payment(session, attempt, tender, change_cents=0, result=result)
        return _booked(attempt, payment, money)
    else:
        await audit.record(
            session,
            "checks.payment_declined" if attempt.status is AttemptStatus.DECLINED else "checks.payment_failed",
            actor_id=attempt.requested_by,
            subject=f"check:{attempt.check_id}",
            reason=attempt.message,
            after={"attempt_id": attempt.id, "amount_cents": attempt.amount_cents, "tip_cents": attempt.tip_cents},
        )
    return await _outcome_for(session, attempt)


async def _book_payment(
    session: AsyncSession,
    attempt: PaymentAttempt,
    tender: Tender,
    *,
    change_cents: int,
    result: TerminalResult | None,
    held: CheckMoney | None = None,
) -> tuple[Payment, CheckMoney]:
    """Book an approved attempt as a payment and close the check if that paid it; the payment and the check's money.

    `held` is the check's money as this transaction already locked and priced it, before this payment.
    """
    settings = settings_of(session)
    now = utcnow()
    # The check is locked before anything that references it is written: a payment row takes a share of the
    # check's key, and asking for the check's lock after holding that share is how two payments on one check at
    # once (two processes, say) would wait for each other until PostgreSQL broke one of them off.
    locked = held.check if held is not None else await orders.get_check_for_update(session, attempt.check_id)
    payment = Payment(
        check_id=attempt.check_id,
        portion_id=attempt.portion_id,
        tender_id=tender.id or 0,
        attempt_id=attempt.id,
        amount_cents=attempt.amount_cents,
        tip_cents=attempt.tip_cents,
        tendered_cents=attempt.tendered_cents,
        change_cents=change_cents,
        processor_reference=result.processor_reference if result else None,
        card_brand=result.card_brand if result else None,
        card_last4=result.card_last4 if result else None,
        auth_code=result.auth_code if result else None,
        business_day=business_day(settings, now),
        taken_by=attempt.requested_by,
        device_id=attempt.device_id,
        taken_at=now,
    )
    session.add(payment)
    await session.flush()
    await audit.record(
        session,
        "checks.payment",
        actor_id=attempt.requested_by,
        subject=f"check:{attempt.check_id}",
        after={
            "payment_id": payment.id,
            "tender": tender.name,
            "amount_cents": payment.amount_cents,
            "tip_cents": payment.tip_cents,
            "change_cents": payment.change_cents,
            "reference": attempt.reference,
        },
    )
    await emit(
        session,
        PaymentTaken(
            check_id=payment.check_id,
            payment_id=payment.id or 0,
            amount_cents=payment.amount_cents,
            tip_cents=payment.tip_cents,
        ),
    )
    if tender.kind is TenderKind.CASH:
        # Refused (and the whole payment with it) when no drawer is open to put the cash in.
        await emit(
            session,
            CashHandled(
                check_id=payment.check_id,
                device_id=payment.device_id,
                staff_id=payment.taken_by,
                amount_cents=payment.amount_cents + payment.tip_cents,
                payment_id=payment.id,
            ),
        )
    if tender.opens_drawer:
        await _kick_drawer(session, attempt.device_id, reference=f"payment:{payment.id}")
    if held is not None:
        money = with_payment(held, payment, tender)
    else:
        money = await check_money(session, locked)
    check = money.check
    check.version += 1
    session.add(check)
    if check.status is CheckStatus.OPEN and money.due <= 0 and not money.pending:
        # requested_by is a staff row's id (a foreign key; staff are archived, never deleted)
        await _close(session, money, actor_id=attempt.requested_by)
    return payment, money


async def _kick_drawer(session: AsyncSession, device_id: int | None, *, reference: str) -> None:
    # The drawer is a convenience; a missing printer must never refuse the guest's money.
    try:
        printer = await printing.receipt_printer(session, device_id)
        await enqueue_drawer_kick(session, printer_id=printer.id or 0, reference=reference)
    except DomainError as exc:
        log.warning("cash drawer not opened for %s: %s", reference, exc.message)


async def resolve_attempt(db: Database, terminal: PaymentTerminal, attempt_id: int) -> PaymentOutcome:
    """Ask the terminal what became of a pending attempt and record it (a person tapped Resolve)."""
    async with db.read() as session:
        attempt = await session.get(PaymentAttempt, attempt_id)
        if attempt is None:
            raise NotFound("That payment attempt does not exist.")
        if attempt.status is not AttemptStatus.PENDING:
            return await _outcome_for(session, attempt)
    result = await _lookup(terminal, attempt.reference)
    async with db.write() as session:
        await _settle_recovery(session, attempt, result)
        return await _record_result(session, attempt_id, result, terminal_name=terminal.name)


async def _lookup(terminal: PaymentTerminal, reference: str) -> TerminalResult:
    try:
        return await terminal.lookup(reference)
    except (TerminalError, OSError, TimeoutError) as exc:
        return TerminalResult(TerminalOutcome.TIMED_OUT, reference, message=str(exc)[:150])


async def recover_pending_attempts(
    db: Database, terminal: PaymentTerminal, *, older_than: timedelta = timedelta(0)
) -> list[PaymentOutcome]:
    """After a restart: settle every attempt still pending by asking the terminal about its reference."""
    cutoff = utcnow() - older_than
    async with db.read() as session:
        pending = (
            await session.exec(
                select(PaymentAttempt.id)
                .where(PaymentAttempt.status == AttemptStatus.PENDING, PaymentAttempt.requested_at <= cutoff)
                .order_by(col(PaymentAttempt.id))
            )
        ).all()
    return [await resolve_attempt(db, terminal, attempt_id or 0) for attempt_id in pending]


def recovery_deliverer(terminal_for: Any) -> Any:
    """The outbox deliverer that resolves a pending attempt when its recovery message falls due."""

    async def deliver(session: AsyncSession, message: OutboxMessage) -> None:
        attempt = await session.get(PaymentAttempt, int(message.payload["attempt_id"]))
        if attempt is None or attempt.status is not AttemptStatus.PENDING:
            return
        terminal: PaymentTerminal = terminal_for()
        result = await _lookup(terminal, attempt.reference)
        if result.outcome is TerminalOutcome.TIMED_OUT:
            raise RetryLater(f"terminal {terminal.name} did not answer about {attempt.reference}", delay=30.0)
        await _record_result(session, attempt.id or 0, result, terminal_name=terminal.name)

    return deliver


async def _charge_reference(session: AsyncSession, payment: Payment) -> str | None:
    if payment.attempt_id is None:
        return None
    attempt = await session.get(PaymentAttempt, payment.attempt_id)
    return attempt.reference if attempt else None


async def _finish_refund(session: AsyncSession, attempt: PaymentAttempt, result: TerminalResult | None) -> None:
    row = await session.get(Refund, attempt.refund_id) if attempt.refund_id else None
    if row is None:
        return
    if attempt.status is AttemptStatus.APPROVED:
        row.status = RefundStatus.COMPLETED
        row.completed_at = utcnow()
        row.processor_reference = result.processor_reference if result else None
        payment = await session.get(Payment, row.payment_id)
        if payment is not None:
            payment.refunded_cents += row.amount_cents + row.tip_cents
            session.add(payment)
        session.add(row)
        await session.flush()
        await enqueue(
            session,
            REFUNDED_TOPIC,
            {"check_id": row.check_id, "refund_id": row.id},
            dedupe_key=f"{REFUNDED_TOPIC}:{row.id}",
        )
        await emit(session, CheckRefunded(check_id=row.check_id, refund_id=row.id or 0, amount_cents=row.amount_cents))
        tender = await session.get(Tender, row.tender_id)
        if tender is not None and tender.kind is TenderKind.HOUSE_ACCOUNT:
            await house_accounts.credit_refund(
                session,
                payment_id=row.payment_id,
                refund_id=row.id or 0,
                amount_cents=row.amount_cents + row.tip_cents,
                actor_id=row.refunded_by,
            )
        if tender is not None and tender.kind is TenderKind.CASH:
            await emit(
                session,
                CashHandled(
                    check_id=row.check_id,
                    device_id=attempt.device_id,
                    staff_id=row.refunded_by,
                    amount_cents=-(row.amount_cents + row.tip_cents),
                    refund_id=row.id,
                ),
            )
        if tender is not None and tender.opens_drawer:
            await _kick_drawer(session, attempt.device_id, reference=f"refund:{row.id}")
    else:
        row.status = RefundStatus.FAILED
        session.add(row)
        await audit.record(
            session,
            "checks.refund_failed",
            actor_id=attempt.requested_by,
            subject=f"check:{row.check_id}",
            reason=attempt.message,
            after={"refund_id": row.id},
        )
