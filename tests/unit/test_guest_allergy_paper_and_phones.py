"""A guest's allergies on paper, white on black above the items (and again under a long ticket), and phone keys."""

from __future__ import annotations

import pytest

from app.guests.queries import phone_key
from app.guests.services import clean_allergies, clean_email, clean_phone
from app.lib.errors import InvalidInput
from printers.documents import TicketLineDoc
from printers.layouts import render_kitchen_ticket
from tests.support.escpos_decoder import decode
from tests.unit.printers.samples import kitchen_ticket


def test_allergies_print_reversed_and_bold_above_the_items_and_again_under_a_long_ticket() -> None:
    short = decode(render_kitchen_ticket(kitchen_ticket(allergies="Peanuts")))
    banner = short.line("ALLERGY: PEANUTS")
    assert banner.style.inverted
    assert banner.style.bold
    assert banner.style.large
    assert short.index("ALLERGY: PEANUTS") < short.index("Ribeye")
    assert short.text.count("ALLERGY") == 1

    many = tuple(TicketLineDoc(quantity="1", name=f"Dish {n}") for n in range(5))
    long = decode(render_kitchen_ticket(kitchen_ticket(allergies="Peanuts", lines=many)))
    assert long.text.count("ALLERGY: PEANUTS") == 2
    assert long.index("Dish 4") < [i for i, line in enumerate(long.lines) if "ALLERGY" in line][-1]

    plain = decode(render_kitchen_ticket(kitchen_ticket()))
    assert "ALLERGY" not in plain.text


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("+31 6 1234 5678", "612345678"),
        ("06-12345678", "612345678"),
        ("(020) 794 600", "020794600"),
        ("555 0101", "5550101"),
    ],
)
def test_a_phone_number_is_kept_by_its_last_nine_digits_however_it_is_written(typed: str, key: str) -> None:
    assert clean_phone(typed) == (typed, key)
    assert phone_key(typed) == key


@pytest.mark.parametrize("typed", ["call me", "12345", "+31 6 1234 5678 9012 345", "06#1234567"])
def test_what_is_not_a_phone_number_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput, match="is not a phone number"):
        clean_phone(typed)


def test_emails_are_kept_in_lower_case_and_allergies_on_one_line() -> None:
    assert clean_email(" Ada@Example.COM ") == "ada@example.com"
    assert clean_email("") is None
    with pytest.raises(InvalidInput, match="is not an email address"):
        clean_email("ada@example")
    assert clean_allergies(" peanuts,\n  shellfish ") == "peanuts, shellfish"
