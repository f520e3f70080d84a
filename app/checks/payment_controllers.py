"""Taking a payment, resolving a terminal attempt, adjusting a tip, reopening and refunding a check."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.params import FromPath
from litestar.response import Template
from msgspec import Meta
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks import attempts, guards, payments, queries, tips
from app.checks import refunds as check_refunds
from app.checks.controller_helpers import (
    CheckForm,
    Id,
    ReasonForm,
    Req,
    UnsentForm,
    _settings,
    _viewer,
    actor,
    approver_for,
    command,
    command_post,
)
from app.checks.delivery import payment_terminal
from app.checks.models import AttemptStatus, RefundStatus, TenderKind
from app.checks.queries import CheckMoney
from app.checks.settle_controllers import _settle, _settle_context
from app.lib import forms, web
from app.lib.errors import InvalidInput
from app.lib.idempotency import check_key
from app.lib.manage import FORM
from app.staff.models import Staff
from app.staff.permissions import Perm


class PayForm(UnsentForm, kw_only=True):
    tender_id: Annotated[int, Meta(title="The tender", ge=1)]
    amount: Annotated[str, forms.Text(max_length=20, required=False)] = ""
    tendered: Annotated[str, forms.Text(max_length=20, required=False)] = ""
    tip: Annotated[str, forms.Text(max_length=20, required=False)] = ""
    portion_id: Annotated[int, Meta(title="The part", ge=1)] | None = None
    gift_card_number: Annotated[str, forms.Text(max_length=40, required=False)] = ""
    house_account_id: Annotated[int, Meta(title="The house account", ge=1)] | None = None


@command_post("/checks/{check_id:int}/pay", permission=Perm.PAYMENTS_TAKE)
async def pay(request: Req, db: web.Db, check_id: FromPath[int], data: Annotated[PayForm, FORM]) -> Template:
    """Take a payment; a double tap (the same key) is one payment."""
    viewer = _viewer(request)
    currency = _settings(request).currency

    def cents(raw: str, label: str, *, zero: bool = False) -> int | None:
        return guards.parse_cents(raw, label=label, currency=currency, allow_zero=zero) if raw else None

    # The tender is judged by the payment, under the check's lock: cash takes what was handed over (the amount
    # field when no "tendered" came), any other tender the amount.
    request_ = payments.PaymentRequest(
        check_id=check_id,
        tender_id=data.tender_id,
        actor=viewer.staff,
        idempotency_key=check_key(data.idempotency_key),
        amount_cents=cents(data.amount, "The amount"),
        tendered_cents=cents(data.tendered, "The cash handed over"),
        tip_cents=cents(data.tip, "The tip", zero=True) or 0,
        portion_id=data.portion_id,
        expected_version=data.version,
        device_id=viewer.device_id,
        unsent_confirmed=data.confirmed,
        gift_card_number=data.gift_card_number or None,
        house_account_id=data.house_account_id,
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


class TipForm(CheckForm, kw_only=True):
    tip: Annotated[str, forms.Text(max_length=20, required=False)] = ""


@command_post("/checks/{check_id:int}/pay/{payment_id:int}/tip", permission=Perm.PAYMENTS_TAKE)
async def tip_adjust(
    request: Req, db: web.Db, check_id: FromPath[int], payment_id: FromPath[int], data: Annotated[TipForm, FORM]
) -> Template:
    """Change the tip of a card payment before the business day closes."""
    approver = await approver_for(request, db, data.manager_pin)
    tip = guards.parse_cents(data.tip, label="The tip", currency=_settings(request).currency, allow_zero=True)
    async with db.read() as session:
        check = await queries.load_check(session, check_id)
        money = await queries.check_money(session, check)
    if not any(p.id == payment_id for p in money.payments):
        raise InvalidInput("That payment is not on this check; reload the page.")
    await tips.adjust_tip(
        db, payment_terminal(db), payment_id=payment_id, tip_cents=tip, actor=actor(request), approver=approver
    )
    return await _settle(request, db, check_id, flash="Tip changed.")


@command_post("/checks/{check_id:int}/reopen", permission=Perm.PAYMENTS_TAKE)
async def reopen(request: Req, db: web.Db, check_id: FromPath[int], data: Annotated[ReasonForm, FORM]) -> Template:
    """Reopen a closed check with a manager; the closing is reversed, not edited."""

    async def work(session: AsyncSession, approver: Staff | None) -> str:
        await check_refunds.reopen_check(
            session,
            check_id=check_id,
            actor=actor(request),
            reason=data.why,
            expected_version=data.version,
            approver=approver,
        )
        return "Check reopened."

    return await _settle(request, db, check_id, flash=await command(request, db, data, work))


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


class RefundForm(ReasonForm, kw_only=True):
    scope: Annotated[str, forms.Text(max_length=20, required=False)] = ""
    line_ids: Annotated[list[Id], Meta(title="The items")] = []
    payment_id: Annotated[int, Meta(title="The payment", ge=1)] | None = None


@command_post("/checks/{check_id:int}/refund", permission=Perm.PAYMENTS_TAKE)
async def refund(request: Req, db: web.Db, check_id: FromPath[int], data: Annotated[RefundForm, FORM]) -> Template:
    """Refund the whole check or chosen items, with a manager; card refunds go through the terminal."""
    approver = await approver_for(request, db, data.manager_pin)
    viewer = _viewer(request)
    refunds = await check_refunds.refund(
        db,
        payment_terminal(db),
        check_refunds.RefundRequest(
            check_id=check_id,
            actor=viewer.staff,
            reason=data.why,
            idempotency_key=check_key(data.idempotency_key),
            full=data.scope == "full",
            line_ids=tuple(data.line_ids),
            payment_id=data.payment_id,
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
