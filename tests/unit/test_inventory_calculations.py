"""Stock maths: typed quantities, values, the moving average, recipe scaling; no float anywhere."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.inventory.calculations import (
    QuantityError,
    combine,
    format_quantity,
    format_unit_cost,
    moving_average,
    parse_quantity,
    portions_left,
    scale_recipe,
    unit_cost_of,
    value_cents,
)


@pytest.mark.parametrize(
    ("text", "milli"),
    [("2.5", 2_500), ("2,5", 2_500), ("180", 180_000), (" 0.001 ", 1), (".5", 500), ("12.", 12_000)],
)
def test_a_typed_quantity_becomes_thousandths(text: str, milli: int) -> None:
    assert parse_quantity(text) == milli


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter a quantity"),
        ("abc", "Enter a quantity"),
        ("1.2345", "three decimals"),
        ("1e3", "Enter a quantity"),
        ("0", "more than zero"),
        ("-1", "cannot be negative"),
        ("999999999999", "Enter a quantity"),
    ],
)
def test_a_bad_quantity_is_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(QuantityError, match=message):
        parse_quantity(text)


def test_zero_and_negative_quantities_are_allowed_only_when_asked() -> None:
    assert parse_quantity("0", allow_zero=True) == 0
    assert parse_quantity("-0.02", allow_negative=True) == -20


@pytest.mark.parametrize(
    ("milli", "text"), [(2_500, "2.5"), (180_000, "180"), (-1_250, "-1.25"), (12_500_000, "12,500")]
)
def test_thousandths_read_back_as_a_person_writes_them(milli: int, text: str) -> None:
    assert format_quantity(milli) == text


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_formatting_and_parsing_a_quantity_round_trip(milli: int) -> None:
    assert parse_quantity(format_quantity(milli).replace(",", ""), allow_zero=True, allow_negative=True) == milli


def test_a_value_is_quantity_times_cost_in_whole_cents_half_to_even() -> None:
    assert value_cents(180_000, 2_400) == 432, "180 g of beef at €24/kg"
    assert value_cents(500, 1_000) == 0, "half a cent rounds to even: 0"
    assert value_cents(1_500, 1_000) == 2, "one and a half cents rounds to even: 2"
    assert value_cents(-180_000, 2_400) == -432


def test_a_delivery_cost_is_spread_over_its_quantity() -> None:
    assert unit_cost_of(20_000, 7_000_000) == 2_857, "€200 for 7 l of gin is 2.857 cents per ml"
    with pytest.raises(ValueError):
        unit_cost_of(100, 0)


def test_the_moving_average_blends_stock_value_and_the_invoice() -> None:
    assert moving_average(48_000, 2_160, 52_000, 2_600) == 47_600
    assert moving_average(0, 0, 10_000, 10_500) == 1_050_000, "nothing on hand: the delivery's cost"
    assert moving_average(-2_000, -1_960, 10_000, 10_500) == 1_050_000, "negative stock cannot be valued"


@given(
    on_hand=st.integers(min_value=1, max_value=10**9),
    old_cost=st.integers(min_value=0, max_value=10**7),
    received=st.integers(min_value=1, max_value=10**9),
    new_cost=st.integers(min_value=0, max_value=10**7),
)
def test_the_average_lies_between_the_old_and_the_new_cost(
    on_hand: int, old_cost: int, received: int, new_cost: int
) -> None:
    value = value_cents(on_hand, old_cost)
    invoice = value_cents(received, new_cost)
    average = moving_average(on_hand, value, received, invoice)
    low = min(unit_cost_of(value, on_hand), unit_cost_of(invoice, received))
    high = max(unit_cost_of(value, on_hand), unit_cost_of(invoice, received))
    assert low - 1 <= average <= high + 1
    assert isinstance(average, int)


def test_a_shared_portion_scales_the_recipe_to_whole_thousandths() -> None:
    assert scale_recipe(250_000, Fraction(1, 3)) == 83_333
    assert scale_recipe(1_000, Fraction(1, 4)) == 250
    assert scale_recipe(30_000, Fraction(2)) == 60_000


def test_combining_usages_nets_modifiers_and_drops_what_is_taken_out() -> None:
    assert combine([(1, 20_000), (2, 5_000), (1, -20_000), (3, 10), (3, -50)]) == {2: 5_000}


def test_an_average_cost_reads_per_kilo_litre_or_piece() -> None:
    assert format_unit_cost(2_400, "g") == "€24.00 / kg"
    assert format_unit_cost(2_857, "ml") == "€28.57 / l"
    assert format_unit_cost(45_000, "piece") == "€0.45 / pc"


# Portions left -------------------------------------------------------------------------------------------------


def test_portions_left_rounds_down_to_whole_portions() -> None:
    assert portions_left({1: 2_999}, {1: 1_000}) == 2
    assert portions_left({1: 3_000}, {1: 1_000}) == 3
    assert portions_left({1: 999}, {1: 1_000}) == 0


def test_portions_left_is_the_fewest_any_ingredient_makes() -> None:
    # 10 patties, 4 buns: four burgers
    assert portions_left({1: 10_000, 2: 4_000}, {1: 1_000, 2: 1_000}) == 4
    # 300 g of cheese at 120 g a portion: two, however many patties
    assert portions_left({1: 10_000, 2: 300_000}, {1: 1_000, 2: 120_000}) == 2


def test_portions_left_with_a_modifier_counts_the_dish_and_its_extra_together() -> None:
    dish = {1: 1_000}
    with_bacon = combine([(1, 1_000), (2, 30_000)])
    assert portions_left({1: 10_000, 2: 60_000}, dish) == 10
    assert portions_left({1: 10_000, 2: 60_000}, with_bacon) == 2
    # a 'no' modifier that takes the only counted ingredient out leaves nothing to count
    assert portions_left({1: 0}, combine([(1, 1_000), (1, -1_000)])) is None


def test_portions_left_never_goes_below_zero_and_is_none_without_counted_stock() -> None:
    assert portions_left({1: -2_000}, {1: 1_000}) == 0
    assert portions_left({}, {1: 1_000}) == 0
    assert portions_left({1: 5_000}, {}) is None
