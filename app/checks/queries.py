"""Read models for checks: a check's money as the screen, the printer and the ledger see it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks import calculations as calc
from app.checks import payment_calculations, split_calculations
from app.checks.models import (
    AdjustmentKind,
    AttemptKind,
    AttemptStatus,
    CheckClosing,
    CheckComp,
    CheckDiscount,
    CheckPortion,
    CheckSplit,
    Payment,
    PaymentAttempt,
    Refund,
    RefundLine,
    RefundStatus,
    ServiceChargeWaiver,
    Tender,
)
from app.floor.models import DiningTable
from app.lib.errors import InvalidInput, NotFound
from app.lib.money import allocate
from app.lib.settings import Settings
from app.menu.models import TaxRate
from app.orders.models import Check, CheckLine, CheckStatus, LineModifier, LineState
from app.promotions.models import LinePromotion
from app.staff.models import Staff

# What a domain that follows payments adds to the message a server reads after one (a gift card's balance left),
# registered by name in main.py: checks imports no domain above it.
PaymentNote = Callable[[AsyncSession, Payment], Awaitable[str | None]]
PAYMENT_NOTES: dict[str, PaymentNote] = {}


async def payment_notes(session: AsyncSession, payment: Payment) -> list[str]:
    """What the registered domains have to say about a payment just taken."""
    notes = [await note(session, payment) for note in PAYMENT_NOTES.values()]
    return [note for note in notes if note]


def settings_of(session: AsyncSession) -> Settings:
    """The deployment's settings, as the database was wired with them."""
    settings = session.info.get("settings")
    return settings if isinstance(settings, Settings) else Settings()


def tax_settings(settings: Settings) -> calc.TaxSettings:
    """Tax inclusion and rounding as the restaurant set them."""
    return calc.TaxSettings(
        prices_include_tax=settings.prices_include_tax, rounding=calc.TaxRounding(settings.tax_rounding)
    )


@dataclass(frozen=True)
class PortionState:
    """One guest's part of a check split evenly or by amount: what it owes, what it paid, its tax."""

    portion: CheckPortion
    count: int
    owed: int
    paid: int
    part: calc.CheckPart | None

    @property
    def label(self) -> str:
        """'Part 2 of 3'."""
        return f"Part {self.portion.position} of {self.count}"

    @property
    def remaining(self) -> int:
        """What this part still has to pay."""
        return max(self.owed - self.paid, 0)


@dataclass(frozen=True)
class CheckMoney:
    """Everything about a check's money: lines, adjustments, totals, payments, parts."""

    check: Check
    lines: tuple[CheckLine, ...]
    modifiers: Mapping[int, tuple[LineModifier, ...]]
    totals: calc.CheckTotals
    line_totals: Mapping[int, calc.LineTotals]
    discounts: tuple[CheckDiscount, ...]
    comps: tuple[CheckComp, ...]
    waiver: ServiceChargeWaiver | None
    party_covers: int
    service_charge_percent: Decimal | None
    payments: tuple[Payment, ...]
    pending: tuple[PaymentAttempt, ...]
    refunds: tuple[Refund, ...]
    portions: tuple[PortionState, ...]
    tenders: Mapping[int, Tender]
    currency: str
    # The checks priced together with this one (itself included): its split family, or just itself.
    family_ids: tuple[int, ...] = ()
    # The tax rates of its lines (and of the service charge) as they stand now, by id.
    tax_rates: Mapping[int, TaxRate] = field(default_factory=dict)

    @property
    def paid(self) -> int:
        """What payments have put toward the total (tips are beside it)."""
        return sum(payment.amount_cents for payment in self.payments)

    @property
    def tips(self) -> int:
        """Tips taken with the payments."""
        return sum(payment.tip_cents for payment in self.payments)

    @property
    def change_given(self) -> int:
        """Cash handed back over all payments."""
        return sum(payment.change_cents for payment in self.payments)

    @property
    def refunded(self) -> int:
        """Money given back by completed refunds, tips included."""
        return sum(r.amount_cents + r.tip_cents for r in self.refunds if r.status is RefundStatus.COMPLETED)

    @property
    def due(self) -> int:
        """What is still owed; negative when the check is overpaid."""
        return payment_calculations.remaining_due(
            self.totals.total, [payment.amount_cents for payment in self.payments]
        )

    @property
    def check_discount(self) -> CheckDiscount | None:
        """The discount on the whole check, if any."""
        return next((d for d in self.discounts if d.line_id is None), None)

    @property
    def check_comp(self) -> CheckComp | None:
        """The comp of the whole check, if any."""
        return next((c for c in self.comps if c.line_id is None), None)

    def line_discount(self, line_id: int | None) -> CheckDiscount | None:
        """The discount on one line, if any."""
        return next((d for d in self.discounts if d.line_id == line_id and line_id is not None), None)

    def line_comp(self, line_id: int | None) -> CheckComp | None:
        """The comp of one line, if any."""
        return next((c for c in self.comps if c.line_id == line_id and line_id is not None), None)

    def portion(self, portion_id: int | None) -> PortionState | None:
        """One part of an even or by-amount split."""
        return next((p for p in self.portions if p.portion.id == portion_id), None)

    @property
    def live_lines(self) -> tuple[CheckLine, ...]:
        """Lines that count (voided lines left out)."""
        return tuple(line for line in self.lines if line.state is not LineState.VOIDED)

    @property
    def seats(self) -> list[int | None]:
        """The seats with live lines on this check, shared lines (no seat) last."""
        seen = {line.seat for line in self.live_lines}
        return sorted(seen, key=lambda seat: (seat is None, seat or 0))

    @property
    def unsent_lines(self) -> list[CheckLine]:
        """Lines rung in but not yet sent to the kitchen (held ones too)."""
        return [line for line in self.lines if line.state in (LineState.PENDING, LineState.HELD)]

    @property
    def unsent_count(self) -> int:
        """Lines rung in but not yet sent to the kitchen."""
        return len(self.unsent_lines)


async def load_check(session: AsyncSession, check_id: int, *, for_update: bool = False) -> Check:
    """A check by id (locked on PostgreSQL when asked), or a clear refusal."""
    query = select(Check).where(Check.id == check_id)
    if for_update and session.bind is not None and session.bind.dialect.name != "sqlite":
        query = query.with_for_update()
    check = (await session.exec(query)).first()
    if check is None:
        raise NotFound(f"There is no check {check_id}.")
    return check


@dataclass(frozen=True)
class _Pricing:
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


async def _pricing(session: AsyncSession, check: Check, settings: Settings) -> _Pricing:
    check_id = check.id or 0
    # Each line with the promotion it was rung in under (a line split off another carries the original's).
    rows = (
        await session.exec(
            select(CheckLine, LinePromotion)
            .outerjoin(
                LinePromotion,
                col(LinePromotion.line_id) == func.coalesce(col(CheckLine.origin_line_id), col(CheckLine.id)),
            )
            .where(CheckLine.check_id == check_id)
            .order_by(col(CheckLine.id))
        )
    ).all()
    lines = [line for line, _ in rows]
    promoted = {line.id or 0: promotion.terms for line, promotion in rows if promotion is not None}
    line_ids = [line.id for line in lines if line.id is not None]
    modifiers: dict[int, list[LineModifier]] = {}
    if line_ids:
        for modifier in await session.exec(
            select(LineModifier).where(col(LineModifier.line_id).in_(line_ids)).order_by(col(LineModifier.id))
        ):
            modifiers.setdefault(modifier.line_id, []).append(modifier)
    # A line keeps its discount or comp when a split moves it to another check, so those are found by line; the
    # ones on the whole check by the check. One query each, line ones first.
    on_discount = (col(CheckDiscount.check_id) == check_id) & col(CheckDiscount.line_id).is_(None)
    on_comp = (col(CheckComp.check_id) == check_id) & col(CheckComp.line_id).is_(None)
    if line_ids:
        on_discount = on_discount | col(CheckDiscount.line_id).in_(line_ids)
        on_comp = on_comp | col(CheckComp.line_id).in_(line_ids)
    discounts = sorted(
        await session.exec(select(CheckDiscount).where(on_discount, col(CheckDiscount.removed_at).is_(None))),
        key=lambda d: (d.line_id is None, d.id or 0),
    )
    comps = sorted(
        await session.exec(select(CheckComp).where(on_comp, col(CheckComp.removed_at).is_(None))),
        key=lambda c: (c.line_id is None, c.id or 0),
    )
    waiver = (
        await session.exec(
            select(ServiceChargeWaiver).where(
                ServiceChargeWaiver.check_id == check_id, col(ServiceChargeWaiver.removed_at).is_(None)
            )
        )
    ).first()
    rate_ids = {line.tax_rate_id for line in lines}
    if settings.service_charge_tax_rate_id is not None:
        rate_ids.add(settings.service_charge_tax_rate_id)
    rates = {
        rate.id or 0: rate for rate in await session.exec(select(TaxRate).where(col(TaxRate.id).in_(sorted(rate_ids))))
    }

    party_covers = await _party_covers(session, check)
    service: calc.ServiceCharge | None = None
    percent: Decimal | None = None
    over = settings.service_charge_over_covers
    if over and party_covers > over and waiver is None and settings.service_charge_percent > 0:
        percent = settings.service_charge_percent
        service_rate = rates.get(settings.service_charge_tax_rate_id) if settings.service_charge_tax_rate_id else None
        service = calc.ServiceCharge(
            percent=percent,
            tax_rate=_calc_rate(service_rate.id or 0, service_rate.name, service_rate.rate_bp)
            if service_rate
            else None,
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
            tax_rate=_calc_rate(
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
            discount=_calc_discount(line_discounts[line.id]) if line.id in line_discounts else None,
            tax_group=line.origin_line_id,
            promotion=promoted.get(line.id or 0),
            item_price=line.unit_price_cents,
        )
        for line in lines
    ]
    adjustments = calc.CheckAdjustments(
        discount=_calc_discount(check_discount) if check_discount else None,
        comp=calc.CheckComp(check_comp.reason) if check_comp else None,
        service_charge=service,
    )
    return _Pricing(lines, modifiers, discounts, comps, waiver, party_covers, percent, priced, adjustments, rates)


async def check_money(session: AsyncSession, check: Check) -> CheckMoney:
    """Price a check with the one totals function and gather its payments, refunds and parts.

    A check split from another is priced with the rest of its family, so the family's service charge and
    tax are what the original check's were.
    """
    settings = settings_of(session)
    check_id = check.id or 0
    pricing = await _pricing(session, check, settings)
    members = await family(session, check) if _in_family(check) else await _children(session, check)
    # Always the same order, so the cents a tie hands out land on the same check whichever is shown.
    ordered = sorted({m.id or 0: m for m in [*members, check]}.values(), key=lambda m: m.id or 0)
    inputs = []
    for member in ordered:
        member_pricing = pricing if member.id == check.id else await _pricing(session, member, settings)
        inputs.append((member_pricing.priced, member_pricing.adjustments))
    try:
        family_totals = calc.compute_family_totals(inputs, tax_settings(settings), currency=settings.currency)
    except ValueError as exc:
        raise InvalidInput(f"{exc}.") from None
    totals = family_totals[[m.id for m in ordered].index(check.id)]
    lines, modifiers, discounts, comps = pricing.lines, pricing.modifiers, pricing.discounts, pricing.comps
    waiver, party_covers, percent = pricing.waiver, pricing.party_covers, pricing.percent

    payments = list(
        (await session.exec(select(Payment).where(Payment.check_id == check_id).order_by(col(Payment.id)))).all()
    )
    pending = list(
        (
            await session.exec(
                select(PaymentAttempt)
                .where(PaymentAttempt.check_id == check_id, PaymentAttempt.status == AttemptStatus.PENDING)
                .order_by(col(PaymentAttempt.id))
            )
        ).all()
    )
    refunds = list(
        (await session.exec(select(Refund).where(Refund.check_id == check_id).order_by(col(Refund.id)))).all()
    )
    portion_rows = list(
        (
            await session.exec(
                select(CheckPortion)
                .where(CheckPortion.check_id == check_id, col(CheckPortion.removed_at).is_(None))
                .order_by(col(CheckPortion.position))
            )
        ).all()
    )
    tender_ids = {p.tender_id for p in payments} | {a.tender_id for a in pending}
    tenders: dict[int, Tender] = {}
    if tender_ids:
        tenders = {
            t.id or 0: t for t in await session.exec(select(Tender).where(col(Tender.id).in_(sorted(tender_ids))))
        }
    return CheckMoney(
        check=check,
        lines=tuple(lines),
        modifiers={line_id: tuple(items) for line_id, items in modifiers.items()},
        totals=totals,
        line_totals={line_total.line_id: line_total for line_total in totals.lines},
        discounts=tuple(discounts),
        comps=tuple(comps),
        waiver=waiver,
        party_covers=party_covers,
        service_charge_percent=percent,
        payments=tuple(payments),
        pending=tuple(pending),
        refunds=tuple(refunds),
        portions=tuple(_portion_states(totals, portion_rows, payments)),
        tenders=tenders,
        currency=settings.currency,
        family_ids=tuple(m.id or 0 for m in ordered),
        tax_rates=pricing.rates,
    )


def with_payment(money: CheckMoney, payment: Payment, tender: Tender) -> CheckMoney:
    """The money of a check, priced and locked in this transaction, after one more payment taken in it."""
    payments = [*money.payments, payment]
    return replace(
        money,
        payments=tuple(payments),
        portions=tuple(_portion_states(money.totals, [state.portion for state in money.portions], payments)),
        tenders={**money.tenders, tender.id or 0: tender},
    )


def _in_family(check: Check) -> bool:
    return check.split_from_id is not None


async def _children(session: AsyncSession, check: Check) -> list[Check]:
    children = await session.exec(select(Check.id).where(Check.split_from_id == check.id).limit(1))
    if children.first() is None:
        return [check]
    return await family(session, check)


async def check_totals(session: AsyncSession, check_id: int) -> calc.CheckTotals:
    """The one computation of a check's totals, for screens, printers and the ledger."""
    return (await check_money(session, await load_check(session, check_id))).totals


def _portion_states(
    totals: calc.CheckTotals, portions: Sequence[CheckPortion], payments: Sequence[Payment]
) -> list[PortionState]:
    if not portions:
        return []
    unassigned = sum(p.amount_cents for p in payments if p.portion_id is None)
    to_share = max(totals.total - unassigned, 0)
    owed = allocate(to_share, [portion.weight for portion in portions])
    parts: list[calc.CheckPart | None] = [None] * len(portions)
    weights = [min(unassigned, totals.total), *owed]
    if sum(weights) > 0:
        parts = list(split_calculations.allocate_check_to_parts(totals, weights)[1:])
    paid = {portion.id: sum(p.amount_cents for p in payments if p.portion_id == portion.id) for portion in portions}
    return [
        PortionState(portion=portion, count=len(portions), owed=owed[index], paid=paid[portion.id], part=parts[index])
        for index, portion in enumerate(portions)
    ]


def _calc_rate(rate_id: int, name: str, rate_bp: int) -> calc.TaxRate:
    return calc.TaxRate(id=rate_id, name=name, rate=Decimal(rate_bp) / Decimal(10000))


def _calc_discount(discount: CheckDiscount) -> calc.Discount:
    if discount.kind is AdjustmentKind.PERCENT:
        return calc.Discount.percent(Decimal(discount.percent_bp or 0) / Decimal(100), discount.reason)
    return calc.Discount.amount(discount.amount_cents or 0, discount.reason)


async def root_of(session: AsyncSession, check: Check) -> Check:
    """The check a split family grew from."""
    current = check
    seen = {current.id}
    while current.split_from_id is not None and current.split_from_id not in seen:
        parent = await session.get(Check, current.split_from_id)
        if parent is None:
            break
        seen.add(parent.id)
        current = parent
    return current


async def family(session: AsyncSession, check: Check) -> list[Check]:
    """Every check split from the same original (merged-away ones left out), the original first."""
    root = await root_of(session, check)
    members = [root]
    frontier = [root.id or 0]
    while frontier:
        children = list(
            (
                await session.exec(select(Check).where(col(Check.split_from_id).in_(frontier)).order_by(col(Check.id)))
            ).all()
        )
        members.extend(children)
        frontier = [child.id or 0 for child in children]
    return [member for member in members if member.status is not CheckStatus.MERGED]


async def _party_covers(session: AsyncSession, check: Check) -> int:
    # A split never makes a large party small: the service charge follows the original covers.
    return (await root_of(session, check)).covers


async def latest_split(session: AsyncSession, root_check_id: int) -> CheckSplit | None:
    """The newest split of a family that has not been undone."""
    return (
        await session.exec(
            select(CheckSplit)
            .where(CheckSplit.root_check_id == root_check_id, col(CheckSplit.undone_at).is_(None))
            .order_by(col(CheckSplit.id).desc())
        )
    ).first()


async def closings(session: AsyncSession, check_id: int) -> list[CheckClosing]:
    """Every time the check was closed, oldest first."""
    return list(
        (
            await session.exec(
                select(CheckClosing).where(CheckClosing.check_id == check_id).order_by(col(CheckClosing.sequence))
            )
        ).all()
    )


async def refund_lines(session: AsyncSession, refund_ids: Sequence[int]) -> list[RefundLine]:
    """What each refund gave back, line by line."""
    if not refund_ids:
        return []
    return list(
        (
            await session.exec(
                select(RefundLine).where(col(RefundLine.refund_id).in_(list(refund_ids))).order_by(col(RefundLine.id))
            )
        ).all()
    )


async def tenders(session: AsyncSession, *, include_archived: bool = False) -> list[Tender]:
    """Tenders in the order a server sees them."""
    query = select(Tender).order_by(col(Tender.sort_order), col(Tender.id))
    if not include_archived:
        query = query.where(col(Tender.archived_at).is_(None))
    return list((await session.exec(query)).all())


CASH_DRAWER_OPEN = "cash_drawer_open"
"""Key in the database context of `open(session, device_id)`: whether cash taken on that device has an open drawer
to go into, its own or the house drawer (wired in app/main.py by whoever keeps the drawers; checks imports none)."""

CashDrawerOpen = Callable[[AsyncSession, int | None], Awaitable[bool]]


async def cash_drawer_open(session: AsyncSession, device_id: int | None) -> bool | None:
    """Whether cash taken on `device_id` has an open drawer to go into; `None` where nobody keeps drawers."""
    ask: CashDrawerOpen | None = session.info.get(CASH_DRAWER_OPEN)
    return None if ask is None else await ask(session, device_id)


async def open_checks_on_table(session: AsyncSession, table_id: int | None) -> list[Check]:
    """The checks still open on a table (a split leaves several), oldest first."""
    if table_id is None:
        return []
    query = select(Check).where(Check.table_id == table_id, Check.status == CheckStatus.OPEN).order_by(col(Check.id))
    return list((await session.exec(query)).all())


async def table_name_and_others_open(session: AsyncSession, check: Check) -> tuple[str, list[Check]]:
    """The check's table name as printed, and the other checks still open on it (a split leaves several), oldest
    first; one statement, so the page after the last payment can say whether the table may be cleared."""
    if check.table_id is None:
        return "-", []
    query = (
        select(DiningTable.name, Check)
        .outerjoin(
            Check,
            (col(Check.table_id) == col(DiningTable.id))
            & (col(Check.status) == CheckStatus.OPEN)
            & (col(Check.id) != check.id),
        )
        .where(DiningTable.id == check.table_id)
        .order_by(col(Check.id))
    )
    rows = (await session.exec(query)).all()
    if not rows:
        return str(check.table_id), []
    return rows[0][0], [other for _, other in rows if other is not None]


async def table_name(session: AsyncSession, table_id: int | None) -> str:
    """The table's name as printed, or '-' for a tab."""
    if table_id is None:
        return "-"
    table = await session.get(DiningTable, table_id)
    return table.name if table else str(table_id)


async def staff_names(session: AsyncSession, ids: Sequence[int | None]) -> dict[int, str]:
    """Names of the staff with these ids."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {s.id or 0: s.name for s in await session.exec(select(Staff).where(col(Staff.id).in_(wanted)))}


async def pending_attempts(session: AsyncSession, *, kind: AttemptKind | None = None) -> list[PaymentAttempt]:
    """Attempts whose outcome is not known yet, oldest first."""
    query = select(PaymentAttempt).where(PaymentAttempt.status == AttemptStatus.PENDING)
    if kind is not None:
        query = query.where(PaymentAttempt.kind == kind)
    return list((await session.exec(query.order_by(col(PaymentAttempt.id)))).all())
