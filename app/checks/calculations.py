"""Check totals, tax, discounts and service charges: one computation for screen, receipt, ledger."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from app.lib.money import Money, allocate, round_cents
from app.promotions.calculations import PromotedLine, Terms, promotion_amounts


class LineStatus(StrEnum):
    """Whether a line is charged, taken off the check, or given away by the house."""

    ACTIVE = "active"
    VOIDED = "voided"
    COMPED = "comped"


class DiscountKind(StrEnum):
    """How a discount is written: a percent off, or an amount of cents off."""

    PERCENT = "percent"
    AMOUNT = "amount"


class TaxRounding(StrEnum):
    """Where tax is rounded to the cent: on each line, or once per rate on the check."""

    PER_LINE = "per_line"
    PER_CHECK = "per_check"


@dataclass(frozen=True, slots=True)
class TaxRate:
    """A sales tax rate as it stood when the line was rung in (21 % is 0.21)."""

    id: int
    name: str
    rate: Decimal

    def __post_init__(self) -> None:
        if not isinstance(self.rate, Decimal):
            raise TypeError(f"A tax rate must be a Decimal such as Decimal('0.21'), not {type(self.rate).__name__}")
        if not self.rate.is_finite() or not 0 <= self.rate < 1:
            raise ValueError(f"A tax rate is a fraction from 0 to below 1, like 0.21 for 21 %, not {self.rate}")


@dataclass(frozen=True, slots=True)
class Discount:
    """A discount on a line or a check: a percent (10 is 10 %) or cents, with reason."""

    kind: DiscountKind
    value: Decimal | int
    reason: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", DiscountKind(self.kind))
        if isinstance(self.value, bool) or not isinstance(self.value, Decimal | int):
            raise TypeError(f"A discount is a Decimal percent or int cents, not {type(self.value).__name__}")
        if self.kind is DiscountKind.PERCENT:
            if not Decimal(self.value).is_finite() or not 0 < self.value <= 100:
                raise ValueError(f"A percent discount is more than 0 and at most 100, not {self.value}")
        elif not isinstance(self.value, int):
            raise TypeError("An amount discount is whole cents as an int")
        elif self.value <= 0:
            raise ValueError("An amount discount must be more than zero")
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ValueError("A discount needs a reason")

    @classmethod
    def percent(cls, percent: Decimal | int, reason: str) -> Discount:
        """A discount of a percent of the price, e.g. 10 for 10 % off."""
        return cls(DiscountKind.PERCENT, percent, reason)

    @classmethod
    def amount(cls, cents: int, reason: str) -> Discount:
        """A discount of a fixed number of cents."""
        return cls(DiscountKind.AMOUNT, cents, reason)

    def cents_off(self, base: int, currency: str = "EUR") -> int:
        """The cents this discount takes off base; more than the base is refused."""
        if self.kind is DiscountKind.PERCENT:
            return _percent_of(base, self.value)
        if self.value > base:
            raise ValueError(
                f"A discount of {_format(int(self.value), currency)} is more than "
                f"the {_format(base, currency)} it applies to"
            )
        return int(self.value)


LineDiscount = Discount


@dataclass(frozen=True, slots=True)
class PricedLine:
    """A check line as rung in: unit price in cents (paid modifiers in) and quantity."""

    line_id: int
    name: str
    unit_price: int
    quantity: Fraction
    tax_rate: TaxRate
    category_id: int
    seat: int | None = None
    status: LineStatus = LineStatus.ACTIVE
    discount: Discount | None = None
    tax_group: int | None = None
    """Shares of one shared line carry the original line's id here, so per-line tax is rounded once for them."""
    promotion: Terms | None = None
    """The promotion the line was rung in under, as it stood then."""
    item_price: int | None = None
    """The item's own price per unit (modifiers not in), which promotions act on; the unit price when None."""

    def __post_init__(self) -> None:
        _require_cents(self.unit_price, "A unit price")
        object.__setattr__(self, "quantity", _positive_quantity(self.quantity))
        object.__setattr__(self, "status", LineStatus(self.status))

    @property
    def amount(self) -> int:
        """The line's price in cents before discounts and comps, rounded half-up."""
        return round_cents(self.unit_price * self.quantity)


@dataclass(frozen=True, slots=True)
class ServiceCharge:
    """An automatic service charge, such as a large-party gratuity: revenue, not tip."""

    percent: Decimal
    tax_rate: TaxRate | None = None
    name: str = "Service charge"

    def __post_init__(self) -> None:
        if isinstance(self.percent, bool) or not isinstance(self.percent, Decimal | int):
            raise TypeError("A service charge percent must be a Decimal such as Decimal('18')")
        if not Decimal(self.percent).is_finite() or not 0 <= self.percent <= 100:
            raise ValueError(f"A service charge is from 0 to 100 percent, not {self.percent}")

    @property
    def taxable(self) -> bool:
        """Whether sales tax is charged on the service charge."""
        return self.tax_rate is not None


@dataclass(frozen=True, slots=True)
class CheckComp:
    """The whole check given away by the house, with the reason."""

    reason: str

    def __post_init__(self) -> None:
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ValueError("A comp needs a reason")


@dataclass(frozen=True, slots=True)
class CheckAdjustments:
    """What applies to the whole check; a comp takes precedence over every discount."""

    discount: Discount | None = None
    comp: CheckComp | None = None
    service_charge: ServiceCharge | None = None


@dataclass(frozen=True, slots=True)
class TaxSettings:
    """Whether menu prices include tax, and where tax is rounded to the cent."""

    prices_include_tax: bool
    rounding: TaxRounding

    def __post_init__(self) -> None:
        if not isinstance(self.prices_include_tax, bool):
            raise TypeError("prices_include_tax must be True or False")
        object.__setattr__(self, "rounding", TaxRounding(self.rounding))


@dataclass(frozen=True, slots=True)
class TaxLine:
    """Tax at one rate: the base it was charged on (tax excluded) and the tax itself."""

    rate: TaxRate
    taxable_base: int
    tax: int


@dataclass(frozen=True, slots=True)
class LineTotals:
    """One line's money: its price, what came off it, its net revenue and its tax."""

    line_id: int
    name: str
    category_id: int
    seat: int | None
    tax_rate: TaxRate
    status: LineStatus
    amount: int
    void: int
    discount: int
    comp: int
    net: int
    tax: int
    promotion: int = 0
    promotion_id: int | None = None
    promotion_name: str | None = None

    @property
    def total(self) -> int:
        """What the guest pays for this line, tax included."""
        return self.net + self.tax


@dataclass(frozen=True, slots=True)
class CheckTotals:
    """Every number a check shows or posts; all in cents, all adding up exactly."""

    prices_include_tax: bool
    gross: int
    voids: int
    discounts: int
    comps: int
    subtotal: int
    service_charge: int
    service_charge_tax: int
    service_charge_tax_rate: TaxRate | None
    net_sales: int
    net_by_category: Mapping[int, int]
    taxes: tuple[TaxLine, ...]
    tax: int
    total: int
    lines: tuple[LineTotals, ...]
    seat_subtotals: Mapping[int | None, int]
    tax_rounding: TaxRounding
    promotions: int = 0
    """Taken off by promotions (contra revenue of its own, before discounts and comps)."""

    @property
    def tax_rounded_per_line(self) -> bool:
        """Whether each tax line is the sum of its lines' rounded tax, so it may differ from its rate times its base."""
        return self.tax_rounding is TaxRounding.PER_LINE


@dataclass(frozen=True, slots=True)
class CheckPart:
    """One part of a split check, carrying its own net sales, service charge and tax."""

    total: int
    net_by_category: Mapping[int, int]
    service_charge: int
    taxes: tuple[TaxLine, ...]

    @property
    def net_sales(self) -> int:
        """Net sales of this part, before tax and service charge."""
        return sum(self.net_by_category.values())

    @property
    def tax(self) -> int:
        """All tax in this part."""
        return sum(tax_line.tax for tax_line in self.taxes)


def compute_totals(
    lines: Sequence[PricedLine],
    adjustments: CheckAdjustments,
    settings: TaxSettings,
    *,
    currency: str = "EUR",
) -> CheckTotals:
    """Price a check for the screen, the guest check, the receipt and the ledger."""
    return compute_family_totals([(lines, adjustments)], settings, currency=currency)[0]


def compute_family_totals(
    checks: Sequence[tuple[Sequence[PricedLine], CheckAdjustments]],
    settings: TaxSettings,
    *,
    currency: str = "EUR",
) -> list[CheckTotals]:
    """Price the checks split from one check together, so together they come to what the check came to.

    Each check keeps its own lines, discounts and comps; the service charge and the tax are worked out
    once for all of them (per rate, and per line or per shared line as the rounding setting says) and
    spread back by price, so splitting a check never adds or loses a cent of tax or service charge.
    """
    if not checks:
        return []
    seen: set[int] = set()
    for lines, _ in checks:
        for line in lines:
            if line.line_id in seen:
                raise ValueError(f"Line {line.line_id} appears twice on the check")
            seen.add(line.line_id)
    promoted = _family_promotions(checks)
    priced = [_price_lines(lines, adjustments, currency, promoted) for lines, adjustments in checks]

    charges = [0] * len(priced)
    charged = [index for index, check in enumerate(priced) if check.service is not None]
    if charged:
        service = priced[charged[0]].service
        assert service is not None
        bases = [priced[index].subtotal for index in charged]
        family_charge = _percent_of(sum(bases), service.percent)
        if family_charge:
            for index, share in zip(charged, allocate(family_charge, bases), strict=True):
                charges[index] = share

    # Every check's lines and its service charge become entries of one tax computation.
    prices: list[int] = []
    rates: list[TaxRate | None] = []
    groups: list[object] = []
    spans: list[tuple[int, int]] = []
    for index, check in enumerate(priced):
        start = len(prices)
        prices.extend(check.prices)
        rates.extend(None if line.status is LineStatus.VOIDED else line.tax_rate for line in check.lines)
        groups.extend(("line", line.tax_group if line.tax_group is not None else line.line_id) for line in check.lines)
        prices.append(charges[index])
        rates.append(check.service.tax_rate if check.service else None)
        # The service charge is rounded as one amount however many checks share it.
        groups.append(("service",))
        spans.append((start, len(prices)))
    taxes = _taxes_for(prices, rates, settings, groups)
    return [
        _assemble(check, charges[index], taxes[start:end], settings)
        for index, (check, (start, end)) in enumerate(zip(priced, spans, strict=True))
    ]


@dataclass(frozen=True, slots=True)
class _PricedCheck:
    lines: tuple[PricedLine, ...]
    amounts: tuple[int, ...]
    voids: tuple[int, ...]
    discounts: tuple[int, ...]
    comps: tuple[int, ...]
    prices: tuple[int, ...]
    service: ServiceCharge | None
    promotions: tuple[int, ...] = ()

    @property
    def subtotal(self) -> int:
        return sum(self.prices)


def _price_lines(
    lines: Sequence[PricedLine], adjustments: CheckAdjustments, currency: str, promoted: Mapping[int, int]
) -> _PricedCheck:
    _refuse_repeated_line_ids(lines)
    check_comped = adjustments.comp is not None
    amounts: list[int] = []
    voids: list[int] = []
    comps: list[int] = []
    discounts: list[int] = []
    for line in lines:
        price = line.amount
        voided = line.status is LineStatus.VOIDED
        comped = not voided and (check_comped or line.status is LineStatus.COMPED)
        amounts.append(0 if voided else price)
        voids.append(price if voided else 0)
        comps.append(price if comped else 0)
        discounts.append(0)
    promotions = [promoted.get(line.line_id, 0) for line in lines]
    for index, line in enumerate(lines):
        if line.discount is not None and line.status is LineStatus.ACTIVE and not check_comped:
            # A manager's discount comes on top of the promotion: it is worked out on what is left.
            discounts[index] = _line_discount_off(
                line.discount, amounts[index] - promotions[index], currency, promoted=promotions[index] > 0
            )

    if adjustments.discount is not None and not check_comped:
        open_indexes = [index for index, line in enumerate(lines) if line.status is LineStatus.ACTIVE]
        remaining = [amounts[index] - promotions[index] - discounts[index] for index in open_indexes]
        check_off = adjustments.discount.cents_off(sum(remaining), currency)
        if check_off:
            # Spread by what is left of each line, so revenue per category stays true.
            shares = allocate(check_off, remaining)
            for index, share in zip(open_indexes, shares, strict=True):
                discounts[index] += share

    prices = [
        amount - promotion - discount - comp
        for amount, promotion, discount, comp in zip(amounts, promotions, discounts, comps, strict=True)
    ]
    return _PricedCheck(
        lines=tuple(lines),
        amounts=tuple(amounts),
        voids=tuple(voids),
        discounts=tuple(discounts),
        comps=tuple(comps),
        prices=tuple(prices),
        service=adjustments.service_charge,
        promotions=tuple(promotions),
    )


def _family_promotions(checks: Sequence[tuple[Sequence[PricedLine], CheckAdjustments]]) -> dict[int, int]:
    """What promotions take off each line of the checks priced together, by line id.

    Only charged lines count (a void or a comp takes a line out of a deal). The checks split from one check are
    one table's order: a deal forms across them, and the shares of one shared line are rounded once.
    """
    counted = [
        line
        for lines, adjustments in checks
        if adjustments.comp is None
        for line in lines
        if line.promotion is not None and line.status is LineStatus.ACTIVE
    ]
    if not counted:
        return {}
    off = promotion_amounts(
        [
            PromotedLine(
                _item_price(line),
                line.quantity,
                line.promotion,
                line.tax_group if line.tax_group is not None else line.line_id,
            )
            for line in counted
        ]
    )
    return {line.line_id: min(cents, line.amount) for line, cents in zip(counted, off, strict=True)}


def _item_price(line: PricedLine) -> int:
    return line.item_price if line.item_price is not None else line.unit_price


def _line_discount_off(discount: Discount, base: int, currency: str, *, promoted: bool) -> int:
    if promoted and discount.kind is DiscountKind.AMOUNT and base < int(discount.value):
        # A deal formed after an amount discount was given: the discount takes what is left, never more.
        return base
    return discount.cents_off(base, currency)


def _assemble(check: _PricedCheck, charge: int, entry_taxes: Sequence[int], settings: TaxSettings) -> CheckTotals:
    lines = check.lines
    service = check.service
    entry_prices = [*check.prices, charge]
    entry_rates: list[TaxRate | None] = [None if line.status is LineStatus.VOIDED else line.tax_rate for line in lines]
    entry_rates.append(service.tax_rate if service else None)
    inclusive = settings.prices_include_tax
    entry_nets = [price - tax if inclusive else price for price, tax in zip(entry_prices, entry_taxes, strict=True)]

    taxes = tuple(
        TaxLine(
            rate=rate,
            taxable_base=sum(entry_nets[index] for index in indexes),
            tax=sum(entry_taxes[index] for index in indexes),
        )
        for rate, indexes in _group_by_rate(entry_rates).items()
    )

    line_totals = tuple(
        LineTotals(
            line_id=line.line_id,
            name=line.name,
            category_id=line.category_id,
            seat=line.seat,
            tax_rate=line.tax_rate,
            status=line.status,
            amount=check.amounts[index],
            void=check.voids[index],
            discount=check.discounts[index],
            comp=check.comps[index],
            net=entry_nets[index],
            tax=entry_taxes[index],
            promotion=check.promotions[index] if check.promotions else 0,
            promotion_id=line.promotion.rule_id if line.promotion and check.promotions[index] else None,
            promotion_name=line.promotion.name if line.promotion and check.promotions[index] else None,
        )
        for index, line in enumerate(lines)
    )
    counted = [line_total for line_total in line_totals if line_total.status is not LineStatus.VOIDED]
    net_by_category: dict[int, int] = {}
    seat_subtotals: dict[int | None, int] = {}
    for line_total in sorted(counted, key=lambda item: item.category_id):
        net_by_category[line_total.category_id] = net_by_category.get(line_total.category_id, 0) + line_total.net
    for line_total in sorted(counted, key=lambda item: _seat_key(item.seat)):
        seat_subtotals[line_total.seat] = seat_subtotals.get(line_total.seat, 0) + line_total.total

    service_net = entry_nets[-1]
    service_tax = entry_taxes[-1]
    net_sales = sum(net_by_category.values())
    tax = sum(tax_line.tax for tax_line in taxes)
    return CheckTotals(
        prices_include_tax=inclusive,
        gross=sum(check.amounts),
        voids=sum(check.voids),
        discounts=sum(check.discounts),
        comps=sum(check.comps),
        subtotal=check.subtotal,
        service_charge=service_net,
        service_charge_tax=service_tax,
        service_charge_tax_rate=service.tax_rate if service else None,
        net_sales=net_sales,
        net_by_category=net_by_category,
        taxes=taxes,
        tax=tax,
        total=net_sales + service_net + tax,
        lines=line_totals,
        seat_subtotals=seat_subtotals,
        tax_rounding=settings.rounding,
        promotions=sum(check.promotions),
    )


def _taxes_for(
    prices: Sequence[int],
    rates: Sequence[TaxRate | None],
    settings: TaxSettings,
    groups: Sequence[object] | None = None,
) -> list[int]:
    inclusive = settings.prices_include_tax
    taxes = [0] * len(prices)
    keys: Sequence[object] = groups if groups is not None else range(len(prices))
    for rate, indexes in _group_by_rate(rates).items():
        if settings.rounding is TaxRounding.PER_LINE:
            # A line shared out in parts is still one line to the tax authority: round it once.
            by_group: dict[object, list[int]] = {}
            for index in indexes:
                by_group.setdefault(keys[index], []).append(index)
            buckets = list(by_group.values())
        else:
            buckets = [indexes]
        for bucket in buckets:
            bases = [prices[index] for index in bucket]
            bucket_tax = _tax_in(sum(bases), rate.rate, inclusive)
            if bucket_tax:
                # Rounded once for the bucket, then spread so each line still knows its tax.
                for index, share in zip(bucket, allocate(bucket_tax, bases), strict=True):
                    taxes[index] = share
    return taxes


def _group_by_rate(rates: Sequence[TaxRate | None]) -> dict[TaxRate, list[int]]:
    groups: dict[TaxRate, list[int]] = {}
    for index, rate in enumerate(rates):
        if rate is not None:
            groups.setdefault(rate, []).append(index)
    return dict(sorted(groups.items(), key=lambda item: _rate_key(item[0])))


def _tax_in(price: int, rate: Decimal, inclusive: bool) -> int:
    exact_rate = Fraction(rate)
    if inclusive:
        # Round the tax, not the net: the tax is what the authority is owed to the cent.
        return round_cents(price * exact_rate / (1 + exact_rate))
    return round_cents(price * exact_rate)


def _percent_of(cents: int, percent: Decimal | int) -> int:
    return round_cents(Fraction(cents) * Fraction(percent) / 100)


def _rate_key(rate: TaxRate) -> tuple[int, Decimal, str]:
    return (rate.id, rate.rate, rate.name)


def _seat_key(seat: int | None) -> tuple[bool, int]:
    # Lines without a seat are shared by the table and listed after the seats.
    return (seat is None, seat or 0)


def _format(cents: int, currency: str = "EUR") -> str:
    return Money(cents, currency).format()


def _refuse_repeated_line_ids(lines: Sequence[PricedLine]) -> None:
    seen: set[int] = set()
    for line in lines:
        if line.line_id in seen:
            raise ValueError(f"Line {line.line_id} appears twice on the check")
        seen.add(line.line_id)


def _positive_quantity(quantity: Fraction | int) -> Fraction:
    if isinstance(quantity, bool) or not isinstance(quantity, Fraction | int):
        raise TypeError(f"A quantity is a Fraction or an int, not {type(quantity).__name__}")
    if quantity <= 0:
        raise ValueError("A quantity must be more than zero")
    return Fraction(quantity)


def _require_cents(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be whole cents as an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{what} cannot be negative")
