"""Taking a payment, resolving a terminal attempt, adjusting a tip, reopening and refunding a check."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.params import FromPath
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks import attempts, guards, payments, queries, tips
from app.checks import refunds as check_refunds
from app.checks.controller_helpers import (
    Req,
    _approver,
    _int_list,
    _once,
    _optional_int,
    _reason,
    _settings,
    _version,
    _viewer,
)
from app.checks.delivery import payment_terminal
from app.checks.models import AttemptStatus, RefundStatus, TenderKind
from app.checks.queries import CheckMoney
from app.checks.settle_controllers import _confirmed, _settle, _settle_context
from app.lib import web
from app.lib.errors import InvalidInput
from app.lib.idempotency import check_key
from app.staff.permissions import Perm


@post("/checks/{check_id:int}/pay", permission=Perm.PAYMENTS_TAKE, include_in_schema=False)
async def pay(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
    """Take a payment; a double tap (the same key) is one payment."""
    fields = await web.form_data(request)
    viewer = _viewer(request)
    settings = _settings(request)
    tender_id = web.field_int(fields, "tender_id", label="The tender", minimum=1)

    def cents(name: str, label: str, *, zero: bool = False) -> int | None:
        raw = str(fields.get(name) or "").strip()
        if not raw:
            return None
        return guards.parse_cents(raw, label=label, currency=settings.currency, allow_zero=zero)

    # The tender is judged by the payment, under the check's lock: cash takes what was handed over (the amount
    # field when no "tendered" came), any other tender the amount.
    request_ = payments.PaymentRequest(
        check_id=check_id,
        tender_id=tender_id,
        actor=viewer.staff,
        idempotency_key=check_key(str(fields.get("idempotency_key") or "")),
        amount_cents=cents("amount", "The amount"),
        tendered_cents=cents("tendered", "The cash handed over"),
        tip_cents=cents("tip", "The tip", zero=True) or 0,
        portion_id=_optional_int(fields, "portion_id", "The part"),
        expected_version=_version(fields),
        device_id=viewer.device_id,
        unsent_confirmed=_confirmed(fields),
        gift_card_number=str(fields.get("gift_card_number") or "") or None,
        house_account_id=_optional_int(fields, "house_account_id", "The house account"),
    )
    outcome = await payments.take_payment(db, payment_terminal(db), request_)
    level = "info" if outcome.attempt.status is AttemptStatus.APPROVED else "error"
    flash = outcome.message
    taken = outcome.payment
    if taken is not None and taken.card_last4 and outcome.money is not None:
        tender = outcome.money.tenders.get(taken.tender_id)
        if tender is not None and tender.kind is TenderKind.GIFT_CARD:
            async with db.read() as session:
                flash = " ".join([flash, *await queries.payment_notes(session, taken)])
    return await _settle(request, db, check_id, flash=flash, level=level, money=outcome.money)


@post(
    "/checks/{check_id:int}/pay/attempts/{attempt_id:int}/resolve",
    permission=Perm.PAYMENTS_TAKE,
    include_in_schema=False,
)
async def resolve(request: Req, db: web.Db, check_id: FromPath[int], attempt_id: FromPath[int]) -> Template:
    """Ask the terminal what became of a payment that got no answer."""
    outcome = await attempts.resolve_attempt(db, payment_terminal(db), attempt_id)
    if outcome.attempt.check_id != check_id:
        raise InvalidInput("That payment belongs to another check.")
    message = outcome.message
    if outcome.attempt.status is AttemptStatus.PENDING:
        message = "The terminal still does not answer; nothing was charged twice. Try again in a moment."
    level = "info" if outcome.attempt.status is AttemptStatus.APPROVED else "error"
    return await _settle(request, db, check_id, flash=message, level=level)


@post("/checks/{check_id:int}/pay/{payment_id:int}/tip", permission=Perm.PAYMENTS_TAKE, include_in_schema=False)
async def tip_adjust(request: Req, db: web.Db, check_id: FromPath[int], payment_id: FromPath[int]) -> Template:
    """Change the tip of a card payment before the business day closes."""
    fields = await web.form_data(request)
    approver = await _approver(request, db, fields)
    settings = _settings(request)
    tip = guards.parse_cents(str(fields.get("tip") or ""), label="The tip", currency=settings.currency, allow_zero=True)
    async with db.read() as session:
        check = await queries.load_check(session, check_id)
        money = await queries.check_money(session, check)
    if not any(p.id == payment_id for p in money.payments):
        raise InvalidInput("That payment is not on this check; reload the page.")
    await tips.adjust_tip(
        db, payment_terminal(db), payment_id=payment_id, tip_cents=tip, actor=_viewer(request).staff, approver=approver
    )
    return await _settle(request, db, check_id, flash="Tip changed.")


@post("/checks/{check_id:int}/reopen", permission=Perm.PAYMENTS_TAKE, include_in_schema=False)
async def reopen(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
    """Reopen a closed check with a manager; the closing is reversed, not edited."""
    fields = await web.form_data(request)
    approver = await _approver(request, db, fields)
    actor = _viewer(request).staff

    async def work(session: AsyncSession) -> str:
        await check_refunds.reopen_check(
            session,
            check_id=check_id,
            actor=actor,
            reason=_reason(fields),
            expected_version=_version(fields),
            approver=approver,
        )
        return "Check reopened."

    return await _settle(request, db, check_id, flash=await _once(request, db, fields, work))


async def _refund_context(session: AsyncSession, request: Req, check_id: int) -> dict[str, Any]:
    context = await _settle_context(session, request, check_id)
    money: CheckMoney = context["m"]
    refunded = await queries.refund_lines(
        session, [r.id or 0 for r in money.refunds if r.status is not RefundStatus.FAILED]
    )
    context["refunded_line_ids"] = {line.line_id for line in refunded if line.line_id is not None}
    return context


@get("/checks/{check_id:int}/refund", permission=Perm.PAYMENTS_TAKE, include_in_schema=False)
async def refund_page(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
    """The refund form: the whole check, or chosen items back to one payment."""
    async with db.read() as session:
        context = await _refund_context(session, request, check_id)
    return web.page(request, "checks/refund.html", fragment="checks/_refund.html", flash="", **context)


@post("/checks/{check_id:int}/refund", permission=Perm.PAYMENTS_TAKE, include_in_schema=False)
async def refund(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
    """Refund the whole check or chosen items, with a manager; card refunds go through the terminal."""
    fields = await web.form_data(request)
    approver = await _approver(request, db, fields)
    viewer = _viewer(request)
    refunds = await check_refunds.refund(
        db,
        payment_terminal(db),
        check_refunds.RefundRequest(
            check_id=check_id,
            actor=viewer.staff,
            reason=_reason(fields),
            idempotency_key=check_key(str(fields.get("idempotency_key") or "")),
            full=str(fields.get("scope") or "") == "full",
            line_ids=tuple(_int_list(fields, "line_ids", "The items")),
            payment_id=_optional_int(fields, "payment_id", "The payment"),
            approver=approver,
            device_id=viewer.device_id,
        ),
    )
    done = sum(r.amount_cents + r.tip_cents for r in refunds if r.status is RefundStatus.COMPLETED)
    failed = [r for r in refunds if r.status is not RefundStatus.COMPLETED]
    message = f"Refunded {web.money(done)}."
    if failed:
        message += " A card refund did not go through; see the refunds below."
    async with db.read() as session:
        context = await _refund_context(session, request, check_id)
    return web.page(
        request,
        "checks/refund.html",
        fragment="checks/_refund.html",
        flash=message,
        flash_level="error" if failed else "info",
        **context,
    )
