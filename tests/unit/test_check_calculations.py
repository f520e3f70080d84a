"""Check totals, tax rounding, discounts, comps, service charge, splits and tips."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.checks.calculations import (
    CheckAdjustments,
    CheckComp,
    CheckTotals,
    Discount,
    DiscountKind,
    LineDiscount,
    LineStatus,
    PricedLine,
    ServiceCharge,
    TaxRate,
    TaxRounding,
    TaxSettings,
    compute_totals,
)
from app.checks.payment_calculations import change_due, remaining_due, tip_suggestions
from app.checks.split_calculations import allocate_check_to_parts, share_line, split_amount_evenly, split_by_amounts
from app.lib.money import round_cents

FAST = settings(max_examples=200, deadline=None)

ZERO = TaxRate(1, "Zero rate", Decimal("0"))
REDUCED = TaxRate(2, "Reduced 5.5 %", Decimal("0.055"))
INTERMEDIATE = TaxRate(3, "Intermediate 10 %", Decimal("0.10"))
STANDARD = TaxRate(4, "Standard 21 %", Decimal("0.21"))
RATES = (ZERO, REDUCED, INTERMEDIATE, STANDARD)

FOOD, DRINKS, WINE = 10, 20, 30

EXCLUSIVE_PER_LINE = TaxSettings(prices_include_tax=False, rounding=TaxRounding.PER_LINE)
EXCLUSIVE_PER_CHECK = TaxSettings(prices_include_tax=False, rounding=TaxRounding.PER_CHECK)
INCLUSIVE_PER_LINE = TaxSettings(prices_include_tax=True, rounding=TaxRounding.PER_LINE)
INCLUSIVE_PER_CHECK = TaxSettings(prices_include_tax=True, rounding=TaxRounding.PER_CHECK)
NOTHING = CheckAdjustments()


def line(
    line_id: int,
    unit_price: int,
    quantity: Fraction | int = 1,
    *,
    rate: TaxRate = STANDARD,
    category_id: int = FOOD,
    seat: int | None = None,
    status: LineStatus = LineStatus.ACTIVE,
    discount: Discount | None = None,
) -> PricedLine:
    return PricedLine(
        line_id=line_id,
        name=f"Item {line_id}",
        unit_price=unit_price,
        quantity=Fraction(quantity),
        tax_rate=rate,
        category_id=category_id,
        seat=seat,
        status=status,
        discount=discount,
    )


def reference_vector() -> list[PricedLine]:
    return [line(1, 148, 4), line(2, 152), line(3, 154), line(4, 39)]


def test_per_line_rounding_gives_11_33_on_the_reference_vector() -> None:
    totals = compute_totals(reference_vector(), NOTHING, EXCLUSIVE_PER_LINE)
    assert [item.tax for item in totals.lines] == [124, 32, 32, 8]
    assert (totals.net_sales, totals.tax, totals.total) == (937, 196, 1133)


def test_per_check_rounding_gives_11_34_on_the_reference_vector() -> None:
    totals = compute_totals(reference_vector(), NOTHING, EXCLUSIVE_PER_CHECK)
    assert (totals.net_sales, totals.tax, totals.total) == (937, 197, 1134)
    assert sum(item.tax for item in totals.lines) == 197
    assert totals.taxes[0].taxable_base == 937


def test_a_line_amount_is_unit_price_times_quantity_rounded_half_up() -> None:
    assert line(1, 1000, Fraction(1, 3)).amount == 333
    assert line(1, 2000, Fraction(1, 3)).amount == 667
    assert line(1, 3, Fraction(1, 2)).amount == 2
    assert line(1, 2400, Fraction(1, 4)).amount == 600


def test_an_empty_check_totals_nothing() -> None:
    totals = compute_totals([], NOTHING, EXCLUSIVE_PER_LINE)
    assert totals.total == totals.tax == totals.gross == 0
    assert totals.taxes == ()
    assert totals.net_by_category == {}


def test_voided_lines_count_nothing_but_are_reported_as_voids() -> None:
    lines = [line(1, 1000), line(2, 450, 2, status=LineStatus.VOIDED)]
    totals = compute_totals(lines, NOTHING, EXCLUSIVE_PER_LINE)
    assert totals.voids == 900
    assert totals.gross == 1000
    assert totals.total == 1210
    voided = totals.lines[1]
    assert (voided.amount, voided.void, voided.net, voided.tax) == (0, 900, 0, 0)


def test_comped_lines_are_contra_revenue_not_discounts() -> None:
    lines = [line(1, 1000), line(2, 600, status=LineStatus.COMPED)]
    totals = compute_totals(lines, NOTHING, EXCLUSIVE_PER_LINE)
    assert totals.gross == 1600
    assert totals.comps == 600
    assert totals.discounts == 0
    assert totals.net_sales == 1000
    assert totals.total == 1210


def test_a_discount_on_a_comped_line_takes_nothing_more_off() -> None:
    comped = line(1, 600, status=LineStatus.COMPED, discount=Discount.percent(50, "Happy hour"))
    totals = compute_totals([comped], NOTHING, EXCLUSIVE_PER_LINE)
    assert (totals.comps, totals.discounts, totals.total) == (600, 0, 0)


def test_a_percent_line_discount_is_rounded_half_up() -> None:
    discounted = line(1, 1005, discount=Discount.percent(10, "Regular"))
    totals = compute_totals([discounted], NOTHING, EXCLUSIVE_PER_LINE)
    assert totals.discounts == 101
    assert totals.net_sales == 904


def test_an_amount_line_discount_comes_off_the_line() -> None:
    discounted = line(1, 1200, discount=LineDiscount(DiscountKind.AMOUNT, 200, "Cold"))
    totals = compute_totals([discounted], NOTHING, EXCLUSIVE_PER_LINE)
    assert (totals.discounts, totals.net_sales, totals.tax) == (200, 1000, 210)


def test_a_line_discount_larger_than_the_line_is_refused_not_clamped() -> None:
    discounted = line(1, 300, discount=Discount.amount(500, "Manager"))
    with pytest.raises(ValueError, match=r"€5.00 is more than the €3.00"):
        compute_totals([discounted], NOTHING, EXCLUSIVE_PER_LINE)


def test_a_check_discount_larger_than_the_check_is_refused_not_clamped() -> None:
    adjustments = CheckAdjustments(discount=Discount.amount(2500, "Birthday"))
    with pytest.raises(ValueError, match="more than"):
        compute_totals([line(1, 1000), line(2, 1000)], adjustments, EXCLUSIVE_PER_LINE)


def test_a_check_discount_is_spread_over_lines_by_largest_remainder() -> None:
    lines = [
        line(1, 1000, category_id=FOOD),
        line(2, 1000, category_id=DRINKS),
        line(3, 1000, category_id=WINE),
    ]
    adjustments = CheckAdjustments(discount=Discount.amount(100, "Loyalty"))
    totals = compute_totals(lines, adjustments, EXCLUSIVE_PER_LINE)
    assert [item.discount for item in totals.lines] == [34, 33, 33]
    assert totals.net_by_category == {FOOD: 966, DRINKS: 967, WINE: 967}


def test_a_percent_check_discount_is_rounded_once_for_the_check() -> None:
    lines = [line(1, 333), line(2, 333), line(3, 333)]
    adjustments = CheckAdjustments(discount=Discount.percent(Decimal("12.5"), "Staff"))
    totals = compute_totals(lines, adjustments, EXCLUSIVE_PER_LINE)
    assert totals.discounts == 125
    assert totals.subtotal == 874


def test_a_check_discount_applies_after_line_discounts() -> None:
    lines = [line(1, 1000, discount=Discount.amount(400, "Cold")), line(2, 600)]
    adjustments = CheckAdjustments(discount=Discount.percent(50, "Staff"))
    totals = compute_totals(lines, adjustments, EXCLUSIVE_PER_LINE)
    assert [item.discount for item in totals.lines] == [700, 300]
    assert totals.subtotal == 600


def test_comping_the_whole_check_comps_every_line_and_ignores_discounts() -> None:
    lines = [
        line(1, 1000, discount=Discount.amount(100, "Cold")),
        line(2, 500, status=LineStatus.VOIDED),
        line(3, 700, status=LineStatus.COMPED),
    ]
    adjustments = CheckAdjustments(
        discount=Discount.percent(10, "Regular"),
        comp=CheckComp("Kitchen lost the order"),
        service_charge=ServiceCharge(Decimal("18"), STANDARD),
    )
    totals = compute_totals(lines, adjustments, EXCLUSIVE_PER_LINE)
    assert (totals.comps, totals.discounts, totals.voids) == (1700, 0, 500)
    assert totals.total == totals.service_charge == totals.tax == 0


def test_inclusive_prices_extract_the_tax_from_the_price() -> None:
    totals = compute_totals([line(1, 1210)], NOTHING, INCLUSIVE_PER_LINE)
    assert (totals.net_sales, totals.tax, totals.total) == (1000, 210, 1210)
    assert totals.taxes[0].taxable_base == 1000


def test_inclusive_prices_round_the_extracted_tax_per_line_or_per_check() -> None:
    lines = [line(1, 100), line(2, 100), line(3, 100)]
    per_line = compute_totals(lines, NOTHING, INCLUSIVE_PER_LINE)
    per_check = compute_totals(lines, NOTHING, INCLUSIVE_PER_CHECK)
    # 100 / 1.21 leaves 17.36 of tax in each line; 52.07 on the three together.
    assert (per_line.tax, per_line.total) == (51, 300)
    assert (per_check.tax, per_check.total) == (52, 300)
    assert [item.tax for item in per_check.lines] == [18, 17, 17]


def test_taxes_are_reported_per_rate_in_rate_order() -> None:
    lines = [
        line(1, 1000, rate=STANDARD, category_id=WINE),
        line(2, 800, rate=INTERMEDIATE),
        line(3, 450, 2, rate=REDUCED, category_id=DRINKS),
        line(4, 200, rate=STANDARD, category_id=DRINKS),
    ]
    totals = compute_totals(lines, NOTHING, EXCLUSIVE_PER_LINE)
    assert [(t.rate, t.taxable_base, t.tax) for t in totals.taxes] == [
        (REDUCED, 900, 50),
        (INTERMEDIATE, 800, 80),
        (STANDARD, 1200, 252),
    ]
    assert totals.net_by_category == {FOOD: 800, DRINKS: 1100, WINE: 1000}


def test_a_taxable_service_charge_is_revenue_taxed_at_its_own_rate() -> None:
    lines = [line(1, 5000, rate=INTERMEDIATE), line(2, 5000, rate=INTERMEDIATE)]
    service = ServiceCharge(Decimal("18"), STANDARD, name="Party of 8")
    totals = compute_totals(lines, CheckAdjustments(service_charge=service), EXCLUSIVE_PER_LINE)
    assert totals.service_charge == 1800
    assert totals.service_charge_tax == 378
    assert [(t.rate, t.taxable_base, t.tax) for t in totals.taxes] == [
        (INTERMEDIATE, 10000, 1000),
        (STANDARD, 1800, 378),
    ]
    assert totals.total == 10000 + 1800 + 1000 + 378


def test_an_untaxed_service_charge_adds_no_tax() -> None:
    service = ServiceCharge(Decimal("12.5"))
    totals = compute_totals([line(1, 999)], CheckAdjustments(service_charge=service), EXCLUSIVE_PER_LINE)
    assert (totals.service_charge, totals.service_charge_tax) == (125, 0)
    assert totals.total == 999 + 210 + 125
    assert not service.taxable


def test_a_service_charge_is_worked_out_after_discounts() -> None:
    adjustments = CheckAdjustments(
        discount=Discount.amount(1000, "Voucher"),
        service_charge=ServiceCharge(Decimal("10")),
    )
    totals = compute_totals([line(1, 6000)], adjustments, EXCLUSIVE_PER_LINE)
    assert totals.service_charge == 500


def test_with_inclusive_prices_the_service_charge_includes_its_tax() -> None:
    service = ServiceCharge(Decimal("10"), STANDARD)
    totals = compute_totals([line(1, 12100)], CheckAdjustments(service_charge=service), INCLUSIVE_PER_LINE)
    assert (totals.service_charge, totals.service_charge_tax) == (1000, 210)
    assert totals.total == 12100 + 1210


def test_seat_subtotals_add_each_guests_lines_and_list_shared_lines_last() -> None:
    lines = [
        line(1, 1000, seat=2),
        line(2, 500, seat=None, rate=ZERO),
        line(3, 1000, seat=1),
        line(4, 200, seat=1, rate=ZERO),
    ]
    totals = compute_totals(lines, NOTHING, EXCLUSIVE_PER_LINE)
    assert list(totals.seat_subtotals.items()) == [(1, 1410), (2, 1210), (None, 500)]


def test_the_same_line_twice_on_a_check_is_refused() -> None:
    with pytest.raises(ValueError, match="appears twice"):
        compute_totals([line(1, 100), line(1, 200)], NOTHING, EXCLUSIVE_PER_LINE)


def test_a_line_refuses_a_negative_or_zero_quantity() -> None:
    with pytest.raises(ValueError, match="more than zero"):
        line(1, 100, Fraction(-1))
    with pytest.raises(ValueError, match="more than zero"):
        line(1, 100, 0)


def test_a_line_refuses_float_prices_and_quantities() -> None:
    with pytest.raises(TypeError):
        replace(line(1, 100), unit_price=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        replace(line(1, 100), quantity=0.25)  # type: ignore[arg-type]


def test_a_line_refuses_a_negative_price() -> None:
    with pytest.raises(ValueError, match="negative"):
        line(1, -100)


def test_a_line_reads_its_status_from_plain_text() -> None:
    voided = replace(line(1, 100), status="voided")  # type: ignore[arg-type]
    assert voided.status is LineStatus.VOIDED
    with pytest.raises(ValueError):
        replace(line(1, 100), status="deleted")  # type: ignore[arg-type]


def test_a_tax_rate_refuses_floats_and_nonsense() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        TaxRate(1, "VAT", 0.21)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        TaxRate(1, "VAT", Decimal("21"))
    with pytest.raises(ValueError):
        TaxRate(1, "VAT", Decimal("-0.1"))
    with pytest.raises(ValueError):
        TaxRate(1, "VAT", Decimal("NaN"))


def test_a_discount_needs_a_reason_and_a_sensible_value() -> None:
    with pytest.raises(ValueError, match="reason"):
        Discount.percent(10, "  ")
    with pytest.raises(ValueError, match="at most 100"):
        Discount.percent(150, "Typo")
    with pytest.raises(ValueError, match="more than zero"):
        Discount.amount(-200, "Typo")
    with pytest.raises(TypeError):
        Discount.amount(Decimal("2.00"), "Typo")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Discount.percent(12.5, "Typo")  # type: ignore[arg-type]


def test_a_comp_needs_a_reason() -> None:
    with pytest.raises(ValueError, match="reason"):
        CheckComp("")


def test_a_service_charge_refuses_a_float_percent() -> None:
    with pytest.raises(TypeError):
        ServiceCharge(18.0)  # type: ignore[arg-type]


def test_split_evenly_three_ways_leaves_no_cent_behind() -> None:
    assert split_amount_evenly(1000, 3) == [334, 333, 333]


def test_split_evenly_refuses_a_negative_amount() -> None:
    with pytest.raises(ValueError, match="negative"):
        split_amount_evenly(-100, 2)


def test_split_by_amounts_returns_amounts_that_cover_the_check() -> None:
    assert split_by_amounts(5000, [2000, 3000]) == [2000, 3000]


def test_split_by_amounts_that_do_not_add_up_is_refused_with_both_sums() -> None:
    with pytest.raises(ValueError, match=r"Split amounts add up to €45.00, the check is €50.00"):
        split_by_amounts(5000, [2000, 2500])


def test_split_by_amounts_refuses_negative_parts() -> None:
    with pytest.raises(ValueError, match="negative"):
        split_by_amounts(1000, [1500, -500])


def test_a_bottle_shared_four_ways_gives_quarter_bottles() -> None:
    assert share_line(Fraction(1), 4) == [Fraction(1, 4)] * 4
    assert share_line(Fraction(1), 4, unit_price=2400) == [Fraction(1, 4)] * 4


def test_a_shared_line_priced_by_share_leaves_no_cent_behind() -> None:
    shares = share_line(Fraction(1), 3, unit_price=1000)
    assert sum(shares) == 1
    assert [round_cents(1000 * share) for share in shares] == [334, 333, 333]


def test_a_line_too_cheap_to_share_by_the_cent_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be shared"):
        share_line(Fraction(1), 3, unit_price=2)


def test_a_check_split_by_amount_gives_each_part_exactly_its_amount() -> None:
    totals = compute_totals(reference_vector(), NOTHING, EXCLUSIVE_PER_CHECK)
    parts = allocate_check_to_parts(totals, [500, 634])
    assert [part.total for part in parts] == [500, 634]
    assert sum(part.tax for part in parts) == 197


def test_a_check_split_evenly_keeps_its_tax_whole_across_parts() -> None:
    totals = compute_totals(reference_vector(), NOTHING, EXCLUSIVE_PER_LINE)
    parts = allocate_check_to_parts(totals, [1, 1, 1])
    assert [part.total for part in parts] == [378, 378, 377]
    assert sorted(part.tax for part in parts) == [65, 65, 66]
    for part in parts:
        assert part.total == part.net_sales + part.service_charge + part.tax


def test_tip_suggestions_offer_the_usual_percents_rounded_half_up() -> None:
    assert tip_suggestions(4250) == [(15, 638), (18, 765), (20, 850), (22, 935)]
    assert tip_suggestions(1000, (Decimal("12.5"),)) == [(Decimal("12.5"), 125)]


def test_change_due_is_what_the_cash_exceeds_the_check_by() -> None:
    assert change_due(1133, 2000) == 867
    assert change_due(1133, 1133) == 0
    assert change_due(1133, 1000) == 0


def test_remaining_due_subtracts_every_payment() -> None:
    assert remaining_due(5000, []) == 5000
    assert remaining_due(5000, [2000, 2500]) == 500
    assert remaining_due(5000, [2000, 3500]) == -500


# Property tests: random checks must always add up.


quantities = st.one_of(
    st.integers(1, 12).map(Fraction),
    st.fractions(min_value=Fraction(1, 8), max_value=10, max_denominator=8),
)
statuses = st.sampled_from([LineStatus.ACTIVE] * 4 + [LineStatus.VOIDED, LineStatus.COMPED])
tax_settings = st.builds(TaxSettings, st.booleans(), st.sampled_from(TaxRounding))


percent_discounts = st.sampled_from([Decimal("0.5"), Decimal("10"), Decimal("12.5"), Decimal("33.3"), Decimal("100")])
seats = st.none() | st.integers(1, 6)
categories = st.sampled_from([FOOD, DRINKS, WINE])
rates = st.sampled_from(RATES)
discount_kinds = st.sampled_from(["none", "none", "percent", "amount"])


@st.composite
def priced_lines(draw: st.DrawFn) -> list[PricedLine]:
    lines: list[PricedLine] = []
    for line_id in range(draw(st.integers(0, 8))):
        unit_price = draw(st.integers(0, 20_000))
        quantity = draw(quantities)
        amount = round_cents(unit_price * quantity)
        kind = draw(discount_kinds)
        discount = None
        if kind == "percent":
            discount = Discount.percent(draw(percent_discounts), "Happy hour")
        elif kind == "amount" and amount > 0:
            discount = Discount.amount(draw(st.integers(1, amount)), "Cold")
        lines.append(
            PricedLine(
                line_id=line_id,
                name=f"Item {line_id}",
                unit_price=unit_price,
                quantity=quantity,
                tax_rate=draw(rates),
                category_id=draw(categories),
                seat=draw(seats),
                status=draw(statuses),
                discount=discount,
            )
        )
    return lines


service_charges = st.none() | st.builds(
    ServiceCharge,
    st.sampled_from([Decimal("10"), Decimal("12.5"), Decimal("18"), Decimal("20")]),
    st.none() | st.sampled_from(RATES),
)


@st.composite
def checks(
    draw: st.DrawFn,
) -> tuple[list[PricedLine], CheckAdjustments, TaxSettings, CheckTotals]:
    lines = draw(priced_lines())
    tax = draw(tax_settings)
    comp = CheckComp("Long wait") if draw(st.integers(0, 9)) == 0 else None
    adjustments = CheckAdjustments(comp=comp, service_charge=draw(service_charges))
    # The largest amount discount a check can take is what is left after line discounts.
    base = compute_totals(lines, adjustments, tax).subtotal
    kind = draw(discount_kinds)
    discount = None
    if kind == "percent":
        discount = Discount.percent(draw(st.integers(1, 100)), "Staff")
    elif kind == "amount" and base > 0:
        discount = Discount.amount(draw(st.integers(1, base)), "Voucher")
    adjustments = replace(adjustments, discount=discount)
    return lines, adjustments, tax, compute_totals(lines, adjustments, tax)


def every_number(totals: CheckTotals) -> list[object]:
    numbers: list[object] = [
        totals.gross,
        totals.voids,
        totals.discounts,
        totals.comps,
        totals.subtotal,
        totals.service_charge,
        totals.service_charge_tax,
        totals.net_sales,
        totals.tax,
        totals.total,
        *totals.net_by_category.values(),
        *totals.seat_subtotals.values(),
    ]
    for tax_line in totals.taxes:
        numbers += [tax_line.taxable_base, tax_line.tax]
    for item in totals.lines:
        numbers += [item.amount, item.void, item.discount, item.comp, item.net, item.tax]
    return numbers


@FAST
@given(checks())
def test_every_check_total_is_a_non_negative_whole_number_of_cents(
    check: tuple[list[PricedLine], CheckAdjustments, TaxSettings, CheckTotals],
) -> None:
    for number in every_number(check[3]):
        assert type(number) is int
        assert number >= 0


@FAST
@given(checks())
def test_the_check_total_is_its_net_sales_service_charge_and_tax(
    check: tuple[list[PricedLine], CheckAdjustments, TaxSettings, CheckTotals],
) -> None:
    _, _, tax, totals = check
    assert totals.total == (sum(totals.net_by_category.values()) + totals.service_charge + totals.tax)
    assert totals.net_sales == sum(item.net for item in totals.lines)
    assert totals.net_sales == sum(totals.net_by_category.values())
    assert totals.tax == sum(t.tax for t in totals.taxes)
    assert totals.tax == sum(item.tax for item in totals.lines) + (totals.service_charge_tax)
    service_gross = totals.service_charge + totals.service_charge_tax
    if tax.prices_include_tax:
        assert totals.total == totals.subtotal + service_gross
    else:
        assert totals.subtotal == totals.net_sales
        assert totals.total == totals.subtotal + totals.service_charge + totals.tax


@FAST
@given(checks())
def test_gross_sales_are_discounts_comps_and_what_the_guests_are_charged(
    check: tuple[list[PricedLine], CheckAdjustments, TaxSettings, CheckTotals],
) -> None:
    lines, _, _, totals = check
    assert totals.gross == totals.discounts + totals.comps + totals.subtotal
    assert totals.voids == sum(item.amount for item in lines if item.status is LineStatus.VOIDED)
    for item in totals.lines:
        assert item.amount == item.discount + item.comp + item.total - (0 if totals.prices_include_tax else item.tax)


@FAST
@given(checks())
def test_tax_bases_and_seats_account_for_every_line(
    check: tuple[list[PricedLine], CheckAdjustments, TaxSettings, CheckTotals],
) -> None:
    _, adjustments, _, totals = check
    taxed_service = totals.service_charge if totals.service_charge_tax_rate is not None else 0
    assert sum(t.taxable_base for t in totals.taxes) == totals.net_sales + taxed_service
    assert sum(totals.seat_subtotals.values()) == totals.total - (totals.service_charge + totals.service_charge_tax)
    if adjustments.comp is not None:
        assert totals.total == 0


@FAST
@given(checks())
def test_tax_is_rounded_where_the_setting_says(
    check: tuple[list[PricedLine], CheckAdjustments, TaxSettings, CheckTotals],
) -> None:
    _, _, tax, totals = check
    inclusive = tax.prices_include_tax

    def exact_tax(price: int, rate: Decimal) -> Fraction:
        share = Fraction(rate) / (1 + Fraction(rate)) if inclusive else Fraction(rate)
        return price * share

    for tax_line in totals.taxes:
        charged = [
            (item.net + (item.tax if inclusive else 0), item.tax)
            for item in totals.lines
            if item.tax_rate == tax_line.rate and item.status is not LineStatus.VOIDED
        ]
        if totals.service_charge_tax_rate == tax_line.rate:
            charged.append(
                (
                    totals.service_charge + (totals.service_charge_tax if inclusive else 0),
                    totals.service_charge_tax,
                )
            )
        rate = tax_line.rate.rate
        if tax.rounding is TaxRounding.PER_LINE:
            for price, line_tax in charged:
                assert line_tax == round_cents(exact_tax(price, rate))
        else:
            whole = sum(price for price, _ in charged)
            assert tax_line.tax == round_cents(exact_tax(whole, rate))


@FAST
@given(checks(), st.lists(st.integers(0, 50), min_size=1, max_size=6))
def test_check_parts_add_up_to_the_check_in_every_number(
    check: tuple[list[PricedLine], CheckAdjustments, TaxSettings, CheckTotals],
    part_weights: list[int],
) -> None:
    totals = check[3]
    if sum(part_weights) == 0:
        part_weights = [*part_weights[:-1], 1]
    parts = allocate_check_to_parts(totals, part_weights)
    assert len(parts) == len(part_weights)
    assert sum(part.total for part in parts) == totals.total
    assert sum(part.service_charge for part in parts) == totals.service_charge
    for category_id, net in totals.net_by_category.items():
        assert sum(part.net_by_category[category_id] for part in parts) == net
    for index, tax_line in enumerate(totals.taxes):
        assert sum(part.taxes[index].tax for part in parts) == tax_line.tax
        assert sum(part.taxes[index].taxable_base for part in parts) == tax_line.taxable_base
    weight_sum = sum(part_weights)
    for part, weight in zip(parts, part_weights, strict=True):
        assert part.total == part.net_sales + part.service_charge + part.tax
        assert abs(part.total - Fraction(totals.total * weight, weight_sum)) < 1
        for part_tax, tax_line in zip(part.taxes, totals.taxes, strict=True):
            assert part_tax.tax >= 0
            assert part_tax.taxable_base >= 0
            assert abs(part_tax.tax - Fraction(tax_line.tax * weight, weight_sum)) < 2
        assert all(net >= 0 for net in part.net_by_category.values())
        assert part.service_charge >= 0
        if weight == 0:
            assert part.total == 0


@FAST
@given(st.integers(0, 10**7), st.integers(1, 20))
def test_an_even_split_never_has_negative_parts_or_a_lost_cent(total: int, n: int) -> None:
    parts = split_amount_evenly(total, n)
    assert sum(parts) == total
    assert min(parts) >= 0
    assert max(parts) - min(parts) <= 1


@FAST
@given(st.lists(st.integers(0, 100_000), min_size=1, max_size=8))
def test_amounts_that_add_up_to_the_check_are_accepted_as_they_are(
    amounts: list[int],
) -> None:
    assert split_by_amounts(sum(amounts), amounts) == amounts


@FAST
@given(quantities, st.integers(1, 12), st.none() | st.integers(0, 50_000))
def test_shares_of_a_line_add_back_to_its_quantity_and_its_price(
    quantity: Fraction, n: int, unit_price: int | None
) -> None:
    try:
        shares = share_line(quantity, n, unit_price=unit_price)
    except ValueError:
        assert unit_price is not None
        assert round_cents(unit_price * quantity) < n
        return
    assert len(shares) == n
    assert sum(shares) == quantity
    assert all(share > 0 for share in shares)
    if unit_price is not None:
        prices = [round_cents(unit_price * share) for share in shares]
        assert sum(prices) == round_cents(unit_price * quantity)
        assert max(prices) - min(prices) <= 1


@FAST
@given(st.integers(0, 10**7), st.lists(st.integers(0, 10**6), max_size=5))
def test_remaining_due_and_payments_always_make_up_the_total(total: int, payments: list[int]) -> None:
    assert remaining_due(total, payments) + sum(payments) == total
