"""Posting a refund (and putting refunded goods back in stock) and a tip adjusted after closing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.services import PostingLine, post_entry
from app.checks import services as checks
from app.checks.models import Payment, Refund, RefundLine, RefundStatus
from app.checks.queries import check_money, settings_of
from app.closes import calculations as calc
from app.closes import promotion_postings
from app.closes.models import CheckPosting, PostingKind
from app.closes.posting_base import (
    SOURCE_TYPE,
    TIP_ADJUSTED_TOPIC,
    PostingProblem,
    _posting_lines,
    posting_day,
    posting_for,
    resolve_accounts,
    source_key,
    subject_names,
)
from app.closes.sales_postings import _by_house_account, _tip_postings
from app.closes.stock_postings import _stock_lines
from app.giftcards import services as giftcards
from app.inventory import services as inventory
from app.lib.clock import utcnow
from app.orders.models import Check, CheckLine, LineState

# ---------------------------------------------------------------------------------------------- refunds


async def post_refund(session: AsyncSession, payload: Mapping[str, Any]) -> CheckPosting:
    """A refund: revenue, tax, service charge and tip reversed against the tender it was paid back on."""
    refund_id = int(payload["refund_id"])
    refund = await session.get(Refund, refund_id)
    if refund is None or refund.status is not RefundStatus.COMPLETED:
        raise PostingProblem(f"Refund {refund_id} is not completed; nothing can be posted for it.")
    check = await session.get(Check, refund.check_id)
    assert check is not None
    rows = (
        await session.exec(select(RefundLine).where(RefundLine.refund_id == refund_id).order_by(col(RefundLine.id)))
    ).all()
    net: dict[int, int] = {}
    tax: dict[int, int] = {}
    service = 0
    for row in rows:
        if row.category_id is not None:
            net[row.category_id] = net.get(row.category_id, 0) + row.net_cents
        else:
            service += row.net_cents
        if row.tax_rate_id is not None and row.tax_cents:
            tax[row.tax_rate_id] = tax.get(row.tax_rate_id, 0) + row.tax_cents
    figures = calc.RefundFigures(
        net_by_category=net,
        tax_by_rate=tax,
        service_charge=service,
        tip=refund.tip_cents,
        tender_id=refund.tender_id,
        amount=refund.amount_cents,
    )
    if figures.imbalance:
        raise PostingProblem(
            f"Refund {refund_id} on check #{check.number} gave back {refund.amount_cents / 100:.2f} but its lines "
            f"account for {(refund.amount_cents - figures.imbalance) / 100:.2f}; it cannot be posted as it is."
        )
    promoted = await promotion_postings.refunded(session, await check_money(session, check), refund, rows)
    figures = replace(
        figures,
        promotions_by_rule=promoted.by_rule,
        promotions_by_category=promoted.by_category,
        promotion_names=promoted.names,
    )
    roles = ["service_charge"] if service else []
    if promoted.by_rule:
        roles.append("promotions")
    if figures.tip:
        roles.append("tips_payable")
    accounts = await resolve_accounts(
        session,
        category_ids=sorted({*net, *promoted.by_category}),
        rate_ids=list(tax),
        tender_ids=[refund.tender_id],
        roles=roles,
    )
    settings = settings_of(session)
    own_day = checks.business_day(settings, refund.completed_at or refund.created_at)
    day = await posting_day(session, own_day)
    names = await subject_names(session)
    entry = await post_entry(
        session,
        date=day,
        description=f"Refund on check #{check.number}: {refund.reason}"[:200],
        lines=_posting_lines(
            _by_house_account(
                calc.refund_entry(figures, accounts, labels=names.labels()),
                [payment] if (payment := await session.get(Payment, refund.payment_id)) else [],
            )
        ),
        source_type="refund",
        source_id=str(refund_id),
        idempotency_key=f"check-refund:{refund_id}",
    )
    # A card's sale refunded is no sale refunded: the Z report counts it with the gift cards sold.
    gift_category = await giftcards.sale_category_id(session)
    gift_refunded = net.get(gift_category, 0) if gift_category is not None else 0
    posting = CheckPosting(
        source_key=f"refund:{refund_id}",
        kind=PostingKind.REFUND,
        check_id=check.id,
        server_id=check.server_id,
        entry_id=entry.id,
        business_day=own_day,
        posted_day=day,
        late=day != own_day,
        gross_cents=figures.net_sales + sum(promoted.by_rule.values()) - gift_refunded,
        net_sales_cents=figures.net_sales - gift_refunded,
        service_charge_cents=figures.service_charge,
        tax_cents=figures.tax,
        tips_cents=figures.tip,
        total_cents=figures.amount,
        breakdown={
            "gross_by_category": {
                str(k): net.get(k, 0) + promoted.by_category.get(k, 0)
                for k in sorted({*net, *promoted.by_category})
                if k != gift_category
            },
            "net_by_category": {str(k): v for k, v in net.items() if k != gift_category},
            "gift_cards_sold": gift_refunded,
            "tax_by_rate": {str(k): v for k, v in tax.items()},
            "takings_by_tender": {str(refund.tender_id): refund.amount_cents + refund.tip_cents},
            "count_by_tender": {str(refund.tender_id): 1},
            "line_ids": [row.line_id for row in rows if row.line_id is not None],
            "full": refund.full,
            "reason": refund.reason,
            "promotions": dict(promoted.breakdown),
        },
        note=refund.reason[:200],
    )
    session.add(posting)
    await session.flush()
    if payload.get("resaleable") or getattr(refund, "resaleable", False):
        await return_refund_to_stock(session, refund_id)
    return posting


async def return_refund_to_stock(session: AsyncSession, refund_id: int, *, actor_id: int | None = None) -> CheckPosting:
    """Refunded items that can be sold again go back on the shelf, and their cost comes off COGS; once."""
    key = f"refund-stock:{refund_id}"
    existing = await posting_for(session, key)
    if existing is not None:
        return existing
    refund_posting = await posting_for(session, f"refund:{refund_id}")
    if refund_posting is None:
        raise PostingProblem("This refund is not in the books yet; post it before returning its items to stock.")
    refund = await session.get(Refund, refund_id)
    assert refund is not None
    line_ids = [int(i) for i in refund_posting.breakdown.get("line_ids", [])]
    query = select(CheckLine).where(CheckLine.check_id == refund.check_id, CheckLine.state != LineState.VOIDED)
    if line_ids:
        query = query.where(col(CheckLine.id).in_(line_ids))
    lines = list((await session.exec(query.order_by(col(CheckLine.id)))).all())
    stock_lines = await _stock_lines(session, lines)
    settings = settings_of(session)
    own_day = checks.business_day(settings, utcnow())
    day = await posting_day(session, own_day)
    cost = 0
    entry_id = None
    if stock_lines:
        accounts = await resolve_accounts(session, roles=["cogs", "inventory"])
        sale = (
            await session.exec(
                select(CheckPosting)
                .where(CheckPosting.check_id == refund.check_id, CheckPosting.kind == PostingKind.SALE)
                .order_by(col(CheckPosting.id).desc())
            )
        ).first()
        moves = await inventory.return_for_refund(
            session,
            source_key=key,
            lines=stock_lines,
            resaleable=True,
            sale_source_key=sale.stock_operation_key if sale is not None else None,
            actor_id=actor_id,
        )
        cost = inventory.total_cost_cents(moves)
        if cost:
            entry = await post_entry(
                session,
                date=day,
                description=f"Refund {refund_id}: items back in stock",
                lines=_posting_lines(
                    calc.cost_entry(cost, accounts.roles["cogs"], accounts.roles["inventory"], "Returned to stock")
                ),
                source_type="refund",
                source_id=f"{refund_id}:stock",
                idempotency_key=key,
                actor_id=actor_id,
            )
            entry_id = entry.id
    posting = CheckPosting(
        source_key=key,
        kind=PostingKind.STOCK_RETURN,
        check_id=refund.check_id,
        entry_id=entry_id,
        stock_operation_key=key if stock_lines else None,
        business_day=own_day,
        posted_day=day,
        late=False,
        cost_cents=cost,
        breakdown={"refund_id": refund_id},
    )
    session.add(posting)
    await session.flush()
    return posting


# ---------------------------------------------------------------------------------------------- tips


async def post_tip_adjustment(session: AsyncSession, payload: Mapping[str, Any]) -> CheckPosting | None:
    """A tip changed after its check was posted: the difference moves between the tender and tips payable."""
    payment = await session.get(Payment, int(payload["payment_id"]))
    if payment is None:
        raise PostingProblem(f"Payment {payload['payment_id']} does not exist; its tip change cannot be posted.")
    sales = (
        await session.exec(
            select(CheckPosting)
            .where(CheckPosting.check_id == payment.check_id, CheckPosting.kind == PostingKind.SALE)
            .order_by(col(CheckPosting.id).desc())
        )
    ).all()
    live = None
    for sale in sales:
        if await posting_for(session, sale.source_key.replace("close:", "reopen:", 1)) is None:
            live = sale
            break
    key = source_key(TIP_ADJUSTED_TOPIC, payload)
    if live is None or live.entry_id is None:
        # Not in the books yet: the check's closing will post the tip as it is now.
        return None
    sequence = int(live.source_key.rsplit(":", 1)[1])
    posted = int(live.breakdown.get("payment_tips", {}).get(str(payment.id), 0))
    posted += sum(
        t.tips_cents
        for t in await _tip_postings(session, payment.check_id, sequence)
        if t.breakdown.get("payment_id") == payment.id
    )
    difference = payment.tip_cents - posted
    if difference == 0:
        return None
    accounts = await resolve_accounts(session, tender_ids=[payment.tender_id], roles=["tips_payable"])
    own_day = live.posted_day
    day = await posting_day(session, own_day)
    check = await session.get(Check, payment.check_id)
    entry = await post_entry(
        session,
        date=day,
        description=f"Tip adjusted on check #{check.number if check else payment.check_id}",
        lines=[
            PostingLine(
                accounts.tender[payment.tender_id], difference, "Tip adjustment", {"tender": str(payment.tender_id)}
            ),
            PostingLine(accounts.roles["tips_payable"], -difference, "Tip adjustment"),
        ],
        source_type=SOURCE_TYPE,
        source_id=f"{payment.check_id}:tip:{payment.id}",
        idempotency_key=f"check-{key}",
    )
    posting = CheckPosting(
        source_key=key,
        kind=PostingKind.TIP_ADJUST,
        check_id=payment.check_id,
        server_id=live.server_id,
        entry_id=entry.id,
        business_day=own_day,
        posted_day=day,
        late=day != own_day,
        tips_cents=difference,
        breakdown={
            "payment_id": payment.id,
            "closing": sequence,
            "takings_by_tender": {str(payment.tender_id): difference},
        },
    )
    session.add(posting)
    await session.flush()
    return posting
