"""Stock maths, pure: quantities in thousandths of a unit, costs in milli-cents per unit, no float.

Representation (see docs/adr/0003-stock-quantities-and-costs.md):
- a quantity is an int of thousandths of the item's unit: 1 500 g is 1_500_000, half a bottle of
  a piece-counted item is 500;
- a unit cost is an int of milli-cents per unit, which is the same number as cents per 1 000 units:
  beef at €24.00/kg costs 2 400 milli-cents per gram;
- a value is whole cents: quantity * cost / 1 000 000, rounded half to even once per move. The
  stock's value is the sum of its moves' values (so it equals the inventory account to the cent);
  the average is that value over the quantity, refreshed at every delivery.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Final

MILLI: Final = 1000
# Thousandths of a unit times milli-cents per unit gives 10⁻⁶ cents.
VALUE_SCALE: Final = 1_000_000
QUANTITY_MAX_MILLI: Final = 10**12
COST_MAX_MILLICENTS: Final = 10**12
_QUANTITY: Final = re.compile(r"(?P<sign>-)?(?P<units>[0-9]{1,10})?(?:[.,](?P<fraction>[0-9]{0,3}))?")


class QuantityError(ValueError):
    """A typed quantity that is not a number of the item's unit with at most three decimals."""


def parse_quantity(text: str, *, allow_zero: bool = False, allow_negative: bool = False) -> int:
    """'2.5' → 2500 thousandths; at most three decimals; refused when empty, zero or negative (unless allowed)."""
    cleaned = "".join(str(text or "").split())
    match = _QUANTITY.fullmatch(cleaned)
    if not cleaned or match is None or not (match.group("units") or match.group("fraction")):
        raise QuantityError("Enter a quantity like 2.5 (at most three decimals).")
    milli = int(match.group("units") or "0") * MILLI + int((match.group("fraction") or "").ljust(3, "0"))
    if match.group("sign"):
        milli = -milli
    if milli < 0 and not allow_negative:
        raise QuantityError("A quantity cannot be negative.")
    if milli == 0 and not allow_zero:
        raise QuantityError("A quantity must be more than zero.")
    if abs(milli) > QUANTITY_MAX_MILLI:
        raise QuantityError("That quantity is beyond any real stock.")
    return milli


def format_quantity(milli: int) -> str:
    """2500 → '2.5', 180000 → '180', -1250 → '-1.25' (thousands grouped: 12,500)."""
    sign = "-" if milli < 0 else ""
    whole, part = divmod(abs(milli), MILLI)
    fraction = f"{part:03d}".rstrip("0")
    return f"{sign}{whole:,}" + (f".{fraction}" if fraction else "")


def value_cents(quantity_milli: int, unit_cost_millicents: int) -> int:
    """What a quantity is worth at a unit cost, in whole cents (half to even, sign follows quantity)."""
    return round(Fraction(quantity_milli * unit_cost_millicents, VALUE_SCALE))


def unit_cost_of(total_cents: int, quantity_milli: int) -> int:
    """The milli-cents per unit of a delivery: its total cost spread over its quantity."""
    if quantity_milli <= 0:
        raise ValueError("a delivery has a positive quantity")
    return round(Fraction(total_cents * VALUE_SCALE, quantity_milli))


def moving_average(on_hand_milli: int, on_hand_value_cents: int, received_milli: int, received_cents: int) -> int:
    """The new average unit cost after a delivery: what the stock is worth plus the invoice, per unit.

    When nothing (or less than nothing) is on hand, or its value is negative, the delivery's own
    cost is the new average: such stock cannot be valued, and it would drag the average anywhere.
    """
    if received_milli <= 0:
        raise ValueError("a delivery has a positive quantity")
    if on_hand_milli <= 0 or on_hand_value_cents < 0:
        return unit_cost_of(received_cents, received_milli)
    return round(Fraction((on_hand_value_cents + received_cents) * VALUE_SCALE, on_hand_milli + received_milli))


def scale_recipe(quantity_per_unit_milli: int, sold: Fraction) -> int:
    """Stock used by `sold` units (a Fraction for shared items), in whole thousandths (half to even)."""
    return round(Fraction(quantity_per_unit_milli) * sold)


def combine(usages: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Sum (stock item, thousandths) pairs per item, dropping items that net to nothing or less."""
    totals: dict[int, int] = {}
    for item_id, milli in usages:
        totals[item_id] = totals.get(item_id, 0) + milli
    return {item_id: milli for item_id, milli in totals.items() if milli > 0}


def format_unit_cost(unit_cost_millicents: int, unit: str) -> str:
    """An average cost as a buyer reads it: '€24.00 / kg', '€2.86 / l', '€0.45 / pc'."""
    if unit in ("g", "ml"):
        # Milli-cents per gram are cents per kilogram (and per litre for ml).
        cents, per = unit_cost_millicents, "kg" if unit == "g" else "l"
    else:
        cents, per = round(Fraction(unit_cost_millicents, MILLI)), "pc"
    whole, part = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}€{whole:,}.{part:02d} / {per}"


def portions_left(available_milli: Mapping[int, int], per_portion_milli: Mapping[int, int]) -> int | None:
    """How many more portions the stock allows: the fewest whole portions any ingredient still makes.

    `available_milli` is each counted stock item's thousandths still free (on hand less what is rung in and
    not yet taken out), `per_portion_milli` what one portion uses of each. None when a portion uses none of
    them; never below 0 (stock booked below zero allows nothing).
    """
    parts = {item_id: milli for item_id, milli in per_portion_milli.items() if milli > 0}
    if not parts:
        return None
    return max(0, min(available_milli.get(item_id, 0) // milli for item_id, milli in parts.items()))
