"""Pricing one check from the database: its lines with their modifiers, promotions and tax rates, its discounts,
comps and service charge waiver, turned into the inputs of the one totals computation (calculations.py).

A check's lines come in one statement that also says which of the check's other rows exist (adjustments,
payments, attempts, refunds, parts, checks split from it), so a plain check is priced with one read and only
the rows that exist are read after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import BindParameter, Integer, bindparam, exists, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks import calculations as calc
from app.checks.models import (
    AdjustmentKind,
    AttemptStatus,
    CheckComp,
    CheckDiscount,
    CheckPortion,
    Payment,
    PaymentAttempt,
    Refund,
    ServiceChargeWaiver,
)
from app.floor.models import DiningTable
from app.lib.settings import Settings
from app.menu.models import TaxRate
from app.orders import live
from app.orders.models import Check, CheckLine, LineModifier, LineState
from app.promotions.models import LinePromotion


@dataclass(frozen=True)
class Present:
    """Which of a check's other rows exist, as its pricing statement found them."""

    discounts: bool = True
    comps: bool = True
    waiver: bool = True
    children: bool = True
    payments: bool = True
    pending: bool = True
    refunds: bool = True
    portions: bool = True
    # The payment attempt recorded under the idempotency key asked about, if any.
    keyed_attempt_id: int | None = None
    # The floor of the check's table (None for a tab), so a write's live update tells that floor without a read.
    floor_id: int | None = None


_CHECK: BindParameter[int] = bindparam("check_id")
_ATTEMPT_KEY: BindParameter[str] = bindparam("attempt_key")
_TABLE: BindParameter[int | None] = bindparam("table_id", type_=Integer())
_LINE_IDS = select(CheckLine.id).where(col(CheckLine.check_id) == _CHECK)

# A line keeps its discount or comp when a split moves it to another check, so those are found by line; the ones
# on the whole check by the check.
_ON_DISCOUNT = ((col(CheckDiscount.check_id) == _CHECK) & col(CheckDiscount.line_id).is_(None)) | col(
    CheckDiscount.line_id
).in_(_LINE_IDS)
_ON_COMP = ((col(CheckComp.check_id) == _CHECK) & col(CheckComp.line_id).is_(None)) | col(CheckComp.line_id).in_(
    _LINE_IDS
)
_PRESENT: tuple[Any, ...] = (
    exists().where(_ON_DISCOUNT, col(CheckDiscount.removed_at).is_(None)).label("has_discounts"),
    exists().where(_ON_COMP, col(CheckComp.removed_at).is_(None)).label("has_comps"),
    exists()
    .where(col(ServiceChargeWaiver.check_id) == _CHECK, col(ServiceChargeWaiver.removed_at).is_(None))
    .label("has_waiver"),
    exists().where(col(Check.split_from_id) == _CHECK).label("has_children"),
    exists().where(col(Payment.check_id) == _CHECK).label("has_payments"),
    exists()
    .where(col(PaymentAttempt.check_id) == _CHECK, col(PaymentAttempt.status) == AttemptStatus.PENDING)
    .label("has_pending"),
    exists().where(col(Refund.check_id) == _CHECK).label("has_refunds"),
    exists().where(col(CheckPortion.check_id) == _CHECK, col(CheckPortion.removed_at).is_(None)).label("has_portions"),
    select(DiningTable.floor_id).where(col(DiningTable.id) == _TABLE).correlate(None).scalar_subquery().label("floor"),
)
_KEYED_ATTEMPT = (
    select(PaymentAttempt.id)
    .where(col(PaymentAttempt.idempotency_key) == _ATTEMPT_KEY)
    .scalar_subquery()
    .label("keyed")
)
# Each line with the promotion it was rung in under (a line split off another carries the original's), its
# modifiers (a row each) and its tax rate as it stands now.
_LINES = (
    select(CheckLine, LinePromotion, LineModifier, TaxRate, *_PRESENT)
    .outerjoin(
        LinePromotion,
        col(LinePromotion.line_id) == func.coalesce(col(CheckLine.origin_line_id), col(CheckLine.id)),
    )
    .outerjoin(LineModifier, col(LineModifier.line_id) == col(CheckLine.id))
    .outerjoin(TaxRate, col(TaxRate.id) == col(CheckLine.tax_rate_id))
    .where(col(CheckLine.check_id) == _CHECK)
    .order_by(col(CheckLine.id), col(LineModifier.id))
)
_LINES_AND_KEY = _LINES.add_columns(_KEYED_ATTEMPT)
# The same questions for a check without lines.
_PRESENT_ONLY = select(*_PRESENT)
_PRESENT_AND_KEY = _PRESENT_ONLY.add_columns(_KEYED_ATTEMPT)
_DISCOUNTS = select(CheckDiscount).where(_ON_DISCOUNT, col(CheckDiscount.removed_at).is_(None))
_COMPS = select(CheckComp).where(_ON_COMP, col(CheckComp.removed_at).is_(None))
_WAIVER = select(ServiceChargeWaiver).where(
    col(ServiceChargeWaiver.check_id) == _CHECK, col(ServiceChargeWaiver.removed_at).is_(None)
)


def _present(row: Any, *, keyed: bool) -> Present:
    return Present(
        discounts=bool(row.has_discounts),
        comps=bool(row.has_comps),
        waiver=bool(row.has_waiver),
        children=bool(row.has_children),
        payments=bool(row.has_payments),
        pending=bool(row.has_pending),
        refunds=bool(row.has_refunds),
        portions=bool(row.has_portions),
        keyed_attempt_id=row.keyed if keyed else None,
        floor_id=row.floor,
    )


@dataclass(frozen=True)
class Pricing:
    """One check's rows as priced, and the inputs of the totals computation made from them."""

    lines: list[CheckLine]
    modifiers: dict[int, list[LineModifier]]
    discounts: list[CheckDiscount]
    comps: list[CheckComp]
    waiver: ServiceChargeWaiver | None
    party_covers: int
    percent: Decimal | None
    priced: list[calc.PricedLine]
    adjustments: calc.CheckAdjustments
    rates: dict[int, TaxRate]
    present: Present


async def read_check(
    session: AsyncSession, check_id: int, *, attempt_key: str | None = None, table_id: int | None = None
) -> tuple[list[CheckLine], dict[int, list[LineModifier]], dict[int, Any], dict[int, TaxRate], Present]:
    """A check's lines (by id), their modifiers, promotion terms and tax rates, and which other rows it has.

    With `attempt_key`, the same statement also finds the payment attempt recorded under that key; with `table_id`,
    the floor that table stands on.
    """
    params: dict[str, Any] = {"check_id": check_id, "table_id": table_id}
    if attempt_key is not None:
        params["attempt_key"] = attempt_key
    statement: Any = _LINES if attempt_key is None else _LINES_AND_KEY
    rows = (await session.exec(statement, params=params)).all()
    lines: dict[int, CheckLine] = {}
    modifiers: dict[int, list[LineModifier]] = {}
    promoted: dict[int, Any] = {}
    rates: dict[int, TaxRate] = {}
    for row in rows:
        line, promotion, modifier, rate = row[0], row[1], row[2], row[3]
        line_id = line.id or 0
        if line_id not in lines:
            lines[line_id] = line
            if promotion is not None:
                promoted[line_id] = promotion.terms
            if rate is not None:
                rates[rate.id or 0] = rate
        if modifier is not None:
            modifiers.setdefault(modifier.line_id, []).append(modifier)
    if rows:
        present = _present(rows[0], keyed=attempt_key is not None)
    else:
        only: Any = _PRESENT_ONLY if attempt_key is None else _PRESENT_AND_KEY
        present = _present((await session.exec(only, params=params)).one(), keyed=attempt_key is not None)
    return list(lines.values()), modifiers, promoted, rates, present


async def price(
    session: AsyncSession, check: Check, settings: Settings, party_covers: int, *, attempt_key: str | None = None
) -> Pricing:
    """Read and price one check (`party_covers`: the covers its service charge goes by)."""
    check_id = check.id or 0
    lines, modifiers, promoted, rates, present = await read_check(
        session, check_id, attempt_key=attempt_key, table_id=check.table_id
    )
    if check.table_id is not None and present.floor_id is not None:
        live.tables_placed(session, {check.table_id: present.floor_id})
    params = {"check_id": check_id}
    discounts: list[CheckDiscount] = []
    comps: list[CheckComp] = []
    waiver: ServiceChargeWaiver | None = None
    if present.discounts:
        found_discounts = await session.exec(_DISCOUNTS, params=params)
        discounts = sorted(found_discounts, key=lambda d: (d.line_id is None, d.id or 0))
    if present.comps:
        found_comps = await session.exec(_COMPS, params=params)
        comps = sorted(found_comps, key=lambda c: (c.line_id is None, c.id or 0))
    if present.waiver:
        waiver = (await session.exec(_WAIVER, params=params)).first()
    service_rate_id = settings.service_charge_tax_rate_id
    if service_rate_id is not None and service_rate_id not in rates:
        service_rate = await session.get(TaxRate, service_rate_id)
        if service_rate is not None:
            rates[service_rate_id] = service_rate

    service: calc.ServiceCharge | None = None
    percent: Decimal | None = None
    over = settings.service_charge_over_covers
    if over and party_covers > over and waiver is None and settings.service_charge_percent > 0:
        percent = settings.service_charge_percent
        service_rate = rates.get(service_rate_id) if service_rate_id else None
        service = calc.ServiceCharge(
            percent=percent,
            tax_rate=calc_rate(service_rate.id or 0, service_rate.name, service_rate.rate_bp) if service_rate else None,
            name=f"Service charge {percent.normalize():f} %",
        )

    line_discounts = {d.line_id: d for d in discounts if d.line_id is not None}
    comped = {c.line_id for c in comps if c.line_id is not None}
    check_discount = next((d for d in discounts if d.line_id is None), None)
    check_comp = next((c for c in comps if c.line_id is None), None)
    priced = [
        calc.PricedLine(
            line_id=line.id or 0,
            name=line.name,
            unit_price=line.unit_total_cents,
            quantity=line.quantity,
            tax_rate=calc_rate(
                line.tax_rate_id,
                rates[line.tax_rate_id].name if line.tax_rate_id in rates else f"Tax {line.tax_rate_bp / 100:g} %",
                line.tax_rate_bp,
            ),
            category_id=line.category_id,
            seat=line.seat,
            status=(
                calc.LineStatus.VOIDED
                if line.state is LineState.VOIDED
                else calc.LineStatus.COMPED
                if line.id in comped
                else calc.LineStatus.ACTIVE
            ),
            discount=calc_discount(line_discounts[line.id]) if line.id in line_discounts else None,
            tax_group=line.origin_line_id,
            promotion=promoted.get(line.id or 0),
            item_price=line.unit_price_cents,
        )
        for line in lines
    ]
    adjustments = calc.CheckAdjustments(
        discount=calc_discount(check_discount) if check_discount else None,
        comp=calc.CheckComp(check_comp.reason) if check_comp else None,
        service_charge=service,
    )
    return Pricing(
        lines, modifiers, discounts, comps, waiver, party_covers, percent, priced, adjustments, rates, present
    )


def calc_rate(rate_id: int, name: str, rate_bp: int) -> calc.TaxRate:
    """A tax rate as the totals computation takes it."""
    return calc.TaxRate(id=rate_id, name=name, rate=Decimal(rate_bp) / Decimal(10000))


def calc_discount(discount: CheckDiscount) -> calc.Discount:
    """A discount as the totals computation takes it."""
    if discount.kind is AdjustmentKind.PERCENT:
        return calc.Discount.percent(Decimal(discount.percent_bp or 0) / Decimal(100), discount.reason)
    return calc.Discount.amount(discount.amount_cents or 0, discount.reason)
