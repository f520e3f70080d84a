"""Money in integer cents, rate maths with explicit rounding, exact allocation."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
)
from fractions import Fraction
from typing import Final

SYMBOLS: Final[dict[str, str]] = {"EUR": "€", "USD": "$", "GBP": "£"}

_CURRENCY_CODE: Final = re.compile(r"[A-Z]{3}")
_AMOUNT: Final = re.compile(r"(?P<units>[0-9]*)(?:[.,](?P<fraction>[0-9]*))?")
# Longer input is a typo, not a bill; it also keeps int() far from its digit limit.
_MAX_DIGITS: Final = 12
_ROUNDING_MODES: Final = frozenset(
    {
        ROUND_CEILING,
        ROUND_DOWN,
        ROUND_FLOOR,
        ROUND_HALF_DOWN,
        ROUND_HALF_EVEN,
        ROUND_HALF_UP,
        ROUND_UP,
    }
)


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies met in one sum or comparison."""


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in whole minor units (cents) of one currency."""

    cents: int
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if isinstance(self.cents, bool) or not isinstance(self.cents, int):
            raise TypeError(
                f"Money takes whole cents as an int, not {type(self.cents).__name__} "
                f"{self.cents!r}; use Money.parse() for text and apply_rate() for rates"
            )
        _require_currency(self.currency)

    @classmethod
    def zero(cls, currency: str = "EUR") -> Money:
        """Nothing, in the given currency; the start value for sums."""
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str, currency: str = "EUR") -> Money:
        """Read an amount a person typed, such as "12.50", "12,50" or "€12.50"."""
        if not isinstance(text, str):
            raise TypeError(f"Money.parse reads text, not {type(text).__name__}")
        _require_currency(currency)
        cleaned = "".join(text.split())
        negative = cleaned.startswith("-")
        if negative or cleaned.startswith("+"):
            cleaned = cleaned[1:]
        for marker in (SYMBOLS.get(currency), currency):
            if marker:
                cleaned = cleaned.removeprefix(marker).removesuffix(marker)
        match = _AMOUNT.fullmatch(cleaned)
        units = match.group("units") if match else ""
        fraction = (match.group("fraction") or "") if match else ""
        if match is None or not (units or fraction):
            raise ValueError("Enter an amount like 12.50")
        if len(fraction) > 2:
            raise ValueError("Use at most two decimals, like 12.50")
        if len(units.lstrip("0")) > _MAX_DIGITS:
            raise ValueError("That amount is too large")
        cents = int(units or "0") * 100 + int(fraction.ljust(2, "0"))
        return cls(-cents if negative else cents, currency)

    def format(self) -> str:
        """The amount as a person reads it: "€12.50", "-€1.00", "12.50 CHF"."""
        sign = "-" if self.cents < 0 else ""
        whole, part = divmod(abs(self.cents), 100)
        symbol = SYMBOLS.get(self.currency)
        if symbol is None:
            return f"{sign}{whole}.{part:02d} {self.currency}"
        return f"{sign}{symbol}{whole}.{part:02d}"

    def __str__(self) -> str:
        return self.format()

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other)
        return Money(self.cents + other.cents, self.currency)

    def __radd__(self, other: int) -> Money:
        # sum() starts from the int 0; any other number mixed in is a bug.
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self
        return NotImplemented

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other)
        return Money(self.cents - other.cents, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.cents, self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise TypeError(
                f"Money can be multiplied by a whole number only, not "
                f"{type(factor).__name__}; use apply_rate() for rates"
            )
        return Money(self.cents * factor, self.currency)

    def __rmul__(self, factor: int) -> Money:
        return self.__mul__(factor)

    def __lt__(self, other: Money) -> bool:
        return self._cents_beside(other) < other.cents

    def __le__(self, other: Money) -> bool:
        return self._cents_beside(other) <= other.cents

    def __gt__(self, other: Money) -> bool:
        return self._cents_beside(other) > other.cents

    def __ge__(self, other: Money) -> bool:
        return self._cents_beside(other) >= other.cents

    def _cents_beside(self, other: Money) -> int:
        if not isinstance(other, Money):
            raise TypeError(f"Cannot compare Money with {type(other).__name__}")
        self._require_same_currency(other)
        return self.cents

    def _require_same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"Cannot combine {self.currency} and {other.currency} amounts")


def round_cents(value: Fraction | Decimal | int, rounding: str = ROUND_HALF_UP) -> int:
    """Round an exact number of cents to a whole cent with the given Decimal mode."""
    if isinstance(value, bool) or not isinstance(value, Fraction | Decimal | int):
        raise TypeError(f"Rounding takes an int, Fraction or Decimal, not {type(value).__name__}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"Cannot round {value} to cents")
    if rounding not in _ROUNDING_MODES:
        raise ValueError(f"Unsupported rounding mode {rounding!r}")
    exact = Fraction(value)
    floor, rest = divmod(exact.numerator, exact.denominator)
    if rest == 0:
        return floor
    ceiling = floor + 1
    positive = exact > 0
    if rounding == ROUND_FLOOR:
        return floor
    if rounding == ROUND_CEILING:
        return ceiling
    if rounding == ROUND_DOWN:
        return floor if positive else ceiling
    if rounding == ROUND_UP:
        return ceiling if positive else floor
    twice_rest = 2 * rest
    if twice_rest < exact.denominator:
        return floor
    if twice_rest > exact.denominator:
        return ceiling
    if rounding == ROUND_HALF_UP:
        return ceiling if positive else floor
    if rounding == ROUND_HALF_DOWN:
        return floor if positive else ceiling
    return floor if floor % 2 == 0 else ceiling


def apply_rate(cents: int, rate: Decimal, rounding: str = ROUND_HALF_UP) -> int:
    """Cents times a Decimal rate (0.21 for 21 %), rounded once in an explicit mode."""
    _require_int(cents, "cents")
    if isinstance(rate, bool) or not isinstance(rate, Decimal | int):
        raise TypeError(f"A rate must be a Decimal such as Decimal('0.21'), not {type(rate).__name__}")
    if isinstance(rate, Decimal) and not rate.is_finite():
        raise ValueError(f"A rate must be a finite number, not {rate}")
    # Multiplying as fractions keeps the product exact whatever the context precision.
    return round_cents(Fraction(cents) * Fraction(rate), rounding)


def allocate(total: int, weights: Sequence[int | Fraction | Decimal]) -> list[int]:
    """Split cents in proportion to weights by largest remainder; parts sum to total."""
    _require_int(total, "total")
    if len(weights) == 0:
        raise ValueError("Cannot allocate an amount among no parts")
    exact = [_weight(weight) for weight in weights]
    weight_sum = sum(exact, Fraction(0))
    if weight_sum == 0:
        raise ValueError("Cannot allocate when every weight is zero")
    # Work on the magnitude so a negative total splits as the mirror of a positive one.
    magnitude = abs(total)
    shares = [magnitude * weight / weight_sum for weight in exact]
    parts = [share.numerator // share.denominator for share in shares]
    leftover = magnitude - sum(parts)
    # Earlier positions win ties so the same check always splits the same way.
    by_remainder = sorted(range(len(shares)), key=lambda index: (-(shares[index] - parts[index]), index))
    for index in by_remainder[:leftover]:
        parts[index] += 1
    sign = -1 if total < 0 else 1
    return [sign * part for part in parts]


def split_evenly(total: int, n: int) -> list[int]:
    """Split cents into n parts at most a cent apart, the earlier parts larger."""
    _require_int(n, "n")
    if n < 1:
        raise ValueError("Split into at least one part")
    return allocate(total, [1] * n)


def _weight(weight: int | Fraction | Decimal) -> Fraction:
    if isinstance(weight, bool) or not isinstance(weight, int | Fraction | Decimal):
        raise TypeError(f"Weights must be int, Fraction or Decimal, not {type(weight).__name__}")
    if isinstance(weight, Decimal) and not weight.is_finite():
        raise ValueError(f"A weight must be a finite number, not {weight}")
    exact = Fraction(weight)
    if exact < 0:
        raise ValueError(f"A weight cannot be negative, got {weight}")
    return exact


def _require_int(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__} {value!r}")


def _require_currency(currency: str) -> None:
    if not isinstance(currency, str) or not _CURRENCY_CODE.fullmatch(currency):
        raise ValueError(f"A currency is a three-letter code like 'EUR', not {currency!r}")
