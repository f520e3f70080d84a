"""What promotions add to a check's posting and take back in a refund, and the per-promotion report.

A sale posts each promotion's amount on the promotions contra-revenue account (by role) with a `promotion`
dimension, and its check posting keeps, per promotion, the units sold under it, the amount it took off, the net
sales of those lines and of the rest of the check (`breakdown["promotions"]`). A reopened check's reversal
carries the same breakdown; a refund reverses the promotion of what it gives back exactly: a refunded line its
own promotion, a whole-check refund its share of every promotion by largest remainder, so that the refunds of
a check add back to what it posted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks import calculations as checks_calc
from app.checks.models import Refund, RefundLine, RefundStatus
from app.checks.queries import CheckMoney
from app.closes.models import CheckPosting, PostingKind
from app.lib.money import allocate


def sale_breakdown(money: CheckMoney) -> dict[str, dict[str, Any]]:
    """Per promotion used on the check: name, units, amount taken off, net of its lines, net of the rest."""
    counted = [line for line in money.totals.lines if line.status is not checks_calc.LineStatus.VOIDED]
    quantities = {line.id: line.quantity for line in money.lines}
    used = {line.promotion_id: line.promotion_name for line in counted if line.promotion_id is not None}
    result: dict[str, dict[str, Any]] = {}
    for rule_id, name in sorted(used.items()):
        promoted = [line for line in counted if line.promotion_id == rule_id]
        result[str(rule_id)] = {
            "name": name,
            "units": int(sum(quantities.get(line.line_id, 1) for line in promoted)),
            "cents": sum(line.promotion for line in promoted),
            "net": sum(line.net for line in promoted),
            "basket": sum(line.net for line in counted if line.promotion_id is None),
        }
    return result


@dataclass(frozen=True)
class RefundedPromotions:
    """What a refund takes back of promotions: by rule (for the contra account) and by category (for revenue)."""

    by_rule: Mapping[int, int]
    by_category: Mapping[int, int]
    names: Mapping[int, str]
    breakdown: Mapping[str, Mapping[str, Any]]


async def refunded(
    session: AsyncSession, money: CheckMoney, refund: Refund, rows: Sequence[RefundLine]
) -> RefundedPromotions:
    """The promotions a refund reverses."""
    counted = [line for line in money.totals.lines if line.status is not checks_calc.LineStatus.VOIDED]
    quantities = {line.id: line.quantity for line in money.lines}
    shares: dict[tuple[int, int], int] = {}
    units: dict[int, int] = {}
    nets: dict[int, int] = {}
    names: dict[int, str] = {}
    if refund.full:
        siblings = list(
            (
                await session.exec(
                    select(Refund)
                    .where(
                        Refund.check_id == refund.check_id,
                        col(Refund.full).is_(True),
                        Refund.status != RefundStatus.FAILED,
                    )
                    .order_by(col(Refund.id))
                )
            ).all()
        )
        position = [r.id for r in siblings].index(refund.id)
        weights = [r.amount_cents for r in siblings]
        whole: dict[tuple[int, int], int] = {}
        whole_net: dict[int, int] = {}
        for line in counted:
            if line.promotion and line.promotion_id is not None:
                key = (line.promotion_id, line.category_id)
                whole[key] = whole.get(key, 0) + line.promotion
                whole_net[line.promotion_id] = whole_net.get(line.promotion_id, 0) + line.net
                names[line.promotion_id] = line.promotion_name or "Promotion"
                if position == 0:
                    units[line.promotion_id] = units.get(line.promotion_id, 0) + int(quantities.get(line.line_id, 1))
        for key, amount in sorted(whole.items()):
            shares[key] = allocate(amount, weights)[position]
        for rule_id, amount in whole_net.items():
            nets[rule_id] = allocate(amount, weights)[position]
    else:
        by_id = {line.line_id: line for line in counted}
        for row in rows:
            refunded_line = by_id.get(row.line_id or 0)
            if refunded_line is None or not refunded_line.promotion or refunded_line.promotion_id is None:
                continue
            rule = refunded_line.promotion_id
            key = (rule, refunded_line.category_id)
            shares[key] = shares.get(key, 0) + refunded_line.promotion
            nets[rule] = nets.get(rule, 0) + refunded_line.net
            names[rule] = refunded_line.promotion_name or "Promotion"
            units[rule] = units.get(rule, 0) + int(quantities.get(refunded_line.line_id, 1))
    by_rule: dict[int, int] = {}
    by_category: dict[int, int] = {}
    for (rule_id, category_id), amount in shares.items():
        by_rule[rule_id] = by_rule.get(rule_id, 0) + amount
        by_category[category_id] = by_category.get(category_id, 0) + amount
    breakdown = {
        str(rule_id): {
            "name": names[rule_id],
            "units": units.get(rule_id, 0),
            "cents": amount,
            "net": nets.get(rule_id, 0),
        }
        for rule_id, amount in sorted(by_rule.items())
        if amount
    }
    return RefundedPromotions(
        by_rule={k: v for k, v in by_rule.items() if v},
        by_category={k: v for k, v in by_category.items() if v},
        names=names,
        breakdown=breakdown,
    )


# ---------------------------------------------------------------------------------------------- report


@dataclass(frozen=True)
class PromotionFigures:
    """One promotion over a range of business days."""

    promotion_id: int
    name: str
    checks: int
    units: int
    discount_cents: int
    promoted_net_cents: int
    basket_net_cents: int


async def promotion_report(session: AsyncSession, first: dt.date, last: dt.date) -> list[PromotionFigures]:
    """Per promotion: checks and units sold under it, what it gave, the net sales of its lines (sales lifted)
    and of the rest of those checks; reopened checks' reversals and refunds taken off."""
    postings = (
        await session.exec(
            select(CheckPosting).where(
                col(CheckPosting.business_day) >= first,
                col(CheckPosting.business_day) <= last,
                col(CheckPosting.kind).in_([PostingKind.SALE, PostingKind.REVERSAL, PostingKind.REFUND]),
            )
        )
    ).all()
    figures: dict[int, dict[str, Any]] = {}
    for posting in postings:
        promotions = (posting.breakdown or {}).get("promotions") or {}
        sign = 1 if posting.kind is PostingKind.SALE else -1
        for rule_id, row in promotions.items():
            into = figures.setdefault(
                int(rule_id), {"name": row.get("name", ""), "checks": 0, "units": 0, "cents": 0, "net": 0, "basket": 0}
            )
            if posting.kind is not PostingKind.REFUND:
                into["checks"] += sign
                into["net"] += sign * int(row.get("net", 0))
                into["basket"] += sign * int(row.get("basket", 0))
            else:
                into["net"] -= int(row.get("net", 0))
                if (posting.breakdown or {}).get("full") and int(row.get("units", 0)):
                    into["checks"] -= 1  # a whole check given back (its first refund carries the units)
            into["units"] += sign * int(row.get("units", 0))
            into["cents"] += sign * int(row.get("cents", 0))
    return [
        PromotionFigures(
            promotion_id=rule_id,
            name=row["name"],
            checks=row["checks"],
            units=row["units"],
            discount_cents=row["cents"],
            promoted_net_cents=row["net"],
            basket_net_cents=row["basket"],
        )
        for rule_id, row in sorted(figures.items(), key=lambda item: (-item[1]["cents"], item[0]))
    ]
