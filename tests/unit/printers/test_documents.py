from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.kitchen.print_documents import MoneyFormat, PaymentDoc, format_cents
from tests.unit.printers.samples import kitchen_ticket


@pytest.mark.parametrize(
    ("cents", "written"),
    [(1250, "€12.50"), (5, "€0.05"), (0, "€0.00"), (-100, "-€1.00"), (123456789, "€1234567.89")],
)
def test_format_cents_writes_the_symbol_first_and_the_minus_before_it(cents: int, written: str) -> None:
    assert format_cents(cents) == written


def test_a_venue_can_write_amounts_its_own_way() -> None:
    french = MoneyFormat(symbol="€", symbol_after=True, decimal_mark=",", group_mark=" ")

    assert french.format(123456) == "1 234,56 €"
    assert french.format(-99) == "-0,99 €"
    assert format_cents(1999, "$") == "$19.99"


@pytest.mark.parametrize("amount", [12.5, True, "1250"])
def test_format_cents_refuses_anything_but_integer_cents(amount: object) -> None:
    with pytest.raises(TypeError):
        format_cents(amount)  # type: ignore[arg-type]


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_formatted_amount_reads_back_as_the_same_cents(cents: int) -> None:
    written = format_cents(cents)

    sign = -1 if written.startswith("-") else 1
    units, minor = written.lstrip("-").removeprefix("€").split(".")
    assert sign * (int(units) * 100 + int(minor)) == cents


def test_kitchen_ticket_refuses_a_fire_time_without_time_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        kitchen_ticket(fire_time=dt.datetime(2025, 3, 14, 19, 42))


def test_kitchen_ticket_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown ticket kind"):
        kitchen_ticket(kind="urgent")


@pytest.mark.parametrize("last4", ["4242424242424242", "42a2", "424"])
def test_card_payment_keeps_nothing_but_the_last_four_digits(last4: str) -> None:
    with pytest.raises(ValueError, match="four digits"):
        PaymentDoc(tender="Card", amount_cents=100, card_last4=last4)
