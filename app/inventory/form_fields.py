"""Readers for what is typed on stock forms: quantities in the stock unit and amounts of money (the stockroom's
typed forms in stock_forms.py read theirs with these); and, for pages that still read a raw form (purchase
orders), repeated fields and the source key a submitted form books under once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.inventory import calculations
from app.lib.errors import InvalidInput
from app.lib.idempotency import check_key
from app.lib.money import Money


def listed(fields: Mapping[str, Any], name: str) -> list[str]:
    """A field that repeats (one per form row), as strings; absent is empty."""
    value = fields.get(name)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def quantity(raw: str, *, label: str, allow_zero: bool = False) -> int:
    """A quantity typed in the stock unit, in thousandths, or a refusal naming the field."""
    try:
        return calculations.parse_quantity(raw, allow_zero=allow_zero)
    except calculations.QuantityError as exc:
        raise InvalidInput(f"{label}: {exc}") from None


def cents(raw: str, *, label: str, currency: str) -> int:
    """An amount of money typed in the venue's currency, in cents; never negative."""
    try:
        amount = Money.parse(raw, currency).cents
    except ValueError as exc:
        raise InvalidInput(f"{label}: {exc}.") from None
    if amount < 0:
        raise InvalidInput(f"{label} cannot be negative.")
    return amount


def source_key(fields: Mapping[str, Any], scope: str) -> str:
    """The key a form's booking is made under once: its scope and the form's idempotency key."""
    return f"form:{scope}:{check_key(str(fields.get('idempotency_key') or ''))}"
