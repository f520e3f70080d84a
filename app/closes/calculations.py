"""Pure maths of the back office: what a closed check posts, drawer counts, checkouts, tip pools.

Every amount is integer cents; every split uses largest-remainder allocation so parts add up to the whole.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from app.checks import calculations as calc
from app.lib.money import allocate

# House account roles a posting needs, with what a manager reads for each.
ACCOUNT_ROLES: dict[str, str] = {
    "discounts": "Discounts (contra revenue)",
    "comps": "Comps (contra revenue)",
    "promotions": "Promotions (contra revenue)",
    "service_charge": "Service charge revenue",
    "tips_payable": "Tips payable",
    "cogs": "Cost of goods sold",
    "inventory": "Inventory",
    "waste": "Waste and spoilage",
    "accounts_payable": "Accounts payable (deliveries)",
    "stock_variance": "Stock count variance",
    "price_variance": "Purchase price variance",
    "over_short": "Cash over/short",
    "cash_drawers": "Cash drawers",
    "cash_safe": "Cash in safe (floats and deposits)",
    "pay_outs": "Pay outs (default expense)",
    "gift_cards": "Gift cards outstanding (cards sold, not yet spent)",
}


@dataclass(frozen=True)
class SaleFigures:
    """What one closed check sold, took and cost, as the ledger needs it (all cents, all positive)."""

    gross_by_category: Mapping[int, int]
    net_by_category: Mapping[int, int]
    discounts: int
    comps: int
    voids: int
    service_charge: int
    tax_by_rate: Mapping[int, int]
    tips: int
    takings_by_tender: Mapping[int, int]
    cost: int = 0
    promotions_by_rule: Mapping[int, int] = field(default_factory=dict)
    promotion_names: Mapping[int, str] = field(default_factory=dict)

    @property
    def promotions(self) -> int:
        """Taken off by promotions."""
        return sum(self.promotions_by_rule.values())

    @property
    def gross(self) -> int:
        """Sales before discounts and comps, tax excluded."""
        return sum(self.gross_by_category.values())

    @property
    def net_sales(self) -> int:
        """Sales after discounts and comps, tax excluded."""
        return sum(self.net_by_category.values())

    @property
    def tax(self) -> int:
        """Every tax charged."""
        return sum(self.tax_by_rate.values())

    @property
    def total(self) -> int:
        """What the guest owed: net sales, service charge and tax."""
        return self.net_sales + self.service_charge + self.tax

    @property
    def takings(self) -> int:
        """What the tenders took in, tips included."""
        return sum(self.takings_by_tender.values())

    @property
    def imbalance(self) -> int:
        """Takings less what was owed and tipped: zero for a check that was paid exactly."""
        return self.takings - self.total - self.tips


def sale_figures(totals: calc.CheckTotals, payments: Sequence[tuple[int, int, int]], *, cost: int = 0) -> SaleFigures:
    """The figures of a closed check from THE totals computation and its payments (tender id, amount, tip)."""
    gross: dict[int, int] = {}
    net: dict[int, int] = {}
    promotions: dict[int, int] = {}
    promotion_names: dict[int, str] = {}
    for line in totals.lines:
        if line.status is calc.LineStatus.VOIDED:
            continue
        gross[line.category_id] = gross.get(line.category_id, 0) + line.net + line.discount + line.comp + line.promotion
        net[line.category_id] = net.get(line.category_id, 0) + line.net
        if line.promotion and line.promotion_id is not None:
            promotions[line.promotion_id] = promotions.get(line.promotion_id, 0) + line.promotion
            promotion_names[line.promotion_id] = line.promotion_name or "Promotion"
    tax_by_rate: dict[int, int] = {}
    for tax_line in totals.taxes:
        tax_by_rate[tax_line.rate.id] = tax_by_rate.get(tax_line.rate.id, 0) + tax_line.tax
    takings: dict[int, int] = {}
    tips = 0
    for tender_id, amount, tip in payments:
        takings[tender_id] = takings.get(tender_id, 0) + amount + tip
        tips += tip
    return SaleFigures(
        gross_by_category=gross,
        net_by_category=net,
        discounts=totals.discounts,
        comps=totals.comps,
        voids=totals.voids,
        service_charge=totals.service_charge,
        tax_by_rate=tax_by_rate,
        tips=tips,
        takings_by_tender=takings,
        cost=cost,
        promotions_by_rule=promotions,
        promotion_names=promotion_names,
    )


@dataclass(frozen=True)
class EntryLine:
    """One line of an entry to post: account code, signed cents (debit positive), memo, dimensions."""

    account: str
    amount_cents: int
    memo: str = ""
    dimensions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Accounts:
    """Account codes resolved from the mappings, for one posting."""

    category: Mapping[int, str]
    tax_rate: Mapping[int, str]
    tender: Mapping[int, str]
    roles: Mapping[str, str]


def sale_entry(figures: SaleFigures, accounts: Accounts, *, labels: Mapping[str, str] | None = None) -> list[EntryLine]:
    """The balanced lines of a closed check: revenue by category (gross), contra revenue, tax, tips, tenders, COGS.

    Lines on the same account are added up per subject so an entry stays short and the dimensions say which
    category, rate or tender each line is for.
    """
    names = labels or {}
    lines: list[EntryLine] = []
    for category_id, gross in sorted(figures.gross_by_category.items()):
        lines.append(
            EntryLine(
                accounts.category[category_id],
                -gross,
                names.get(f"category:{category_id}", "Sales"),
                {"category": str(category_id)},
            )
        )
    lines.append(EntryLine(accounts.roles["discounts"], figures.discounts, "Discounts"))
    lines.append(EntryLine(accounts.roles["comps"], figures.comps, "Comps"))
    for rule_id, amount in sorted(figures.promotions_by_rule.items()):
        # Contra revenue of its own, one line per promotion so the books say which one gave what.
        name = figures.promotion_names.get(rule_id, "Promotion")
        lines.append(EntryLine(accounts.roles["promotions"], amount, f"Promotion: {name}", {"promotion": str(rule_id)}))
    if figures.service_charge:
        lines.append(EntryLine(accounts.roles["service_charge"], -figures.service_charge, "Service charge"))
    for rate_id, tax in sorted(figures.tax_by_rate.items()):
        if tax:
            lines.append(
                EntryLine(
                    accounts.tax_rate[rate_id], -tax, names.get(f"tax:{rate_id}", "Sales tax"), {"tax": str(rate_id)}
                )
            )
    if figures.tips:
        lines.append(EntryLine(accounts.roles["tips_payable"], -figures.tips, "Tips"))
    for tender_id, amount in sorted(figures.takings_by_tender.items()):
        lines.append(
            EntryLine(
                accounts.tender[tender_id],
                amount,
                names.get(f"tender:{tender_id}", "Takings"),
                {"tender": str(tender_id)},
            )
        )
    if figures.cost:
        lines.append(EntryLine(accounts.roles["cogs"], figures.cost, "Cost of goods sold"))
        lines.append(EntryLine(accounts.roles["inventory"], -figures.cost, "Stock used"))
    return [line for line in lines if line.amount_cents]


@dataclass(frozen=True)
class RefundFigures:
    """What a refund gives back: net revenue by category, tax by rate, service charge, tip, and by which tender."""

    net_by_category: Mapping[int, int]
    tax_by_rate: Mapping[int, int]
    service_charge: int
    tip: int
    tender_id: int
    amount: int
    promotions_by_rule: Mapping[int, int] = field(default_factory=dict)
    promotions_by_category: Mapping[int, int] = field(default_factory=dict)
    promotion_names: Mapping[int, str] = field(default_factory=dict)

    @property
    def net_sales(self) -> int:
        """Net revenue given back."""
        return sum(self.net_by_category.values())

    @property
    def tax(self) -> int:
        """Tax given back."""
        return sum(self.tax_by_rate.values())

    @property
    def imbalance(self) -> int:
        """Money given back less what its lines account for: zero when they agree."""
        return self.amount - self.net_sales - self.tax - self.service_charge


def refund_entry(
    figures: RefundFigures, accounts: Accounts, *, labels: Mapping[str, str] | None = None
) -> list[EntryLine]:
    """The balanced lines of a refund: revenue, tax, service charge and tip reversed against the tender."""
    names = labels or {}
    lines: list[EntryLine] = []
    promoted = figures.promotions_by_category
    for category_id in sorted(set(figures.net_by_category) | set(promoted)):
        # Revenue comes back gross of the promotion, which goes back off its own contra account below.
        lines.append(
            EntryLine(
                accounts.category[category_id],
                figures.net_by_category.get(category_id, 0) + promoted.get(category_id, 0),
                f"Refund: {names.get(f'category:{category_id}', 'sales')}",
                {"category": str(category_id)},
            )
        )
    for rate_id, tax in sorted(figures.tax_by_rate.items()):
        lines.append(
            EntryLine(
                accounts.tax_rate[rate_id], tax, f"Refund: {names.get(f'tax:{rate_id}', 'tax')}", {"tax": str(rate_id)}
            )
        )
    for rule_id, amount in sorted(figures.promotions_by_rule.items()):
        name = figures.promotion_names.get(rule_id, "Promotion")
        lines.append(
            EntryLine(accounts.roles["promotions"], -amount, f"Refund: promotion: {name}", {"promotion": str(rule_id)})
        )
    if figures.service_charge:
        lines.append(EntryLine(accounts.roles["service_charge"], figures.service_charge, "Refund: service charge"))
    if figures.tip:
        lines.append(EntryLine(accounts.roles["tips_payable"], figures.tip, "Refund: tip"))
    lines.append(
        EntryLine(
            accounts.tender[figures.tender_id],
            -(figures.amount + figures.tip),
            f"Refund: {names.get(f'tender:{figures.tender_id}', 'tender')}",
            {"tender": str(figures.tender_id)},
        )
    )
    return [line for line in lines if line.amount_cents]


def cost_entry(cost: int, debit: str, credit: str, memo: str) -> list[EntryLine]:
    """Stock value moving between two accounts (waste: expense against inventory; a return: the other way)."""
    if cost < 0:
        debit, credit, cost = credit, debit, -cost
    return [EntryLine(debit, cost, memo), EntryLine(credit, -cost, memo)]


# Cash drawers --------------------------------------------------------------------------------------------


def expected_cash(float_cents: int, cash_sales: int, movements: Sequence[tuple[int, int]], cash_refunds: int) -> int:
    """What a drawer should hold: its float, cash taken, cash in and out (sign, amount), less cash refunds."""
    return float_cents + cash_sales + sum(sign * amount for sign, amount in movements) - cash_refunds


def over_short(counted: int, expected: int) -> int:
    """Counted less expected: negative when the drawer is short."""
    return counted - expected


def over_short_entry(difference: int, *, over_short_account: str, drawer_account: str) -> list[EntryLine]:
    """Short by 5.00 debits over/short 5.00 and credits the drawer; over does the reverse."""
    if difference == 0:
        return []
    memo = "Drawer over" if difference > 0 else "Drawer short"
    return [EntryLine(over_short_account, -difference, memo), EntryLine(drawer_account, difference, memo)]


DENOMINATIONS: tuple[int, ...] = (50000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1)


def count_total(counts: Mapping[int, int]) -> int:
    """The value of a count by denomination (cents → pieces)."""
    total = 0
    for denomination, pieces in counts.items():
        if denomination not in DENOMINATIONS:
            raise ValueError(f"{denomination} is not a coin or note")
        if pieces < 0:
            raise ValueError("A count cannot be negative")
        total += denomination * pieces
    return total


@dataclass(frozen=True)
class CashPayment:
    """A cash payment as drawers see it: when, on which device, how much went in (amount, change already out)."""

    at: float
    device_id: int | None
    amount: int


@dataclass(frozen=True)
class DrawerWindow:
    """A drawer session's span (`end` None while open) and its device (None: the house drawer)."""

    drawer_id: int
    device_id: int | None
    start: float
    end: float | None


def assign_cash(payments: Sequence[CashPayment], drawers: Sequence[DrawerWindow]) -> dict[int | None, int]:
    """Which drawer each cash payment went into: its device's open drawer, else the house drawer open then.

    Cash no drawer was open for is kept under None, so a close can say so instead of losing it.
    """
    result: dict[int | None, int] = {}

    def open_at(window: DrawerWindow, at: float) -> bool:
        return window.start <= at and (window.end is None or at <= window.end)

    for payment in payments:
        own = [
            w
            for w in drawers
            if w.device_id is not None and w.device_id == payment.device_id and open_at(w, payment.at)
        ]
        house = [w for w in drawers if w.device_id is None and open_at(w, payment.at)]
        candidates = own or house
        key = candidates[0].drawer_id if candidates else None
        result[key] = result.get(key, 0) + payment.amount
    return result


# Server checkout -----------------------------------------------------------------------------------------


def cash_owed_to_house(cash_collected: int, tips_paid_out: int) -> int:
    """Positive: the server hands this much to the house; negative: the house owes the server."""
    return cash_collected - tips_paid_out


# Tip pools -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolMember:
    """Someone sharing a tip pool: who, in which role, and how long they worked (minutes)."""

    staff_id: int
    role: str
    minutes: int


def split_by_hours(pool: int, members: Sequence[PoolMember]) -> dict[int, int]:
    """Share a pool by minutes worked, to the cent; members without minutes get nothing."""
    if pool < 0:
        raise ValueError("A tip pool cannot be negative")
    working = [m for m in members if m.minutes > 0]
    if not working:
        if pool:
            raise ValueError("Nobody has hours on this day: enter hours before sharing the pool")
        return {m.staff_id: 0 for m in members}
    shares = allocate(pool, [m.minutes for m in working])
    result = {m.staff_id: 0 for m in members}
    for member, share in zip(working, shares, strict=True):
        result[member.staff_id] = share
    return result


def split_by_roles(pool: int, percents: Mapping[str, int], members: Sequence[PoolMember]) -> dict[int, int]:
    """Share a pool by role percentage, then within a role by minutes worked (evenly without minutes).

    A role nobody worked gives its percentage to the roles that did, in proportion, so no cent is left over.
    """
    if pool < 0:
        raise ValueError("A tip pool cannot be negative")
    if any(p < 0 for p in percents.values()):
        raise ValueError("A role percentage cannot be negative")
    roles = [role for role, percent in sorted(percents.items()) if percent > 0 and any(m.role == role for m in members)]
    result = {m.staff_id: 0 for m in members}
    if not roles:
        if pool:
            raise ValueError("Nobody in the pooled roles worked on this day")
        return result
    role_shares = allocate(pool, [percents[role] for role in roles])
    for role, role_pool in zip(roles, role_shares, strict=True):
        in_role = [m for m in members if m.role == role]
        weights = [m.minutes for m in in_role] if any(m.minutes > 0 for m in in_role) else [1] * len(in_role)
        for member, share in zip(in_role, allocate(role_pool, weights), strict=True):
            result[member.staff_id] += share
    return result


# Reports ------------------------------------------------------------------------------------------


def tax_rate_title(name: str, rate_bp: int) -> str:
    """A tax rate as reports list it: its name, with its rate added only where the name does not say it already.

    'Food & soft drinks 9 %' stays as it is; 'Reduced' at 9 % reads 'Reduced 9 %'.
    """
    percent = f"{(Decimal(rate_bp) / 100).normalize():f}"
    number = re.escape(percent).replace(r"\.", "[.,]")
    if re.search(rf"(?<![0-9.,]){number}(?:[.,]0+)?\s*%", name):
        return name
    return f"{name} {percent} %"
