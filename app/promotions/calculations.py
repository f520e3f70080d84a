"""Pure maths of promotions: when a rule runs, what it takes off a line, and which rule wins.

Four kinds of rule. A percent off and a set price act on each unit of a line by themselves: what they take off
one unit is worked out once, when the line is rung in, and kept on the line. A quantity deal (2 for €X) and a
set menu (a starter, a main and a dessert for €X) act on several units together: the line keeps the deal's
terms, and `promotion_amounts` forms the deals from the check's lines each time the check is priced, so a
void of one of a pair takes the deal away again. A deal's saving is spread over the units in it by price,
largest remainder, so every cent lands on a line and lines add up to the deal.

Every amount is integer cents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from zoneinfo import ZoneInfo

from app.lib.money import allocate, round_cents

MINUTES_PER_DAY = 24 * 60
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class RuleKind(StrEnum):
    """How a rule prices what it matches."""

    PERCENT = "percent"
    SET_PRICE = "set_price"
    QUANTITY = "quantity"
    SET_MENU = "set_menu"

    @property
    def label(self) -> str:
        """What a manager reads."""
        return {
            RuleKind.PERCENT: "Percent off",
            RuleKind.SET_PRICE: "Set price",
            RuleKind.QUANTITY: "Quantity deal",
            RuleKind.SET_MENU: "Set menu",
        }[self]

    @property
    def is_deal(self) -> bool:
        """Whether the rule prices several units together."""
        return self in (RuleKind.QUANTITY, RuleKind.SET_MENU)


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a rule runs: weekdays (0 is Monday), a window of minutes of the day, optional first and last day."""

    weekdays: frozenset[int]
    start_minute: int
    end_minute: int
    first_day: date | None = None
    last_day: date | None = None

    def runs_at(self, moment: datetime, timezone: str) -> bool:
        """Whether the rule runs at `moment` (aware), read on the venue's clock."""
        local = moment.astimezone(ZoneInfo(timezone))
        if self.first_day is not None and local.date() < self.first_day:
            return False
        if self.last_day is not None and local.date() > self.last_day:
            return False
        minute = local.hour * 60 + local.minute
        return local.weekday() in self.weekdays and self.start_minute <= minute < self.end_minute


def minute_of(value: time) -> int:
    """Minutes since midnight."""
    return value.hour * 60 + value.minute


def clock_text(minute: int) -> str:
    """24:00 for the end of the day, else HH:MM."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule as ring-in weighs it: its kind and its figures."""

    id: int
    name: str
    kind: RuleKind
    percent: Decimal = Decimal(0)
    price_cents: int = 0
    deal_size: int = 0


@dataclass(frozen=True, slots=True)
class Terms:
    """What a line keeps of the rule it was rung in under (its snapshot).

    `unit_off` is what a percent or set price takes off each unit; a deal keeps its size and price instead, and
    a set menu line the course it fills.
    """

    rule_id: int
    name: str
    kind: RuleKind
    unit_off: int = 0
    deal_size: int = 0
    deal_price: int = 0
    slot: str | None = None


def unit_off(rule: Rule, unit_price: int) -> int:
    """What a per-unit rule takes off one unit of `unit_price`; never more than the unit, never below zero."""
    if rule.kind is RuleKind.PERCENT:
        return min(unit_price, round_cents(Fraction(unit_price) * Fraction(rule.percent) / 100))
    if rule.kind is RuleKind.SET_PRICE:
        return max(unit_price - rule.price_cents, 0)
    raise ValueError(f"{rule.kind.label} has no price per unit")


def guest_unit_price(rule: Rule, unit_price: int) -> Fraction:
    """What the guest pays for one unit under `rule`: for a deal, the deal's price over its size."""
    if rule.kind.is_deal:
        return Fraction(rule.price_cents, max(rule.deal_size, 1))
    return Fraction(unit_price - unit_off(rule, unit_price))


def best_rule(rules: Sequence[Rule], unit_price: int) -> Rule | None:
    """The rule a line is rung in under: the lowest price for the guest, ties to the lowest rule id.

    A per-unit rule that would not lower the price (a set price above the menu's) is not applied. A deal always
    is: whether it saves is known only once its other units are on the check (a set menu's dessert may cost less
    than a third of the set). See docs/adr/0012-promotion-precedence.md.
    """
    useful = [rule for rule in rules if rule.kind.is_deal or guest_unit_price(rule, unit_price) < unit_price]
    if not useful:
        return None
    return min(useful, key=lambda rule: (guest_unit_price(rule, unit_price), rule.id))


def terms_for(rule: Rule, unit_price: int, slot: str | None = None) -> Terms:
    """The snapshot a line keeps of the rule it was rung in under."""
    if rule.kind.is_deal:
        return Terms(rule.id, rule.name, rule.kind, deal_size=rule.deal_size, deal_price=rule.price_cents, slot=slot)
    return Terms(rule.id, rule.name, rule.kind, unit_off=unit_off(rule, unit_price))


@dataclass(frozen=True, slots=True)
class PromotedLine:
    """A line as promotions see it: its item price per unit (modifiers not in), quantity and snapshot."""

    unit_price: int
    quantity: Fraction
    terms: Terms | None
    group: int | None = None
    """Shares of one shared line carry the original line's id: a per-unit rule is rounded once for them."""


def promotion_amounts(lines: Sequence[PromotedLine]) -> list[int]:
    """Cents each line's promotion takes off, in the order given; lines without one (or voided: leave them out)
    get zero.

    A per-unit rule takes its `unit_off` times the quantity. Deals are formed among lines with the same terms:
    a quantity deal groups the dearest units first (so the guest saves the most), a set menu takes the dearest
    unit of each course for each set. A deal whose units cost no more than its price saves nothing. Fractions
    of units (a shared share) never make up a deal.
    """
    amounts = [0] * len(lines)
    deals: dict[tuple[int, RuleKind, int, int], list[int]] = {}
    shared: dict[tuple[int, int, int, int], list[int]] = {}
    for index, line in enumerate(lines):
        terms = line.terms
        if terms is None:
            continue
        if terms.kind.is_deal:
            deals.setdefault((terms.rule_id, terms.kind, terms.deal_size, terms.deal_price), []).append(index)
        else:
            key = (line.group if line.group is not None else -1 - index, terms.rule_id, terms.unit_off, line.unit_price)
            shared.setdefault(key, []).append(index)
    for (_, _, off, unit_price), indexes in shared.items():
        # One line, or the shares of one shared line: rounded once on the whole quantity, then spread over the
        # shares by quantity with largest remainder, so splitting a line never adds or loses a cent.
        quantity = sum((lines[index].quantity for index in indexes), Fraction(0))
        whole = min(round_cents(unit_price * quantity), round_cents(off * quantity))
        if len(indexes) == 1:
            amounts[indexes[0]] = whole
        elif whole:
            for index, share in zip(indexes, allocate(whole, [lines[i].quantity for i in indexes]), strict=True):
                amounts[index] = share
    for (_, kind, size, price), indexes in sorted(deals.items()):
        # each whole unit once, dearest first, ties in line order
        units = [
            (lines[index].unit_price, position, index)
            for position, index in enumerate(indexes)
            for _ in range(int(lines[index].quantity) if lines[index].quantity >= 1 else 0)
        ]
        units.sort(key=lambda unit: (-unit[0], unit[1]))
        groups = _quantity_groups(units, size) if kind is RuleKind.QUANTITY else _set_groups(units, lines, size)
        for group in groups:
            prices = [unit[0] for unit in group]
            saving = sum(prices) - price
            if saving <= 0:
                continue
            for unit, share in zip(group, allocate(saving, prices), strict=True):
                amounts[unit[2]] += share
    return amounts


_Unit = tuple[int, int, int]


def _quantity_groups(units: list[_Unit], size: int) -> list[list[_Unit]]:
    if size < 1:
        return []
    whole = len(units) // size * size
    return [units[start : start + size] for start in range(0, whole, size)]


def _set_groups(units: list[_Unit], lines: Sequence[PromotedLine], size: int) -> list[list[_Unit]]:
    by_slot: dict[str, list[_Unit]] = {}
    for unit in units:
        terms = lines[unit[2]].terms
        if terms is not None and terms.slot:
            by_slot.setdefault(terms.slot, []).append(unit)
    if size < 1 or len(by_slot) < size:
        return []
    count = min(len(slot_units) for slot_units in by_slot.values())
    return [[by_slot[slot][n] for slot in sorted(by_slot)] for n in range(count)]


def schedule_text(weekdays: frozenset[int], start_minute: int, end_minute: int) -> str:
    """'Mon-Fri 17:00-19:00', 'Every day, all day' and the like, for a manager's list."""
    if weekdays == frozenset(range(7)):
        days = "Every day"
    elif weekdays == frozenset(range(5)):
        days = "Mon-Fri"
    elif weekdays == frozenset({5, 6}):
        days = "Sat-Sun"
    else:
        days = ", ".join(WEEKDAY_NAMES[day] for day in sorted(weekdays))
    hours = (
        "all day"
        if (start_minute, end_minute) == (0, MINUTES_PER_DAY)
        else (f"{clock_text(start_minute)}-{clock_text(end_minute)}")
    )
    return f"{days}, {hours}"
