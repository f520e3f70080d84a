"""Purchasing maths, pure: packs in the stock item's unit, suggested orders, the par for a delivery day.

Quantities are thousandths of the stock item's unit and money whole cents, as in
app/inventory/calculations.py. A supplier sells in packs (a case of 6 x 750 ml, a 5 kg sack): a pack
is converted once to thousandths of the item's unit, and an order is a whole number of packs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from fractions import Fraction
from typing import Final

from app.inventory.calculations import QUANTITY_MAX_MILLI

# How many of the stock item's unit one unit a supplier writes on a pack is.
UNIT_FACTORS: Final[dict[str, dict[str, int]]] = {
    "g": {"g": 1, "kg": 1000},
    "ml": {"ml": 1, "cl": 10, "l": 1000},
    "piece": {"piece": 1, "pcs": 1},
}
WEEKDAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PACKS_MAX: Final = 100_000
LEAD_TIME_MAX_DAYS: Final = 60


class PackError(ValueError):
    """A pack that cannot be put in the stock item's unit."""


def pack_quantity_milli(units_per_pack: int, unit_size_milli: int, size_unit: str, item_unit: str) -> int:
    """A case of 6 x 750 ml for an item kept in ml → 4 500 000 thousandths of a ml.

    `unit_size_milli` is the size of one unit in the pack, in thousandths of `size_unit` (750 ml is
    750 000); `size_unit` must measure what the item is kept in (kg or g for grams, l, cl or ml for
    millilitres, pieces for pieces).
    """
    factors = UNIT_FACTORS.get(item_unit)
    if factors is None:
        raise PackError(f"Unknown stock unit {item_unit}.")
    if size_unit not in factors:
        kept = {"g": "grams", "ml": "millilitres", "piece": "pieces"}[item_unit]
        raise PackError(f"An item kept in {kept} is bought in {', '.join(factors)}, not {size_unit or 'nothing'}.")
    if units_per_pack <= 0:
        raise PackError("A pack holds at least one unit.")
    if unit_size_milli <= 0:
        raise PackError("A unit in the pack has a size more than zero.")
    milli = units_per_pack * unit_size_milli * factors[size_unit]
    if milli > QUANTITY_MAX_MILLI:
        raise PackError("That pack is beyond any real stock.")
    return milli


def packs_to_cover(needed_milli: int, pack_milli: int) -> int:
    """Whole packs that cover a need, rounded up (nothing when nothing is needed)."""
    if pack_milli <= 0:
        raise ValueError("a pack has a positive quantity")
    if needed_milli <= 0:
        return 0
    return -(-needed_milli // pack_milli)


def shortfall_milli(par_milli: int, on_hand_milli: int, on_order_milli: int) -> int:
    """Par less what is on hand and already on order; never below zero."""
    return max(0, par_milli - on_hand_milli - on_order_milli)


def suggested_packs(par_milli: int | None, on_hand_milli: int, on_order_milli: int, pack_milli: int) -> int:
    """par - on hand - on order, rounded up to whole packs; no par, no suggestion."""
    if par_milli is None:
        return 0
    return packs_to_cover(shortfall_milli(par_milli, on_hand_milli, on_order_milli), pack_milli)


def delivery_day(ordered_on: dt.date, lead_time_days: int) -> dt.date:
    """The day an order placed today arrives, given the supplier's lead time for the item."""
    if lead_time_days < 0:
        raise ValueError("a lead time is not negative")
    return ordered_on + dt.timedelta(days=lead_time_days)


def par_for_day(default_par_milli: int | None, weekday_pars: Mapping[int, int], day: dt.date) -> int | None:
    """The par that holds on a day: its weekday's par (0 = Monday) where one is set, else the everyday par."""
    return weekday_pars.get(day.weekday(), default_par_milli)


def ordered_value_cents(quantity_milli: int, pack_milli: int, pack_cost_cents: int) -> int:
    """What a received quantity is worth at the order's pack price, in whole cents (half to even)."""
    if pack_milli <= 0:
        raise ValueError("a pack has a positive quantity")
    return round(Fraction(quantity_milli * pack_cost_cents, pack_milli))


def price_differs(invoice_cents: int, ordered_cents: int) -> bool:
    """Whether an invoice line's total is not what the order's price makes it."""
    return invoice_cents != ordered_cents
