"""Gift-card numbers: random digits closed by a Luhn check digit, so a mistyped number is caught at once."""

from __future__ import annotations

import re
import secrets

NUMBER_LENGTH = 16
# 15 random digits: a million cards in circulation leave one chance in a billion to a guessed number.
_RANDOM_DIGITS = NUMBER_LENGTH - 1


def luhn_digit(digits: str) -> str:
    """The Luhn check digit that makes `digits` + it valid."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """Whether `number` (digits only) ends in its own check digit."""
    return len(number) >= 2 and number.isdigit() and luhn_digit(number[:-1]) == number[-1]


def new_number() -> str:
    """A fresh card number: never zero-led, so it reads the same however it is typed or scanned."""
    body = str(secrets.randbelow(9) + 1) + "".join(str(secrets.randbelow(10)) for _ in range(_RANDOM_DIGITS - 1))
    return body + luhn_digit(body)


def clean_number(text: str | None) -> str:
    """The digits of a number as typed or scanned (spaces and dashes dropped)."""
    return re.sub(r"[\s-]", "", text or "")


def grouped(number: str) -> str:
    """A number in groups of four, as printed on the card."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def masked(number: str) -> str:
    """All a screen shows of a card it did not just sell: its last four digits."""
    return "•••• " + number[-4:]
