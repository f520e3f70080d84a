"""Report queries: the Z report, sales by hour, category and server, tenders, taxes, voids, comps,
discounts, tips, ticket times, stock valuation and variance.

Sales figures are read from `check_posting`, the rows each journal entry was built from, so every report
agrees with the ledger to the cent; `ledger_day` reads the journal itself for the proof.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.models import Account, JournalEntry, JournalLine
from app.checks import calculations as checks_calc
from app.checks.models import CheckComp, CheckDiscount, Tender, TenderKind
from app.checks.queries import check_money
from app.closes.calculations import tax_rate_title
from app.closes.models import CheckPosting, DrawerSession, DrawerStatus, MappingKind, PostingKind, PostingMapping
from app.inventory.models import MoveKind, StockItem, StockLocation, StockMove, StockOperation
from app.kitchen import queries as kitchen_queries
from app.lib.settings import Settings
from app.menu.models import MenuCategory, TaxRate
from app.orders.models import Check, CheckLine, LineState
from app.staff.models import Staff

SALES_KINDS = (PostingKind.SALE, PostingKind.REVERSAL, PostingKind.REFUND, PostingKind.TIP_ADJUST)


@dataclass(frozen=True)
class NamedAmount:
    """A labelled amount, with how many times it happened where that matters."""

    label: str
    cents: int
    count: int = 0
    base_cents: int | None = None


@dataclass
class ZReport:
    """The end-of-day figures of a business day, as posted.

    Gross sales are before discounts and comps, net sales after them; both leave tax and service charge out.
    `categories` are net sales by category, as on the sales report, and add up to `net_sales_cents`;
    `gross_categories` are what each category's revenue account was credited, and add up to `gross_cents`.
    """

    day: dt.date
    checks: int = 0
    covers: int = 0
    gross_cents: int = 0
    discounts: NamedAmount = NamedAmount("Discounts", 0)
    comps: NamedAmount = NamedAmount("Comps", 0)
    promotions: NamedAmount = NamedAmount("Promotions", 0)
    voids: NamedAmount = NamedAmount("Voids", 0)
    refunds: NamedAmount = NamedAmount("Refunds", 0)
    net_sales_cents: int = 0
    service_charge_cents: int = 0
    tax_cents: int = 0
    tips_cents: int = 0
    total_cents: int = 0
    takings_cents: int = 0
    cost_cents: int = 0
    # Gift cards sold and paid for: money taken for a liability, counted apart from net sales.
    gift_cards_sold_cents: int = 0
    over_short_cents: int = 0
    late_postings: int = 0
    categories: list[NamedAmount] = field(default_factory=list)
    gross_categories: list[NamedAmount] = field(default_factory=list)
    taxes: list[NamedAmount] = field(default_factory=list)
    tenders: list[NamedAmount] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        """The report as stored with the closed day."""
        return {
            "day": self.day.isoformat(),
            "checks": self.checks,
            "covers": self.covers,
            "gross_cents": self.gross_cents,
            "discounts": [self.discounts.count, self.discounts.cents],
            "comps": [self.comps.count, self.comps.cents],
            "promotions": [self.promotions.count, self.promotions.cents],
            "voids": [self.voids.count, self.voids.cents],
            "refunds": [self.refunds.count, self.refunds.cents],
            "net_sales_cents": self.net_sales_cents,
            "service_charge_cents": self.service_charge_cents,
            "tax_cents": self.tax_cents,
            "tips_cents": self.tips_cents,
            "total_cents": self.total_cents,
            "takings_cents": self.takings_cents,
            "gift_cards_sold_cents": self.gift_cards_sold_cents,
            "cost_cents": self.cost_cents,
            "over_short_cents": self.over_short_cents,
            "late_postings": self.late_postings,
            "categories": [[c.label, c.cents] for c in self.categories],
            "gross_categories": [[c.label, c.cents] for c in self.gross_categories],
            "taxes": [[t.label, t.base_cents, t.cents] for t in self.taxes],
            "tenders": [[t.label, t.count, t.cents] for t in self.tenders],
        }


async def postings_between(session: AsyncSession, start: dt.date, end: dt.date) -> list[CheckPosting]:
    """Every sales posting dated start..end (inclusive), oldest first."""
    return list(
        (
            await session.exec(
                select(CheckPosting)
                .where(
                    col(CheckPosting.posted_day) >= start,
                    col(CheckPosting.posted_day) <= end,
                    col(CheckPosting.kind).in_(SALES_KINDS),
                )
                .order_by(col(CheckPosting.id))
            )
        ).all()
    )


async def _names(session: AsyncSession) -> tuple[dict[int, str], dict[int, TaxRate], dict[int, Tender]]:
    categories = {c.id or 0: c.name for c in (await session.exec(select(MenuCategory))).all()}
    rates = {r.id or 0: r for r in (await session.exec(select(TaxRate))).all()}
    tenders = {t.id or 0: t for t in (await session.exec(select(Tender))).all()}
    return categories, rates, tenders


def _rate_title(rates: dict[int, TaxRate], rate_id: int, unknown: str) -> str:
    rate = rates.get(rate_id)
    return tax_rate_title(rate.name, rate.rate_bp) if rate is not None else unknown


async def z_report(session: AsyncSession, day: dt.date) -> ZReport:
    """The day's Z report: sales, contra revenue, tax, tips and takings as posted on that day, with over/short."""
    postings = await postings_between(session, day, day)
    categories, rates, tenders = await _names(session)
    z = ZReport(day=day)
    by_category: dict[int, int] = defaultdict(int)
    gross_by_category: dict[int, int] = defaultdict(int)
    tax_by_rate: dict[int, int] = defaultdict(int)
    base_by_rate: dict[int, int] = defaultdict(int)
    takings: dict[int, int] = defaultdict(int)
    counts: dict[int, int] = defaultdict(int)
    discounts = comps = voids = refunds = 0
    discount_n = comp_n = void_n = refund_n = 0
    promotions = promotion_n = 0
    for p in postings:
        sign = p.kind.sign
        if p.kind is PostingKind.SALE and p.entry_id is not None:
            z.checks += 1
            z.covers += p.covers
        elif p.kind is PostingKind.REVERSAL and p.entry_id is not None:
            z.checks -= 1
            z.covers -= p.covers
        if p.kind is PostingKind.REFUND:
            refunds += p.total_cents
            refund_n += 1
        else:
            discounts += sign * p.discounts_cents
            comps += sign * p.comps_cents
            voids += sign * p.voids_cents
            discount_n += sign * p.discount_count
            comp_n += sign * p.comp_count
            void_n += sign * p.void_count
        for promoted in p.breakdown.get("promotions", {}).values():
            promotions += sign * int(promoted.get("cents", 0))
            promotion_n += sign * int(promoted.get("units", 0))
        z.gross_cents += sign * p.gross_cents
        z.net_sales_cents += sign * p.net_sales_cents
        z.service_charge_cents += sign * p.service_charge_cents
        z.tax_cents += sign * p.tax_cents
        z.tips_cents += sign * p.tips_cents
        z.total_cents += sign * p.total_cents
        z.cost_cents += sign * p.cost_cents
        z.gift_cards_sold_cents += sign * int(p.breakdown.get("gift_cards_sold", 0))
        z.late_postings += 1 if p.late else 0
        for key, cents in p.breakdown.get("net_by_category", {}).items():
            by_category[int(key)] += sign * int(cents)
        for key, cents in p.breakdown.get("gross_by_category", {}).items():
            gross_by_category[int(key)] += sign * int(cents)
        for key, cents in p.breakdown.get("tax_by_rate", {}).items():
            tax_by_rate[int(key)] += sign * int(cents)
        for key, cents in p.breakdown.get("tax_base_by_rate", {}).items():
            base_by_rate[int(key)] += sign * int(cents)
        for key, cents in p.breakdown.get("takings_by_tender", {}).items():
            takings[int(key)] += sign * int(cents)
        for key, n in p.breakdown.get("count_by_tender", {}).items():
            counts[int(key)] += (sign or 1) * int(n)
    z.discounts = NamedAmount("Discounts", discounts, discount_n)
    z.comps = NamedAmount("Comps", comps, comp_n)
    z.promotions = NamedAmount("Promotions", promotions, promotion_n)
    z.voids = NamedAmount("Voids", voids, void_n)
    z.refunds = NamedAmount("Refunds", refunds, refund_n)
    z.categories = [
        NamedAmount(categories.get(k, f"Category {k}"), v)
        for k, v in sorted(by_category.items(), key=lambda i: -i[1])
        if v
    ]
    z.gross_categories = [
        NamedAmount(categories.get(k, f"Category {k}"), v)
        for k, v in sorted(gross_by_category.items(), key=lambda i: -i[1])
        if v
    ]
    z.taxes = [
        NamedAmount(_rate_title(rates, k, f"Tax {k}"), v, 0, base_by_rate.get(k))
        for k, v in sorted(tax_by_rate.items())
        if v
    ]
    z.tenders = [
        NamedAmount(tenders[k].name if k in tenders else f"Tender {k}", v, counts.get(k, 0))
        for k, v in sorted(takings.items())
        if v or counts.get(k)
    ]
    z.takings_cents = sum(takings.values())
    drawers = (
        await session.exec(
            select(DrawerSession).where(DrawerSession.business_day == day, DrawerSession.status == DrawerStatus.CLOSED)
        )
    ).all()
    z.over_short_cents = sum(d.over_short_cents or 0 for d in drawers)
    return z


@dataclass(frozen=True)
class LedgerDay:
    """What the journal holds for a day's check postings, per kind of account, signed as the Z report shows it."""

    revenue_by_account: dict[str, int]
    discounts_cents: int
    comps_cents: int
    service_charge_cents: int
    tax_by_account: dict[str, int]
    tips_cents: int
    takings_by_account: dict[str, int]
    cost_cents: int


async def ledger_day(session: AsyncSession, day: dt.date) -> LedgerDay:
    """The journal lines dated `day` that came from checks and refunds, summed per mapped account."""
    mappings = (await session.exec(select(PostingMapping))).all()
    category_accounts = {m.account_code for m in mappings if m.kind is MappingKind.CATEGORY and m.account_code}
    tax_accounts = {m.account_code for m in mappings if m.kind is MappingKind.TAX_RATE and m.account_code}
    tender_accounts = {m.account_code for m in mappings if m.kind is MappingKind.TENDER and m.account_code}
    roles = {m.subject: m.account_code for m in mappings if m.kind is MappingKind.ACCOUNT}
    rows = (
        await session.exec(
            select(Account.code, func.sum(JournalLine.amount_cents))
            .join(JournalLine, col(JournalLine.account_id) == col(Account.id))
            .join(JournalEntry, col(JournalEntry.id) == col(JournalLine.entry_id))
            .where(JournalEntry.date == day, col(JournalEntry.source_type).in_(["check", "refund"]))
            .where(~col(JournalEntry.source_id).like("%:stock"))
            .group_by(col(Account.code))
        )
    ).all()
    totals = {code: int(total or 0) for code, total in rows}
    return LedgerDay(
        revenue_by_account={c: -totals[c] for c in sorted(category_accounts) if c in totals},
        discounts_cents=totals.get(roles.get("discounts") or "", 0),
        comps_cents=totals.get(roles.get("comps") or "", 0),
        service_charge_cents=-totals.get(roles.get("service_charge") or "", 0),
        tax_by_account={c: -totals[c] for c in sorted(tax_accounts) if c in totals},
        tips_cents=-totals.get(roles.get("tips_payable") or "", 0),
        takings_by_account={c: totals[c] for c in sorted(tender_accounts) if c in totals},
        cost_cents=totals.get(roles.get("cogs") or "", 0),
    )


# ---------------------------------------------------------------------------------------------- ranges


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: a label and a value in cents (or seconds, or units)."""

    label: str
    value: int
    note: str = ""


@dataclass
class SalesReport:
    """Sales over a range of business days, cut several ways."""

    start: dt.date
    end: dt.date
    net_sales_cents: int = 0
    gross_cents: int = 0
    tax_cents: int = 0
    tips_cents: int = 0
    checks: int = 0
    covers: int = 0
    by_hour: list[Bar] = field(default_factory=list)
    by_category: list[Bar] = field(default_factory=list)
    by_server: list[Bar] = field(default_factory=list)
    by_day: list[Bar] = field(default_factory=list)
    tenders: list[NamedAmount] = field(default_factory=list)
    taxes: list[NamedAmount] = field(default_factory=list)
    tips_by_server: list[Bar] = field(default_factory=list)

    @property
    def average_check_cents(self) -> int:
        """Net sales per check."""
        return self.net_sales_cents // self.checks if self.checks else 0


async def sales_report(session: AsyncSession, settings: Settings, start: dt.date, end: dt.date) -> SalesReport:
    """Net sales by hour of day, category, server and day; takings by tender; tax by rate; tips by server."""
    postings = await postings_between(session, start, end)
    categories, rates, tenders = await _names(session)
    staff = {s.id or 0: s.name for s in (await session.exec(select(Staff))).all()}
    report = SalesReport(start=start, end=end)
    zone = ZoneInfo(settings.timezone)
    hours: dict[int, int] = defaultdict(int)
    by_category: dict[int, int] = defaultdict(int)
    by_server: dict[int, int] = defaultdict(int)
    tips_by_server: dict[int, int] = defaultdict(int)
    by_day: dict[dt.date, int] = defaultdict(int)
    takings: dict[int, int] = defaultdict(int)
    counts: dict[int, int] = defaultdict(int)
    tax_by_rate: dict[int, int] = defaultdict(int)
    base_by_rate: dict[int, int] = defaultdict(int)
    for p in postings:
        sign = p.kind.sign
        report.net_sales_cents += sign * p.net_sales_cents
        report.gross_cents += sign * p.gross_cents
        report.tax_cents += sign * p.tax_cents
        report.tips_cents += sign * p.tips_cents
        if p.kind is PostingKind.SALE and p.entry_id is not None:
            report.checks += 1
            report.covers += p.covers
        elif p.kind is PostingKind.REVERSAL and p.entry_id is not None:
            report.checks -= 1
            report.covers -= p.covers
        moment = p.breakdown.get("closed_at")
        at = datetime.fromisoformat(moment) if isinstance(moment, str) else p.posted_at
        hours[at.astimezone(zone).hour] += sign * p.net_sales_cents
        by_day[p.posted_day] += sign * p.net_sales_cents
        if p.server_id is not None:
            by_server[p.server_id] += sign * p.net_sales_cents
            tips_by_server[p.server_id] += sign * p.tips_cents
        for key, cents in p.breakdown.get("net_by_category", {}).items():
            by_category[int(key)] += sign * int(cents)
        for key, cents in p.breakdown.get("takings_by_tender", {}).items():
            takings[int(key)] += sign * int(cents)
        for key, n in p.breakdown.get("count_by_tender", {}).items():
            counts[int(key)] += (sign or 1) * int(n)
        for key, cents in p.breakdown.get("tax_by_rate", {}).items():
            tax_by_rate[int(key)] += sign * int(cents)
        for key, cents in p.breakdown.get("tax_base_by_rate", {}).items():
            base_by_rate[int(key)] += sign * int(cents)
    if hours:
        first = min(hours, key=lambda h: (h - settings.business_day_cutoff_hour) % 24)
        last = max(hours, key=lambda h: (h - settings.business_day_cutoff_hour) % 24)
        # The service day runs past midnight: order hours from the cutoff so 01:00 comes after 23:00.
        ordered = sorted(range(24), key=lambda h: (h - settings.business_day_cutoff_hour) % 24)
        # Show a whole service (lunch to late) even when the day's sales fall in a few hours.
        position = {h: i for i, h in enumerate(ordered)}
        low = min(position[first], position[11]) if hours else position[11]
        high = max(position[last], position[23])
        span = [h for h in ordered if low <= position[h] <= high or hours.get(h)]
        report.by_hour = [Bar(f"{h:02d}", hours.get(h, 0)) for h in span]
    report.by_category = [
        Bar(categories.get(k, f"#{k}"), v) for k, v in sorted(by_category.items(), key=lambda i: -i[1]) if v
    ]
    report.by_server = [Bar(staff.get(k, f"#{k}"), v) for k, v in sorted(by_server.items(), key=lambda i: -i[1])]
    report.tips_by_server = [
        Bar(staff.get(k, f"#{k}"), v) for k, v in sorted(tips_by_server.items(), key=lambda i: -i[1]) if v
    ]
    report.by_day = [Bar(d.strftime("%d %b"), v) for d, v in sorted(by_day.items())]
    report.tenders = [
        NamedAmount(tenders[k].name if k in tenders else f"#{k}", v, counts.get(k, 0))
        for k, v in sorted(takings.items(), key=lambda i: -i[1])
    ]
    report.taxes = [
        NamedAmount(_rate_title(rates, k, f"#{k}"), v, 0, base_by_rate.get(k)) for k, v in sorted(tax_by_rate.items())
    ]
    return report


@dataclass(frozen=True)
class AdjustmentRow:
    """One void, comp or discount: when, on which check, what, how much, why, who."""

    kind: str
    at: datetime
    check_number: int
    item: str
    cents: int
    reason: str
    by: str
    approved_by: str


@dataclass
class AdjustmentsReport:
    """Voids, comps and discounts over a range with their reasons."""

    rows: list[AdjustmentRow]
    by_reason: list[Bar]
    totals: dict[str, int]


def _window(settings: Settings, start: dt.date, end: dt.date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(settings.timezone)
    cutoff = timedelta(hours=settings.business_day_cutoff_hour)
    begin = datetime.combine(start, dt.time(), zone) + cutoff
    finish = datetime.combine(end + timedelta(days=1), dt.time(), zone) + cutoff
    return begin, finish


async def adjustments_report(
    session: AsyncSession, settings: Settings, start: dt.date, end: dt.date
) -> AdjustmentsReport:
    """Every void after send, comp and discount made in the range of business days, with reasons."""
    begin, finish = _window(settings, start, end)
    staff = {s.id or 0: s.name for s in (await session.exec(select(Staff))).all()}
    rows: list[AdjustmentRow] = []
    voided = (
        await session.exec(
            select(CheckLine, Check)
            .join(Check, col(Check.id) == col(CheckLine.check_id))
            .where(
                CheckLine.state == LineState.VOIDED,
                col(CheckLine.sent_at).is_not(None),
                col(CheckLine.voided_at) >= begin,
                col(CheckLine.voided_at) < finish,
            )
        )
    ).all()
    for line, check in voided:
        rows.append(
            AdjustmentRow(
                "Void",
                line.voided_at or begin,
                check.number,
                line.name,
                round(line.unit_total_cents * line.quantity),
                line.void_reason or "",
                staff.get(line.voided_by or 0, ""),
                staff.get(line.void_approved_by or 0, ""),
            )
        )
    comps = (
        await session.exec(
            select(CheckComp, Check)
            .join(Check, col(Check.id) == col(CheckComp.check_id))
            .where(
                col(CheckComp.created_at) >= begin,
                col(CheckComp.created_at) < finish,
                col(CheckComp.removed_at).is_(None),
            )
        )
    ).all()
    discounts = (
        await session.exec(
            select(CheckDiscount, Check)
            .join(Check, col(Check.id) == col(CheckDiscount.check_id))
            .where(
                col(CheckDiscount.created_at) >= begin,
                col(CheckDiscount.created_at) < finish,
                col(CheckDiscount.removed_at).is_(None),
            )
        )
    ).all()
    line_ids = [c.line_id for c, _ in comps if c.line_id] + [d.line_id for d, _ in discounts if d.line_id]
    lines = {
        line.id: line for line in (await session.exec(select(CheckLine).where(col(CheckLine.id).in_(line_ids)))).all()
    }

    def price(line: CheckLine | None) -> int:
        return round(line.unit_total_cents * line.quantity) if line else 0

    whole: dict[int, checks_calc.CheckTotals] = {}

    async def check_totals(check: Check) -> checks_calc.CheckTotals:
        # A discount or comp on the whole check is worth what THE totals function took off it.
        if check.id not in whole:
            whole[check.id or 0] = (await check_money(session, check)).totals
        return whole[check.id or 0]

    def off_lines(totals: checks_calc.CheckTotals, field: str) -> int:
        return sum(getattr(t, field) for t in totals.lines if t.line_id in line_adjusted.get(field, set()))

    line_adjusted = {
        "comp": {c.line_id for c, _ in comps if c.line_id},
        "discount": {d.line_id for d, _ in discounts if d.line_id},
    }
    for comp, check in comps:
        comped = lines.get(comp.line_id) if comp.line_id else None
        if comped is None:
            totals = await check_totals(check)
            comp_cents = totals.comps - off_lines(totals, "comp")
        else:
            comp_cents = price(comped)
        rows.append(
            AdjustmentRow(
                "Comp",
                comp.created_at,
                check.number,
                comped.name if comped else "Whole check",
                comp_cents,
                comp.reason,
                staff.get(comp.created_by, ""),
                staff.get(comp.approved_by or 0, ""),
            )
        )
    for discount, check in discounts:
        discounted = lines.get(discount.line_id) if discount.line_id else None
        if discounted is None:
            totals = await check_totals(check)
            cents = totals.discounts - off_lines(totals, "discount")
        else:
            cents = discount.amount_cents or (price(discounted) * (discount.percent_bp or 0) // 10000)
        rows.append(
            AdjustmentRow(
                "Discount",
                discount.created_at,
                check.number,
                discounted.name if discounted else "Whole check",
                cents,
                discount.reason,
                staff.get(discount.created_by, ""),
                staff.get(discount.approved_by or 0, ""),
            )
        )
    rows.sort(key=lambda r: r.at)
    reasons: dict[str, int] = defaultdict(int)
    by_kind: dict[str, int] = defaultdict(int)
    for row in rows:
        reasons[f"{row.kind}: {row.reason}"] += 1
        by_kind[row.kind] += row.cents
    by_reason = [Bar(label, count) for label, count in sorted(reasons.items(), key=lambda i: -i[1])]
    return AdjustmentsReport(rows=rows, by_reason=by_reason, totals=dict(by_kind))


async def ticket_times(
    session: AsyncSession, settings: Settings, start: dt.date, end: dt.date
) -> list[kitchen_queries.StationTiming]:
    """Fire-to-bump times per station over the range of business days."""
    begin, finish = _window(settings, start, end)
    return await kitchen_queries.ticket_times(session, begin, finish)


@dataclass(frozen=True)
class VarianceRow:
    """Stock that left other than by sale: count variances and waste, per item."""

    item: str
    location: str
    kind: str
    quantity_milli: int
    value_cents: int


async def stock_variance(session: AsyncSession, settings: Settings, start: dt.date, end: dt.date) -> list[VarianceRow]:
    """Count variances and waste over the range, per item and location, largest value first."""
    begin, finish = _window(settings, start, end)
    items = {i.id or 0: i.name for i in (await session.exec(select(StockItem))).all()}
    places = {p.id or 0: p.name for p in (await session.exec(select(StockLocation))).all()}
    result: list[VarianceRow] = []
    for kind, label in ((MoveKind.COUNT_VARIANCE, "Count variance"), (MoveKind.WASTE, "Waste")):
        found = (
            await session.exec(
                select(
                    StockMove.stock_item_id,
                    StockMove.location_id,
                    func.sum(StockMove.quantity_milli),
                    func.sum(StockMove.value_cents),
                )
                .join(StockOperation, col(StockOperation.id) == col(StockMove.operation_id))
                .where(
                    StockMove.kind == kind,
                    col(StockOperation.created_at) >= begin,
                    col(StockOperation.created_at) < finish,
                )
                .group_by(col(StockMove.stock_item_id), col(StockMove.location_id))
            )
        ).all()
        result += [
            VarianceRow(items.get(item, f"#{item}"), places.get(place, f"#{place}"), label, int(q or 0), int(v or 0))
            for item, place, q, v in found
        ]
    return sorted(result, key=lambda r: r.value_cents)


async def cash_tenders(session: AsyncSession) -> set[int]:
    """Ids of the cash tenders."""
    return {t.id or 0 for t in (await session.exec(select(Tender).where(Tender.kind == TenderKind.CASH))).all()}


def money_bars(values: Sequence[NamedAmount]) -> list[Bar]:
    """Named amounts as chart bars."""
    return [Bar(v.label, v.cents, str(v.count) if v.count else "") for v in values]
