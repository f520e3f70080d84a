"""Paying a check: tips to offer, change to hand back, what is still owed."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from app.checks.calculations import _percent_of, _require_cents


def tip_suggestions(
    total: int, percents: Sequence[int | Decimal] = (15, 18, 20, 22)
) -> list[tuple[int | Decimal, int]]:
    """Tip amounts to offer on a total, as (percent, cents) pairs rounded half-up."""
    _require_cents(total, "The amount to tip on")
    suggestions: list[tuple[int | Decimal, int]] = []
    for percent in percents:
        if isinstance(percent, bool) or not isinstance(percent, Decimal | int):
            raise TypeError("Tip percents must be int or Decimal")
        if not Decimal(percent).is_finite() or percent < 0:
            raise ValueError(f"A tip percent cannot be {percent}")
        suggestions.append((percent, _percent_of(total, percent)))
    return suggestions


def change_due(total_due: int, tendered: int) -> int:
    """Cash to hand back; nothing when the cash covers only part of what is due."""
    _require_cents(total_due, "The amount due")
    _require_cents(tendered, "The amount tendered")
    return max(tendered - total_due, 0)


def remaining_due(total: int, payments: Sequence[int]) -> int:
    """What is still owed after payments; negative when payments exceed the total."""
    _require_cents(total, "The check total")
    for payment in payments:
        if isinstance(payment, bool) or not isinstance(payment, int):
            raise TypeError("Payments are whole cents as int")
    return total - sum(payments)
