"""Money as integer cents: construction, arithmetic, parsing, rates and allocation."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.lib.money import (
    CurrencyMismatch,
    Money,
    allocate,
    apply_rate,
    round_cents,
    split_evenly,
)

FAST = settings(max_examples=200, deadline=None)

weights = st.lists(
    st.one_of(
        st.integers(0, 10_000),
        st.fractions(min_value=0, max_value=100, max_denominator=12),
        st.decimals(min_value=0, max_value=100, places=2),
    ),
    min_size=1,
    max_size=12,
).filter(lambda items: sum(Fraction(item) for item in items) > 0)


@pytest.mark.parametrize("cents", [12.5, 1.0, Decimal("12.50"), "1250", None])
def test_money_refuses_floats_and_other_non_integers(cents: Any) -> None:
    with pytest.raises(TypeError, match="whole cents as an int"):
        Money(cents)


def test_money_refuses_floats() -> None:
    with pytest.raises(TypeError, match="not float"):
        Money(0.1)  # type: ignore[arg-type]


def test_money_refuses_bools() -> None:
    with pytest.raises(TypeError):
        Money(True)


@pytest.mark.parametrize("currency", ["eur", "EURO", "€", ""])
def test_money_refuses_a_currency_that_is_not_a_three_letter_code(
    currency: str,
) -> None:
    with pytest.raises(ValueError, match="three-letter code"):
        Money(100, currency)


def test_money_is_immutable() -> None:
    price = Money(450)
    with pytest.raises(AttributeError):
        price.cents = 1  # type: ignore[misc]


def test_money_adds_subtracts_and_negates_in_cents() -> None:
    assert Money(1250) + Money(75) == Money(1325)
    assert Money(1250) - Money(1300) == Money(-50)
    assert -Money(100) == Money(-100)


def test_money_multiplies_by_whole_numbers_from_either_side() -> None:
    assert Money(148) * 4 == Money(592)
    assert 3 * Money(250, "USD") == Money(750, "USD")


@pytest.mark.parametrize("factor", [1.5, Decimal("1.5"), Fraction(1, 2), True])
def test_money_refuses_to_multiply_by_anything_but_an_int(factor: Any) -> None:
    with pytest.raises(TypeError, match="whole number"):
        Money(100) * factor


def test_sum_of_money_starts_from_zero() -> None:
    prices = [Money(450), Money(1200), Money(350)]
    assert sum(prices) == Money(2000)
    assert sum([], Money.zero("GBP")) == Money(0, "GBP")
    assert sum(prices, Money.zero()) == Money(2000)


def test_adding_a_plain_number_to_money_is_refused() -> None:
    with pytest.raises(TypeError):
        Money(100) + 5  # type: ignore[operator]
    with pytest.raises(TypeError):
        5 + Money(100)


def test_mixing_currencies_raises_currency_mismatch() -> None:
    euros, dollars = Money(100, "EUR"), Money(100, "USD")
    with pytest.raises(CurrencyMismatch, match="EUR and USD"):
        euros + dollars
    with pytest.raises(CurrencyMismatch):
        euros - dollars
    with pytest.raises(CurrencyMismatch):
        assert euros < dollars
    with pytest.raises(CurrencyMismatch):
        sum([euros, dollars])
    assert issubclass(CurrencyMismatch, ValueError)


def test_amounts_in_different_currencies_are_never_equal() -> None:
    assert Money(100, "EUR") != Money(100, "USD")


def test_money_compares_by_amount() -> None:
    assert Money(100) < Money(101) <= Money(101)
    assert Money(-1) < Money.zero()
    assert Money(500) > Money(499) >= Money(499)
    assert max([Money(5), Money(50), Money(7)]) == Money(50)


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("12.50", 1250),
        ("12,50", 1250),
        ("12.5", 1250),
        ("12", 1200),
        ("12.", 1200),
        (".5", 50),
        ("0,07", 7),
        ("  8.00 ", 800),
        ("€12.50", 1250),
        ("12.50 EUR", 1250),
        ("-3.20", -320),
        ("-€1.00", -100),
        ("007.10", 710),
    ],
)
def test_parse_reads_an_amount_a_person_typed(text: str, cents: int) -> None:
    assert Money.parse(text) == Money(cents)


def test_parse_reads_the_symbol_of_the_given_currency() -> None:
    assert Money.parse("$4.25", "USD") == Money(425, "USD")
    assert Money.parse("£4,25", "GBP") == Money(425, "GBP")


def test_parse_refuses_more_than_two_decimals() -> None:
    with pytest.raises(ValueError, match="at most two decimals"):
        Money.parse("12.505")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        ".",
        "abc",
        "NaN",
        "nan",
        "inf",
        "-Infinity",
        "1e3",
        "1.234,50",
        "12..5",
        "12.5.0",
        "$12.50",
        "١٢",
        "--5",
    ],
)
def test_parse_refuses_text_that_is_not_an_amount(text: str) -> None:
    with pytest.raises(ValueError, match=r"Enter an amount like 12\.50"):
        Money.parse(text)


def test_parse_refuses_absurdly_long_numbers() -> None:
    with pytest.raises(ValueError, match="too large"):
        Money.parse("9" * 5000)


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(1250), "€12.50"),
        (Money(5), "€0.05"),
        (Money(-100), "-€1.00"),
        (Money(199_999, "USD"), "$1999.99"),
        (Money(70, "GBP"), "£0.70"),
        (Money(1250, "CHF"), "12.50 CHF"),
    ],
)
def test_format_shows_the_currency_and_two_decimals(money: Money, text: str) -> None:
    assert money.format() == text
    assert str(money) == text


@FAST
@given(st.integers(-(10**12), 10**12), st.sampled_from(["EUR", "USD", "GBP", "CHF"]))
def test_parsing_what_format_wrote_gives_the_same_money(cents: int, currency: str) -> None:
    money = Money(cents, currency)
    assert Money.parse(money.format(), currency) == money


@pytest.mark.parametrize(
    ("cents", "rate", "expected"),
    [
        (592, Decimal("0.21"), 124),
        (152, Decimal("0.21"), 32),
        (39, Decimal("0.21"), 8),
        (937, Decimal("0.21"), 197),
        (250, Decimal("0.1"), 25),
        (5, Decimal("0.5"), 3),
        (-5, Decimal("0.5"), -3),
        (1000, Decimal("0"), 0),
    ],
)
def test_apply_rate_rounds_half_up_by_default(cents: int, rate: Decimal, expected: int) -> None:
    assert apply_rate(cents, rate) == expected


def test_apply_rate_honours_an_explicit_rounding_mode() -> None:
    assert apply_rate(5, Decimal("0.5"), ROUND_HALF_UP) == 3
    assert apply_rate(5, Decimal("0.5"), ROUND_HALF_EVEN) == 2


def test_apply_rate_refuses_float_rates() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        apply_rate(1000, 0.21)  # type: ignore[arg-type]


def test_apply_rate_refuses_infinite_and_missing_rates() -> None:
    with pytest.raises(ValueError, match="finite"):
        apply_rate(1000, Decimal("NaN"))
    with pytest.raises(ValueError, match="finite"):
        apply_rate(1000, Decimal("Infinity"))


def test_apply_rate_stays_exact_beyond_decimal_context_precision() -> None:
    cents = 10**30 + 1
    assert apply_rate(cents, Decimal("0.5")) == (cents + 1) // 2


@pytest.mark.parametrize(
    ("value", "mode", "expected"),
    [
        (Fraction(5, 2), "ROUND_HALF_UP", 3),
        (Fraction(-5, 2), "ROUND_HALF_UP", -3),
        (Fraction(5, 2), "ROUND_HALF_EVEN", 2),
        (Fraction(7, 2), "ROUND_HALF_EVEN", 4),
        (Fraction(5, 2), "ROUND_HALF_DOWN", 2),
        (Fraction(-5, 2), "ROUND_HALF_DOWN", -2),
        (Fraction(7, 3), "ROUND_UP", 3),
        (Fraction(-7, 3), "ROUND_UP", -3),
        (Fraction(7, 3), "ROUND_DOWN", 2),
        (Fraction(-7, 3), "ROUND_DOWN", -2),
        (Fraction(-7, 3), "ROUND_FLOOR", -3),
        (Fraction(-7, 3), "ROUND_CEILING", -2),
        (Decimal("1.4999"), "ROUND_HALF_UP", 1),
        (12, "ROUND_UP", 12),
    ],
)
def test_round_cents_follows_the_decimal_rounding_modes(
    value: Fraction | Decimal | int, mode: str, expected: int
) -> None:
    assert round_cents(value, mode) == expected


@FAST
@given(
    st.fractions(min_value=-(10**6), max_value=10**6, max_denominator=1000),
    st.sampled_from(
        [
            "ROUND_HALF_UP",
            "ROUND_HALF_EVEN",
            "ROUND_HALF_DOWN",
            "ROUND_UP",
            "ROUND_DOWN",
            "ROUND_FLOOR",
            "ROUND_CEILING",
        ]
    ),
)
def test_round_cents_agrees_with_decimal_quantize(value: Fraction, mode: str) -> None:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    assert round_cents(value, mode) == int(exact.quantize(Decimal(1), rounding=mode))


def test_round_cents_refuses_floats() -> None:
    with pytest.raises(TypeError):
        round_cents(2.5)  # type: ignore[arg-type]


def test_allocate_leaves_no_cent_behind() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(1000, [3, 3, 3]) == [334, 333, 333]
    assert sum(allocate(1, [1] * 7)) == 1


def test_allocate_gives_leftover_cents_to_the_largest_remainders() -> None:
    assert allocate(100, [1, 2]) == [33, 67]
    assert allocate(10, [Fraction(1, 3), Fraction(2, 3)]) == [3, 7]
    # 3.5, 1.75, 1.75: the two .75 remainders beat the .5 one.
    assert allocate(7, [Decimal("0.5"), Decimal("0.25"), Decimal("0.25")]) == [3, 2, 2]


def test_allocate_breaks_ties_by_position_earlier_first() -> None:
    assert allocate(2, [1, 1, 1]) == [1, 1, 0]
    assert allocate(5, [1, 1, 1, 1, 1, 1]) == [1, 1, 1, 1, 1, 0]


def test_allocate_gives_nothing_to_zero_weights() -> None:
    assert allocate(100, [0, 1, 0, 1]) == [0, 50, 0, 50]
    assert allocate(3, [0, 1, 1]) == [0, 2, 1]


def test_allocate_splits_a_negative_total_as_the_mirror_of_a_positive_one() -> None:
    assert allocate(-100, [1, 1, 1]) == [-34, -33, -33]


def test_allocate_refuses_weights_that_are_all_zero() -> None:
    with pytest.raises(ValueError, match="every weight is zero"):
        allocate(100, [0, 0])


def test_allocate_refuses_no_weights_at_all() -> None:
    with pytest.raises(ValueError):
        allocate(100, [])


def test_allocate_refuses_negative_weights() -> None:
    with pytest.raises(ValueError, match="negative"):
        allocate(100, [2, -1])


def test_allocate_refuses_float_weights_and_totals() -> None:
    with pytest.raises(TypeError):
        allocate(100, [0.5, 0.5])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        allocate(1.0, [1])  # type: ignore[arg-type]


@FAST
@given(st.integers(-(10**9), 10**9), weights)
def test_allocated_parts_always_sum_to_the_total(total: int, parts_weights: list[int | Fraction | Decimal]) -> None:
    parts = allocate(total, parts_weights)
    assert sum(parts) == total
    assert len(parts) == len(parts_weights)
    assert all(type(part) is int for part in parts)


@FAST
@given(st.integers(-(10**9), 10**9), weights)
def test_each_allocated_part_is_its_exact_share_rounded_down_or_up(
    total: int, parts_weights: list[int | Fraction | Decimal]
) -> None:
    exact = [Fraction(weight) for weight in parts_weights]
    weight_sum = sum(exact)
    for part, weight in zip(allocate(total, parts_weights), exact, strict=True):
        share = total * weight / weight_sum
        assert abs(part - share) < 1
        if weight == 0:
            assert part == 0


@FAST
@given(st.integers(0, 10**9), weights)
def test_allocating_a_negative_total_mirrors_the_positive_one(
    total: int, parts_weights: list[int | Fraction | Decimal]
) -> None:
    assert allocate(-total, parts_weights) == [-part for part in allocate(total, parts_weights)]


@FAST
@given(st.integers(0, 10**7), st.integers(1, 40))
def test_split_evenly_gives_parts_a_cent_apart_with_earlier_parts_larger(total: int, n: int) -> None:
    parts = split_evenly(total, n)
    assert sum(parts) == total
    assert len(parts) == n
    assert max(parts) - min(parts) <= 1
    assert parts == sorted(parts, reverse=True)


def test_split_evenly_refuses_zero_parts() -> None:
    with pytest.raises(ValueError, match="at least one part"):
        split_evenly(100, 0)
