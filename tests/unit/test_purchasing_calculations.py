"""Pack and par maths: a case in the item's unit, suggestions rounded up to whole packs, the delivery day's par."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.purchasing import calculations as calc

MONDAY = dt.date(2026, 12, 7)


@pytest.mark.parametrize(
    ("units", "size_milli", "size_unit", "item_unit", "expected"),
    [
        (6, 750_000, "ml", "ml", 4_500_000),  # a case of 6 x 750 ml
        (6, 750, "l", "ml", 4_500_000),  # the same case written in litres
        (12, 70_000, "cl", "ml", 8_400_000),  # 12 x 70 cl
        (1, 5_000, "kg", "g", 5_000_000),  # a 5 kg sack
        (1, 2_500, "kg", "g", 2_500_000),  # 2.5 kg
        (30, 1_000, "piece", "piece", 30_000),  # a tray of 30 eggs
    ],
)
def test_a_pack_is_converted_to_thousandths_of_the_items_unit(
    units: int, size_milli: int, size_unit: str, item_unit: str, expected: int
) -> None:
    assert calc.pack_quantity_milli(units, size_milli, size_unit, item_unit) == expected


@pytest.mark.parametrize(
    ("units", "size_milli", "size_unit", "item_unit", "message"),
    [
        (6, 750_000, "kg", "ml", "kept in millilitres is bought in ml, cl, l, not kg"),
        (1, 1_000, "l", "g", "kept in grams is bought in g, kg, not l"),
        (0, 750_000, "ml", "ml", "at least one unit"),
        (6, 0, "ml", "ml", "more than zero"),
        (100_000, 10**12, "l", "ml", "beyond any real stock"),
    ],
)
def test_a_pack_that_does_not_measure_the_item_is_refused(
    units: int, size_milli: int, size_unit: str, item_unit: str, message: str
) -> None:
    with pytest.raises(calc.PackError, match=message):
        calc.pack_quantity_milli(units, size_milli, size_unit, item_unit)


def test_suggestions_round_up_to_whole_packs() -> None:
    case = 4_500_000  # 6 x 750 ml
    assert calc.suggested_packs(9_000_000, 4_500_000, 0, case) == 1, "exactly one case short"
    assert calc.suggested_packs(9_000_000, 4_499_999, 0, case) == 2, "a thousandth over one case is two"
    assert calc.suggested_packs(9_000_000, 1_000_000, 3_000_000, case) == 2, "on order counts as on hand"
    assert calc.suggested_packs(9_000_000, 9_000_000, 0, case) == 0, "at par: nothing"
    assert calc.suggested_packs(9_000_000, 12_000_000, 0, case) == 0, "above par: never a negative order"
    assert calc.suggested_packs(9_000_000, -2_000_000, 0, case) == 3, "stock booked below zero is still short"
    assert calc.suggested_packs(None, 0, 0, case) == 0, "no par, no suggestion"


@given(
    par=st.integers(0, 10**9),
    on_hand=st.integers(-(10**8), 10**9),
    on_order=st.integers(0, 10**9),
    pack=st.integers(1, 10**8),
)
def test_the_suggestion_is_the_fewest_whole_packs_that_reach_par(
    par: int, on_hand: int, on_order: int, pack: int
) -> None:
    packs = calc.suggested_packs(par, on_hand, on_order, pack)
    assert packs >= 0
    assert on_hand + on_order + packs * pack >= par
    if packs:
        assert on_hand + on_order + (packs - 1) * pack < par


def test_the_par_is_the_one_for_the_delivery_day() -> None:
    friday_par = {4: 12_000, 5: 10_000}
    # Ordered on Monday with a four-day lead time: it arrives Friday and must cover Friday's par.
    friday = calc.delivery_day(MONDAY, 4)
    assert friday.strftime("%A") == "Friday"
    assert calc.par_for_day(5_000, friday_par, friday) == 12_000
    assert calc.par_for_day(5_000, friday_par, calc.delivery_day(MONDAY, 1)) == 5_000, "Tuesday: the everyday par"
    assert calc.par_for_day(None, friday_par, calc.delivery_day(MONDAY, 5)) == 10_000, "a weekday par without a default"
    assert calc.par_for_day(None, {}, MONDAY) is None
    assert calc.delivery_day(dt.date(2026, 12, 31), 2) == dt.date(2027, 1, 2), "across the year end"
    with pytest.raises(ValueError, match="lead time"):
        calc.delivery_day(MONDAY, -1)


def test_a_received_quantity_is_valued_at_the_orders_pack_price() -> None:
    case, price = 4_500_000, 5_400  # 6 x 750 ml at 54.00
    assert calc.ordered_value_cents(case, case, price) == 5_400
    assert calc.ordered_value_cents(3 * case, case, price) == 16_200
    assert calc.ordered_value_cents(750_000, case, price) == 900, "one bottle of the case"
    assert calc.ordered_value_cents(1, 3_000, 100) == 0, "a third of a cent rounds to nothing"
    assert calc.ordered_value_cents(1_500, 1_000, 101) == 152, "151.5 rounds half to even"
    assert calc.price_differs(5_500, 5_400)
    assert not calc.price_differs(5_400, 5_400)
