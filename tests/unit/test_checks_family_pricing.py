"""Property tests: however a check is split, shared and paid, every cent lands on exactly one check."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from app.checks.calculations import (
    CheckAdjustments,
    PricedLine,
    ServiceCharge,
    TaxRate,
    TaxRounding,
    TaxSettings,
    compute_family_totals,
    compute_totals,
)
from app.checks.payment_calculations import remaining_due
from app.checks.split_calculations import allocate_check_to_parts, share_line
from app.lib.money import round_cents, split_evenly

RATES = [TaxRate(1, "Food 9 %", Decimal("0.09")), TaxRate(2, "Alcohol 21 %", Decimal("0.21"))]


@st.composite
def checks(draw: st.DrawFn) -> list[PricedLine]:
    count = draw(st.integers(min_value=1, max_value=8))
    return [
        PricedLine(
            line_id=index + 1,
            name=f"Item {index + 1}",
            unit_price=draw(st.integers(min_value=1, max_value=9_999)),
            quantity=Fraction(draw(st.integers(min_value=1, max_value=4))),
            tax_rate=draw(st.sampled_from(RATES)),
            category_id=draw(st.integers(min_value=1, max_value=3)),
            seat=draw(st.one_of(st.none(), st.integers(min_value=1, max_value=4))),
        )
        for index in range(count)
    ]


tax_settings = st.builds(TaxSettings, prices_include_tax=st.booleans(), rounding=st.sampled_from(list(TaxRounding)))
service_charges = st.one_of(
    st.none(), st.builds(ServiceCharge, percent=st.sampled_from([Decimal("12.5"), Decimal("10")]))
)


def _shared(lines: list[PricedLine], index: int, ways: int) -> tuple[list[PricedLine], list[PricedLine]]:
    """The line at `index` shared `ways` ways: the other lines, and the shares (the first keeps the line's id)."""
    line = lines[index]
    quantities = share_line(line.quantity, ways, unit_price=line.unit_price)
    shares = [
        PricedLine(
            line_id=line.line_id if n == 0 else 1000 + n,
            name=line.name,
            unit_price=line.unit_price,
            quantity=quantity,
            tax_rate=line.tax_rate,
            category_id=line.category_id,
            seat=line.seat,
            tax_group=None if n == 0 else line.line_id,
        )
        for n, quantity in enumerate(quantities)
    ]
    return [other for position, other in enumerate(lines) if position != index], shares


@settings(max_examples=300, deadline=None)
@given(
    lines=checks(),
    tax=tax_settings,
    service=service_charges,
    parts=st.integers(min_value=1, max_value=4),
    data=st.data(),
)
def test_any_split_with_a_shared_line_adds_up_to_the_check_in_total_tax_and_service(
    lines: list[PricedLine], tax: TaxSettings, service: ServiceCharge | None, parts: int, data: st.DataObject
) -> None:
    adjustments = CheckAdjustments(service_charge=service)
    whole = compute_totals(lines, adjustments, tax)
    shared_index = data.draw(st.integers(min_value=0, max_value=len(lines) - 1))
    ways = data.draw(st.integers(min_value=1, max_value=4))
    if lines[shared_index].amount < ways:
        ways = 1
    rest, shares = _shared(lines, shared_index, ways)
    members: list[list[PricedLine]] = [[] for _ in range(parts)]
    for line in rest:
        members[data.draw(st.integers(min_value=0, max_value=parts - 1))].append(line)
    for share in shares:
        members[data.draw(st.integers(min_value=0, max_value=parts - 1))].append(share)
    family = compute_family_totals([(member, adjustments) for member in members], tax)

    assert sum(t.total for t in family) == whole.total
    assert sum(t.tax for t in family) == whole.tax
    assert (
        sum(t.service_charge + t.service_charge_tax for t in family) == whole.service_charge + whole.service_charge_tax
    )
    assert sum(t.net_sales for t in family) == whole.net_sales
    for rate in RATES:
        assert sum(tl.tax for t in family for tl in t.taxes if tl.rate == rate) == sum(
            tl.tax for tl in whole.taxes if tl.rate == rate
        )
    for totals in family:
        assert totals.total >= 0
        assert all(line.tax >= 0 and line.net >= 0 for line in totals.lines)
        assert totals.total == totals.net_sales + totals.service_charge + totals.tax


@settings(max_examples=200, deadline=None)
@given(lines=checks(), inclusive=st.booleans())
def test_per_line_rounding_rounds_each_line_and_per_check_rounds_each_rate_once(
    lines: list[PricedLine], inclusive: bool
) -> None:
    for rounding in TaxRounding:
        totals = compute_totals(lines, CheckAdjustments(), TaxSettings(inclusive, rounding))
        for rate in RATES:
            bases = [line.amount for line in lines if line.tax_rate == rate]
            exact = Fraction(rate.rate) / (1 + Fraction(rate.rate)) if inclusive else Fraction(rate.rate)
            if rounding is TaxRounding.PER_LINE:
                expected = sum(round_cents(base * exact) for base in bases)
            else:
                expected = round_cents(sum(bases) * exact)
            assert sum(tl.tax for tl in totals.taxes if tl.rate == rate) == expected


@settings(max_examples=200, deadline=None)
@given(
    lines=checks(),
    tax=tax_settings,
    ways=st.integers(min_value=1, max_value=6),
    tips=st.lists(st.integers(min_value=0, max_value=2_000), min_size=6, max_size=6),
)
def test_paying_an_even_split_part_by_part_pays_the_total_and_the_tips_exactly(
    lines: list[PricedLine], tax: TaxSettings, ways: int, tips: list[int]
) -> None:
    totals = compute_totals(lines, CheckAdjustments(), tax)
    if totals.total < ways:
        ways = 1
    owed = split_evenly(totals.total, ways)
    parts = allocate_check_to_parts(totals, owed)
    assert [part.total for part in parts] == owed
    assert sum(part.tax for part in parts) == totals.tax
    payments = [(amount, tips[index]) for index, amount in enumerate(owed)]
    assert remaining_due(totals.total, [amount for amount, _ in payments]) == 0
    assert sum(amount + tip for amount, tip in payments) == totals.total + sum(tip for _, tip in payments)
    assert all(amount >= 0 for amount, _ in payments)


def test_a_bottle_shared_four_ways_on_four_checks_keeps_the_bottles_tax() -> None:
    rate = RATES[1]
    bottle = PricedLine(1, "Rioja (bottle)", 3400, Fraction(1), rate, 1)
    whole = compute_totals([bottle], CheckAdjustments(), TaxSettings(False, TaxRounding.PER_LINE))
    _, shares = _shared([bottle], 0, 4)
    family = compute_family_totals(
        [([share], CheckAdjustments()) for share in shares], TaxSettings(False, TaxRounding.PER_LINE)
    )
    assert whole.tax == 714
    assert [t.total for t in family] == [1029, 1029, 1028, 1028]
    assert sum(t.total for t in family) == whole.total == 4114
