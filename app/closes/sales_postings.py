"""Posting a closed check (revenue, promotions, tax, tips, tenders, cost of goods) and taking it back on reopening."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from fractions import Fraction
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.reversals import reverse_entry
from app.accounting.services import post_entry
from app.checks import services as checks
from app.checks.models import CheckClosing, Payment
from app.checks.queries import check_money, settings_of
from app.closes import calculations as calc
from app.closes import promotion_postings
from app.closes.models import CheckPosting, PostingKind
from app.closes.posting_base import (
    SOURCE_TYPE,
    PostingProblem,
    _names_of,
    _posting_lines,
    posting_day,
    posting_for,
    resolve_accounts,
)
from app.closes.stock_postings import _stock_lines, settings_waste, waste_voided_line
from app.giftcards import services as giftcards
from app.inventory import services as inventory
from app.lib.clock import utcnow
from app.lib.outbox import RetryLater
from app.orders.models import Check, LineState


def _stock_json(lines: Sequence[inventory.SaleLine]) -> list[dict[str, Any]]:
    return [
        {
            "menu_item_id": line.menu_item_id,
            "modifier_ids": list(line.modifier_ids),
            "num": Fraction(line.quantity).numerator,
            "den": Fraction(line.quantity).denominator,
            "location_id": line.location_id,
        }
        for line in lines
    ]


def _stock_from_json(raw: Sequence[Mapping[str, Any]]) -> list[inventory.SaleLine]:
    return [
        inventory.SaleLine(
            int(item["menu_item_id"]),
            tuple(int(m) for m in item["modifier_ids"]),
            Fraction(int(item["num"]), int(item["den"])),
            int(item["location_id"]),
        )
        for item in raw
    ]


# ---------------------------------------------------------------------------------------------- closed checks


# The check and its n-th closing: built once, as every statement of a delivery (see app/lib/outbox.py).
_CLOSED_CHECK = (
    select(Check, CheckClosing)
    .join(CheckClosing, col(CheckClosing.check_id) == col(Check.id))
    .where(Check.id == bindparam("check_id"), CheckClosing.sequence == bindparam("sequence"))
)


async def post_closing(session: AsyncSession, payload: Mapping[str, Any]) -> CheckPosting:
    """A check's n-th closing: revenue, contra revenue, tax, service charge, tips, tenders, COGS; stock out."""
    check_id, sequence = int(payload["check_id"]), int(payload["sequence"])
    key = f"close:{check_id}:{sequence}"
    found = (await session.exec(_CLOSED_CHECK, params={"check_id": check_id, "sequence": sequence})).first()
    if found is None:
        raise PostingProblem(f"Check {check_id} has no closing number {sequence}; nothing can be posted for it.")
    check, closing = found
    settings = settings_of(session)
    own_day = checks.business_day(settings, closing.closed_at)
    day = await posting_day(session, own_day)
    if closing.reopened_at is not None:
        # Reopened before it reached the books: its closing and its reversal cancel out, so neither posts.
        posting = CheckPosting(
            source_key=key,
            kind=PostingKind.SALE,
            check_id=check_id,
            server_id=check.server_id,
            business_day=own_day,
            posted_day=day,
            late=day != own_day,
            note="reopened before it was posted; nothing to post",
        )
        session.add(posting)
        await session.flush()
        return posting
    money = await check_money(session, check)
    sold = [line for line in money.lines if line.state is not LineState.VOIDED]
    stock_lines = await _stock_lines(session, sold, modifiers_of=money.modifiers)
    figures = calc.sale_figures(money.totals, [(p.tender_id, p.amount_cents, p.tip_cents) for p in money.payments])
    if figures.imbalance:
        raise PostingProblem(
            f"Check #{check.number} took {figures.takings / 100:.2f} but owed {figures.total / 100:.2f} "
            f"plus {figures.tips / 100:.2f} in tips; it cannot be posted until its payments match."
        )
    roles = ["discounts", "comps", "service_charge", "tips_payable"] + (["promotions"] if figures.promotions else [])
    if stock_lines:
        roles += ["cogs", "inventory"]
    names = await _names_of(
        session,
        categories=figures.gross_by_category,
        tax_rates=figures.tax_by_rate,
        tenders=figures.takings_by_tender,
        held_rates=money.tax_rates,
        held_tenders=money.tenders,
    )
    # Gift cards sold are no sale: the Z report counts them apart from net sales.
    gift_category = giftcards.sale_category_of(sold)
    accounts = await resolve_accounts(
        session,
        gift_category=gift_category,
        category_ids=list(figures.gross_by_category),
        rate_ids=[r for r, tax in figures.tax_by_rate.items() if tax],
        tender_ids=list(figures.takings_by_tender),
        roles=roles,
        names=names,
    )
    stock_key = f"sale:check:{check_id}:{sequence}"
    cost = 0
    if stock_lines:
        moves = await inventory.deplete_for_sale(session, source_key=stock_key, lines=stock_lines)
        cost = inventory.total_cost_cents(moves)
    figures = replace(figures, cost=cost)
    lines = _by_house_account(calc.sale_entry(figures, accounts, labels=names.labels()), money.payments)
    entry_id = None
    if len(lines) >= 2:
        entry = await post_entry(
            session,
            date=day,
            description=f"Check #{check.number} closed" + (f" (closing {sequence})" if sequence > 1 else ""),
            lines=_posting_lines(lines),
            source_type=SOURCE_TYPE,
            source_id=f"{check_id}:{sequence}",
            idempotency_key=f"check-close:{check_id}:{sequence}",
        )
        entry_id = entry.id
    gift_gross = figures.gross_by_category.get(gift_category, 0) if gift_category is not None else 0
    gift_net = figures.net_by_category.get(gift_category, 0) if gift_category is not None else 0
    voided_after_send = [line for line in money.lines if line.state is LineState.VOIDED and line.sent_at is not None]
    void_ids = {line.id for line in voided_after_send}
    voids_cents = sum(t.void for t in money.totals.lines if t.line_id in void_ids)
    posting = CheckPosting(
        source_key=key,
        kind=PostingKind.SALE,
        check_id=check_id,
        server_id=check.server_id,
        entry_id=entry_id,
        stock_operation_key=stock_key if stock_lines else None,
        business_day=own_day,
        posted_day=day,
        late=day != own_day,
        gross_cents=figures.gross - gift_gross,
        voids_cents=voids_cents,
        void_count=len(voided_after_send),
        discounts_cents=figures.discounts,
        discount_count=len(money.discounts),
        comps_cents=figures.comps,
        comp_count=len(money.comps),
        net_sales_cents=figures.net_sales - gift_net,
        service_charge_cents=figures.service_charge,
        tax_cents=figures.tax,
        tips_cents=figures.tips,
        total_cents=figures.total,
        cost_cents=cost,
        covers=check.covers,
        breakdown={
            "gross_by_category": {str(k): v for k, v in figures.gross_by_category.items() if k != gift_category},
            "net_by_category": {str(k): v for k, v in figures.net_by_category.items() if k != gift_category},
            "gift_cards_sold": gift_gross,
            "tax_by_rate": {str(k): v for k, v in figures.tax_by_rate.items()},
            "tax_base_by_rate": {str(t.rate.id): t.taxable_base for t in money.totals.taxes},
            "takings_by_tender": {str(k): v for k, v in figures.takings_by_tender.items()},
            "count_by_tender": _count_by_tender(money.payments),
            "payment_tips": {str(p.id): p.tip_cents for p in money.payments},
            "stock_lines": _stock_json(stock_lines),
            "closed_at": closing.closed_at.isoformat(),
            "promotions": promotion_postings.sale_breakdown(money),
        },
        note=f"belongs to {own_day.isoformat()}, which was closed" if day != own_day else None,
    )
    session.add(posting)
    await session.flush()
    if settings_waste(settings):
        for line in voided_after_send:
            await waste_voided_line(session, line)
    return posting


def _by_house_account(lines: Sequence[calc.EntryLine], payments: Sequence[Payment]) -> list[calc.EntryLine]:
    """The tender lines of house-account payments split per account, each with its `house_account` dimension.

    The receivable is then a sub-ledger: its lines for one account add up to that account's balance.
    """
    per_tender: dict[str, dict[int, int]] = {}
    for payment in payments:
        if payment.house_account_id is not None:
            accounts = per_tender.setdefault(str(payment.tender_id), {})
            accounts[payment.house_account_id] = accounts.get(payment.house_account_id, 0) + payment.charged_cents
    if not per_tender:
        return list(lines)
    result: list[calc.EntryLine] = []
    for line in lines:
        charged = per_tender.get(line.dimensions.get("tender", ""))
        if not charged:
            result.append(line)
            continue
        sign = 1 if line.amount_cents > 0 else -1
        left = line.amount_cents
        for account_id, cents in sorted(charged.items()):
            # A refund's line gives back part of one payment: it carries the account, for its own amount.
            part = sign * min(cents, abs(left))
            if part:
                result.append(
                    replace(line, amount_cents=part, dimensions={**line.dimensions, "house_account": str(account_id)})
                )
                left -= part
        if left:
            result.append(replace(line, amount_cents=left))
    return result


def _count_by_tender(payments: Sequence[Payment]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for payment in payments:
        counts[str(payment.tender_id)] = counts.get(str(payment.tender_id), 0) + 1
    return counts


# ---------------------------------------------------------------------------------------------- reopen


async def post_reopening(session: AsyncSession, payload: Mapping[str, Any]) -> CheckPosting:
    """A reopened check: its closing's entry reversed on an open day, and its stock put back (it will sell again)."""
    check_id, sequence = int(payload["check_id"]), int(payload["sequence"])
    key = f"reopen:{check_id}:{sequence}"
    sale = await posting_for(session, f"close:{check_id}:{sequence}")
    if sale is None:
        raise RetryLater(f"closing {sequence} of check {check_id} is not posted yet", delay=10.0)
    closing = (
        await session.exec(
            select(CheckClosing).where(CheckClosing.check_id == check_id, CheckClosing.sequence == sequence)
        )
    ).first()
    settings = settings_of(session)
    moment = closing.reopened_at if closing is not None and closing.reopened_at else utcnow()
    own_day = checks.business_day(settings, moment)
    day = await posting_day(session, own_day)
    reason = (closing.reopen_reason if closing is not None else None) or "check reopened"
    if sale.entry_id is not None:
        await reverse_entry(session, sale.entry_id, f"Check reopened: {reason}"[:200], date=day)
        for tip in await _tip_postings(session, check_id, sequence):
            if tip.entry_id is not None:
                await reverse_entry(session, tip.entry_id, "Check reopened", date=day)
    if sale.stock_operation_key and sale.breakdown.get("stock_lines"):
        await inventory.return_for_refund(
            session,
            source_key=f"reopen:check:{check_id}:{sequence}",
            lines=_stock_from_json(sale.breakdown["stock_lines"]),
            resaleable=True,
            sale_source_key=sale.stock_operation_key,
        )
    tips = sale.tips_cents + sum(t.tips_cents for t in await _tip_postings(session, check_id, sequence))
    takings = dict(sale.breakdown.get("takings_by_tender", {}))
    for tip in await _tip_postings(session, check_id, sequence):
        for tender, amount in tip.breakdown.get("takings_by_tender", {}).items():
            takings[tender] = takings.get(tender, 0) + amount
    posting = CheckPosting(
        source_key=key,
        kind=PostingKind.REVERSAL,
        check_id=check_id,
        server_id=sale.server_id,
        entry_id=None,
        business_day=own_day,
        posted_day=day,
        late=day != own_day,
        gross_cents=sale.gross_cents,
        voids_cents=sale.voids_cents,
        void_count=sale.void_count,
        discounts_cents=sale.discounts_cents,
        discount_count=sale.discount_count,
        comps_cents=sale.comps_cents,
        comp_count=sale.comp_count,
        net_sales_cents=sale.net_sales_cents,
        service_charge_cents=sale.service_charge_cents,
        tax_cents=sale.tax_cents,
        tips_cents=tips,
        total_cents=sale.total_cents,
        cost_cents=sale.cost_cents,
        covers=sale.covers,
        breakdown={**sale.breakdown, "takings_by_tender": takings, "reverses": sale.source_key},
        note=f"reverses {sale.source_key}: {reason}"[:200],
    )
    if sale.entry_id is not None:
        from app.accounting.reversals import reversal_of

        reversal = await reversal_of(session, sale.entry_id)
        posting.entry_id = reversal.id if reversal is not None else None
    session.add(posting)
    await session.flush()
    return posting


async def _tip_postings(session: AsyncSession, check_id: int, sequence: int) -> list[CheckPosting]:
    rows = (
        await session.exec(
            select(CheckPosting).where(CheckPosting.check_id == check_id, CheckPosting.kind == PostingKind.TIP_ADJUST)
        )
    ).all()
    return [row for row in rows if row.breakdown.get("closing") == sequence]
