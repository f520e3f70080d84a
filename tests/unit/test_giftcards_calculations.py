"""Gift-card numbers: random, sixteen digits, and a single mistyped digit or swapped pair is caught."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.giftcards import calculations as calc


def test_a_new_number_has_sixteen_digits_never_a_leading_zero_and_checks_itself() -> None:
    numbers = {calc.new_number() for _ in range(200)}
    assert len(numbers) == 200
    for number in numbers:
        assert len(number) == calc.NUMBER_LENGTH
        assert number.isdigit()
        assert number[0] != "0"
        assert calc.luhn_valid(number)


@given(st.integers(min_value=0, max_value=14), st.integers(min_value=1, max_value=9))
def test_one_mistyped_digit_is_refused(position: int, shift: int) -> None:
    number = "7992739871000003"
    number = number[:-1] + calc.luhn_digit(number[:-1])
    typo = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1 :]
    assert calc.luhn_valid(number)
    assert not calc.luhn_valid(typo)


def test_numbers_read_the_same_however_they_are_typed_and_show_only_four_digits_elsewhere() -> None:
    assert calc.clean_number(" 7992-7398 7100 0003 ") == "7992739871000003"
    assert calc.grouped("7992739871000003") == "7992 7398 7100 0003"
    assert calc.masked("7992739871000003") == "•••• 0003"
    assert calc.luhn_digit("7992739871") == "3"
