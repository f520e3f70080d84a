"""Adjusting a card tip after the payment, and locking the day's tips."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks.attempts import _charge_reference
from app.checks.guards import _authorise, _format
from app.checks.models import Payment, Tender, TenderKind
from app.checks.services import TIP_ADJUSTED_TOPIC
from app.checks.terminal import PaymentTerminal, TerminalError, TerminalOutcome
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.db import Database
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.lib.outbox import enqueue
from app.staff.models import Staff
from app.staff.permissions import Perm

# ---------------------------------------------------------------------------------------------- tips


async def adjust_tip(
    db: Database,
    terminal: PaymentTerminal,
    *,
    payment_id: int,
    tip_cents: int,
    actor: Staff,
    approver: Staff | None = None,
) -> Payment:
    """Change the tip on a card payment before the business day closes; the terminal is told first."""
    if isinstance(tip_cents, bool) or tip_cents < 0:
        raise InvalidInput("A tip cannot be negative.")
    async with db.read() as session:
        payment, tender = await _tippable(session, payment_id, tip_cents, actor, approver)
        reference = await _charge_reference(session, payment)
    if tender.uses_terminal and reference:
        try:
            result = await terminal.adjust_tip(original_reference=reference, tip_cents=tip_cents)
        except (TerminalError, OSError, TimeoutError):
            raise Conflict("The terminal did not answer; the tip was not changed. Try again.") from None
        if result.outcome is not TerminalOutcome.APPROVED:
            raise Conflict(f"The terminal refused the new tip ({result.message}); the tip was not changed.")
    async with db.write() as session:
        payment, tender = await _tippable(session, payment_id, tip_cents, actor, approver)
        approved_by = _authorise(actor, approver, Perm.TIPS_ADJUST, "change a tip")
        before = payment.tip_cents
        payment.tip_cents = tip_cents
        payment.tip_adjusted_at = utcnow()
        payment.tip_adjusted_by = actor.id
        session.add(payment)
        await audit.record(
            session,
            "checks.tip_adjust",
            actor_id=actor.id,
            approver_id=approved_by if approved_by != actor.id else None,
            subject=f"check:{payment.check_id}",
            before={"payment_id": payment.id, "tip_cents": before},
            after={"payment_id": payment.id, "tip_cents": tip_cents},
        )
        await enqueue(
            session,
            TIP_ADJUSTED_TOPIC,
            {"check_id": payment.check_id, "payment_id": payment.id, "tip_cents": tip_cents, "previous": before},
            dedupe_key=f"{TIP_ADJUSTED_TOPIC}:{payment.id}:{payment.tip_adjusted_at.isoformat()}",
        )
        return payment


async def _tippable(
    session: AsyncSession, payment_id: int, tip_cents: int, actor: Staff, approver: Staff | None
) -> tuple[Payment, Tender]:
    payment = await session.get(Payment, payment_id)
    if payment is None:
        raise NotFound("That payment does not exist.")
    tender = await session.get(Tender, payment.tender_id)
    assert tender is not None
    _authorise(actor, approver, Perm.TIPS_ADJUST, "change a tip")
    if not tender.allows_tip:
        raise InvalidInput(f"Tips are not taken on {tender.name}.")
    if tender.kind is TenderKind.HOUSE_ACCOUNT:
        raise InvalidInput(
            "A house account charge's tip is set when it is charged (it is on the customer's statement); "
            "refund the charge and charge the account again to change it."
        )
    if payment.tips_locked_at is not None:
        raise Conflict("The business day of this payment is closed; its tip can no longer change.")
    if payment.refunded_cents:
        raise Conflict("This payment was refunded; its tip can no longer change.")
    if tip_cents > max(payment.amount_cents, 1) * 2:
        raise InvalidInput(f"A tip of {_format(tip_cents)} looks like a typing mistake; check it.")
    return payment, tender
