"""Splitting a check among guests: even parts, chosen amounts, shared lines, parts of the ledger."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from app.checks.calculations import (
    CheckPart,
    CheckTotals,
    LineStatus,
    TaxLine,
    TaxRate,
    _format,
    _positive_quantity,
    _rate_key,
    _require_cents,
)
from app.lib.money import allocate, round_cents, split_evenly


def split_amount_evenly(total: int, n: int) -> list[int]:
    """Split an amount into n parts at most a cent apart, earlier parts paying extra."""
    _require_cents(total, "The amount to split")
    return split_evenly(total, n)


def split_by_amounts(total: int, amounts: Sequence[int], *, currency: str = "EUR") -> list[int]:
    """Check that the amounts the guests chose cover the check exactly; return them."""
    _require_cents(total, "The check total")
    if len(amounts) == 0:
        raise ValueError("Enter at least one amount to split by")
    for amount in amounts:
        _require_cents(amount, "A split amount")
    if sum(amounts) != total:
        raise ValueError(
            f"Split amounts add up to {_format(sum(amounts), currency)}, the check is {_format(total, currency)}"
        )
    return list(amounts)


def share_line(quantity: Fraction, n: int, *, unit_price: int | None = None, currency: str = "EUR") -> list[Fraction]:
    """Share one line's quantity among n guests; the shares add back to it exactly."""
    exact = _positive_quantity(quantity)
    _require_count(n)
    equal = [exact / n] * n
    if unit_price is None:
        return equal
    _require_cents(unit_price, "A unit price")
    whole = round_cents(unit_price * exact)
    if n * round_cents(unit_price * exact / n) == whole:
        return equal
    # Equal shares would each round and lose or invent a cent, so size shares by price.
    if whole < n:
        raise ValueError(f"{_format(whole, currency)} cannot be shared between {n} guests")
    share_prices = split_evenly(whole, n)
    shares = [Fraction(price, unit_price) for price in share_prices[:-1]]
    shares.append(exact - sum(shares, Fraction(0)))
    return shares


def allocate_check_to_parts(totals: CheckTotals, part_weights: Sequence[int | Fraction | Decimal]) -> list[CheckPart]:
    """Share a check's total, tax and category net among parts by weight, exactly."""
    targets = allocate(totals.total, part_weights)
    net_by_key: dict[tuple[int, TaxRate], int] = {}
    for line in totals.lines:
        if line.status is not LineStatus.VOIDED:
            key = (line.category_id, line.tax_rate)
            net_by_key[key] = net_by_key.get(key, 0) + line.net

    # Each component goes out in proportion to what every part still needs to reach its
    # total, so rows and columns both add up; the largest go last to absorb the cents.
    needs = list(targets)

    def share_out(amount: int) -> list[int]:
        if amount == 0:
            return [0] * len(needs)
        shares = allocate(amount, needs)
        for index, share in enumerate(shares):
            needs[index] -= share
        return shares

    tax_shares = [share_out(tax_line.tax) for tax_line in totals.taxes]
    service_shares = share_out(totals.service_charge)
    net_shares = {
        key: share_out(amount)
        for key, amount in sorted(
            net_by_key.items(),
            key=lambda item: (item[1], item[0][0], _rate_key(item[0][1])),
        )
    }

    parts: list[CheckPart] = []
    for index, target in enumerate(targets):
        net_by_category = dict.fromkeys(totals.net_by_category, 0)
        base_by_rate = {tax_line.rate: 0 for tax_line in totals.taxes}
        for (category_id, rate), shares in net_shares.items():
            net_by_category[category_id] += shares[index]
            base_by_rate[rate] += shares[index]
        if totals.service_charge_tax_rate is not None:
            base_by_rate[totals.service_charge_tax_rate] += service_shares[index]
        parts.append(
            CheckPart(
                total=target,
                net_by_category=net_by_category,
                service_charge=service_shares[index],
                taxes=tuple(
                    TaxLine(tax_line.rate, base_by_rate[tax_line.rate], shares[index])
                    for tax_line, shares in zip(totals.taxes, tax_shares, strict=True)
                ),
            )
        )
    return parts


def _require_count(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"The number of parts must be an int, not {type(n).__name__}")
    if n < 1:
        raise ValueError("Split into at least one part")
