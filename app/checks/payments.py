"""Taking a payment on a check: cash, card through the terminal, gift card or house account."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks import payment_calculations
from app.checks.attempts import (
    PaymentOutcome,
    _ask_terminal,
    _book_payment,
    _booked,
    _new_reference,
    _outcome_for,
    _owe_recovery,
    _record_result,
    _settle_recovery,
)
from app.checks.events import GiftCardCharged
from app.checks.guards import _format, _refuse_unsent, _require_no_pending, _require_open, db_currency
from app.checks.models import AttemptKind, AttemptStatus, PaymentAttempt, Tender, TenderKind
from app.checks.queries import AttemptKeyTaken, check_money
from app.checks.terminal import PaymentTerminal
from app.house_accounts import services as house_accounts
from app.lib.clock import utcnow
from app.lib.db import Database
from app.lib.errors import Conflict, IdempotencyMismatch, InvalidInput
from app.lib.events import emit
from app.orders import services as orders
from app.staff.models import Staff

# ---------------------------------------------------------------------------------------------- payments


@dataclass(frozen=True)
class PaymentRequest:
    """What the server asked for on the pay screen."""

    check_id: int
    tender_id: int
    actor: Staff
    idempotency_key: str
    amount_cents: int | None = None
    tip_cents: int = 0
    tendered_cents: int | None = None
    portion_id: int | None = None
    expected_version: int | None = None
    device_id: int | None = None
    # The server saw that some items were never sent and chose to take the payment anyway.
    unsent_confirmed: bool = False
    # The house account (charge account) to charge, when the tender is a house account.
    house_account_id: int | None = None
    # The gift card's number, scanned or typed, when the tender is a gift card.
    gift_card_number: str | None = None


async def take_payment(db: Database, terminal: PaymentTerminal, request: PaymentRequest) -> PaymentOutcome:
    """Take a payment: record the attempt, ask the terminal if the tender uses one, record what it said.

    The same idempotency key twice (a double tap, a retried request) is one payment: the repeat finds the first
    attempt under the check's lock and answers with it.
    """
    try:
        async with db.write() as session:
            begun = await _begin_payment(session, request)
    except (IntegrityError, _TwinPayment):
        repeated = await _existing_attempt(db, request)
        if repeated is None:
            raise
        return repeated
    if begun.outcome is not None:
        return begun.outcome
    attempt = begun.attempt
    result = await _ask_terminal(terminal, attempt, db_currency(db))
    async with db.write() as session:
        await _settle_recovery(session, attempt, result)
        return await _record_result(session, attempt.id or 0, result, terminal_name=terminal.name, tender=begun.tender)


async def _existing_attempt(db: Database, request: PaymentRequest) -> PaymentOutcome | None:
    async with db.read() as session:
        attempt = (
            await session.exec(select(PaymentAttempt).where(PaymentAttempt.idempotency_key == request.idempotency_key))
        ).first()
        if attempt is None:
            return None
        if attempt.check_id != request.check_id or attempt.tender_id != request.tender_id:
            raise IdempotencyMismatch(
                "This payment was already sent with different details; reload the page and try again."
            )
        outcome = await _outcome_for(session, attempt)
    return PaymentOutcome(outcome.attempt, outcome.payment, outcome.closed, repeated=True)


class _TwinPayment(Exception):
    """The same payment form arrived twice at once; the twin that waited for the check answers as a repeat."""


@dataclass(frozen=True)
class _Begun:
    """An attempt just recorded, with its tender; its outcome too when no terminal had to be asked."""

    attempt: PaymentAttempt
    tender: Tender
    outcome: PaymentOutcome | None = None


async def _begin_payment(session: AsyncSession, request: PaymentRequest) -> _Begun:
    check = await orders.get_check_for_update(session, request.check_id)
    # Looked up under the check's lock, by the check's first read: a double tap's twin waited here for the first
    # tap to commit, and must answer as that payment, not as a stale check or a payment "still waiting for the
    # terminal". A retried request finds its payment here too.
    try:
        money = await check_money(session, check, attempt_key=request.idempotency_key)
    except AttemptKeyTaken:
        raise _TwinPayment from None
    _require_open(check, "take a payment")
    _require_no_pending(money)
    tender = await session.get(Tender, request.tender_id)
    if tender is None or tender.archived_at is not None:
        raise InvalidInput("That way of paying is not set up; choose another tender.")
    currency = money.currency
    due = money.due
    if due <= 0:
        raise Conflict(f"Check #{check.number} is already paid in full; close it instead. Nothing was charged.")
    target = due
    portion = None
    if request.portion_id is not None:
        portion = money.portion(request.portion_id)
        if portion is None:
            raise InvalidInput("That part of the split is not on this check any more; reload the check.")
        if portion.remaining <= 0:
            raise Conflict(f"{portion.label} is already paid. Nothing was charged.")
        target = min(portion.remaining, due)
    tip = request.tip_cents
    if tip < 0:
        raise InvalidInput("A tip cannot be negative.")
    if tip and not tender.allows_tip:
        raise InvalidInput(f"Tips are not taken on {tender.name}; cash tips are declared at checkout.")
    if tender.kind is TenderKind.HOUSE_ACCOUNT and request.house_account_id is None:
        raise InvalidInput("Choose the house account to charge. Nothing was charged.")
    if tender.kind is TenderKind.GIFT_CARD and not (request.gift_card_number or "").strip():
        raise InvalidInput("Scan or type the gift card's number. Nothing was charged.")
    tendered: int | None = None
    change = 0
    if tender.kind is TenderKind.CASH:
        tendered = request.tendered_cents if request.tendered_cents is not None else request.amount_cents
        if tendered is None or tendered <= 0:
            raise InvalidInput("Enter the cash the guest handed over.")
        amount = min(tendered, target)
        change = payment_calculations.change_due(target, tendered)
    else:
        amount = request.amount_cents if request.amount_cents is not None else target
        if amount <= 0:
            raise InvalidInput("The amount to pay must be more than zero.")
        if amount > target:
            what = portion.label if portion else f"check #{check.number}"
            raise InvalidInput(
                f"{_format(amount, currency)} is more than the {_format(target, currency)} due on {what}; "
                f"{tender.name} cannot be charged more than is due"
                + (" (add the extra as a tip)." if tender.allows_tip else ".")
                + " Nothing was charged."
            )
    if tip > max(amount, 1) * 2:
        raise InvalidInput(
            f"A tip of {_format(tip, currency)} on {_format(amount, currency)} looks like a typing mistake; "
            "check it. Nothing was charged."
        )
    if amount >= due:
        _refuse_unsent(money, confirmed=request.unsent_confirmed, nothing="Nothing was charged.")
    await orders.bump_version(session, check, request.expected_version)
    attempt = PaymentAttempt(
        kind=AttemptKind.CHARGE,
        check_id=check.id or 0,
        portion_id=request.portion_id,
        tender_id=tender.id or 0,
        reference=_new_reference(),
        idempotency_key=request.idempotency_key,
        amount_cents=amount,
        tip_cents=tip,
        tendered_cents=tendered,
        requested_by=request.actor.id or 0,
        device_id=request.device_id,
    )
    if not tender.uses_terminal:
        attempt.status = AttemptStatus.APPROVED
        attempt.resolved_at = utcnow()
    session.add(attempt)
    await session.flush()
    if tender.uses_terminal:
        _owe_recovery(session, attempt)
        return _Begun(attempt, tender)
    payment, paid = await _book_payment(session, attempt, tender, change_cents=change, result=None, held=money)
    if tender.kind is TenderKind.HOUSE_ACCOUNT:
        # Refused (and the whole payment with it) when the account is closed or the charge passes its limit.
        await house_accounts.charge(
            session,
            account_id=request.house_account_id,
            amount_cents=payment.amount_cents + payment.tip_cents,
            check_id=payment.check_id,
            check_number=check.number,
            payment_id=payment.id or 0,
            receivable_code=tender.ledger_account_code,
            actor_id=payment.taken_by,
        )
        payment.house_account_id = request.house_account_id
        session.add(payment)
    if tender.kind is TenderKind.GIFT_CARD:
        # Refused (and the whole payment with it) when the card cannot pay this much.
        await emit(
            session,
            GiftCardCharged(
                check_id=payment.check_id,
                payment_id=payment.id or 0,
                card_number=request.gift_card_number or "",
                amount_cents=payment.amount_cents + payment.tip_cents,
                staff_id=payment.taken_by,
            ),
        )
    return _Begun(attempt, tender, _booked(attempt, payment, paid))
