"""What a manager may type on the menu: each field's limits, and prices and percentages read as people type them."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Final

from app.lib.errors import InvalidInput
from app.lib.money import Money

NAME_MAX: Final = 60
ITEM_NAME_MAX: Final = 80
SKU_MAX: Final = 40
DESCRIPTION_MAX: Final = 300
REASON_MAX: Final = 200
SORT_MAX: Final = 9999
PREP_MAX_MINUTES: Final = 240
# Prices above this are typing slips, and they keep sums far inside a 32-bit integer column.
PRICE_MAX_CENTS: Final = 10_000_000
DELTA_MAX_CENTS: Final = 1_000_000
CHOICES_MAX: Final = 20
SKU_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
COLOR_PATTERN: Final = re.compile(r"#[0-9a-fA-F]{6}")
_PERCENT: Final = re.compile(r"(?P<number>[0-9]{1,3}(?:[.,][0-9]*)?)\s*%?")


def parse_price(text: str, *, label: str = "Price", currency: str = "EUR", allow_negative: bool = False) -> int:
    """An amount typed as "12.50" (or "12,50", "€12.50") in integer cents, or a clear refusal."""
    try:
        cents = Money.parse(str(text or ""), currency).cents
    except ValueError as exc:
        raise InvalidInput(f"{label}: {exc}.") from None
    if cents < 0 and not allow_negative:
        raise InvalidInput(f"{label} cannot be negative.")
    return cents


def parse_percent(text: str, *, label: str = "Rate") -> int:
    """A percentage typed as "21", "5.5" or "9 %" in basis points (2100), or a clear refusal."""
    cleaned = str(text or "").strip()
    match = _PERCENT.fullmatch(cleaned)
    if not match:
        raise InvalidInput(f'{label} must be a percentage like "21" or "5.5".')
    try:
        value = Decimal(match.group("number").replace(",", "."))
    except InvalidOperation:
        raise InvalidInput(f'{label} must be a percentage like "21" or "5.5".') from None
    basis_points = value * 100
    if basis_points != basis_points.to_integral_value():
        raise InvalidInput(f"{label} has at most two decimals, like 5.25.")
    if value > 100:
        raise InvalidInput(f"{label} must be between 0 and 100 %.")
    return int(basis_points)
