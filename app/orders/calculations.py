"""Pure rules of table service: modifier choices, what a Send fires, how a table's state reads."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from fractions import Fraction

from app.lib.errors import InvalidInput
from app.lib.money import round_cents
from app.menu.models import Course

NOTE_MAX_LENGTH = 140
MAX_QUANTITY = 99
MAX_COVERS = 99
TAB_NAME_MAX_LENGTH = 60
VOID_REASON_MAX_LENGTH = 200


@dataclass(frozen=True, slots=True)
class ModifierOption:
    """One answer a server can tap, with its price change in cents (and the station it sends to, if its own)."""

    id: int
    name: str
    price_delta_cents: int = 0
    station_id: int | None = None
    counts_stock: bool = False


@dataclass(frozen=True, slots=True)
class ModifierQuestion:
    """A modifier group as an item asks it: how many answers are allowed, and which."""

    id: int
    name: str
    min_choices: int
    max_choices: int
    options: tuple[ModifierOption, ...]

    @property
    def forced(self) -> bool:
        """A forced question must be answered before the line is rung in."""
        return self.min_choices > 0

    @property
    def rule(self) -> str:
        """How many answers, in the words a server reads: 'choose 1', 'up to 2', 'choose 3'."""
        if self.min_choices == self.max_choices:
            return f"choose {self.min_choices}"
        if self.min_choices == 0:
            return f"up to {self.max_choices}"
        return f"choose {self.min_choices} to {self.max_choices}"


@dataclass(frozen=True, slots=True)
class ChosenModifier:
    """An answer taken, with the question it belongs to."""

    question: ModifierQuestion
    option: ModifierOption


def validate_choices(questions: Sequence[ModifierQuestion], chosen_ids: Sequence[int]) -> list[ChosenModifier]:
    """The chosen answers in question order, or one refusal naming every question answered wrongly."""
    by_option: dict[int, ModifierQuestion] = {}
    for question in questions:
        for option in question.options:
            by_option[option.id] = question
    if len(set(chosen_ids)) != len(chosen_ids):
        raise InvalidInput("The same option was chosen twice; tap each option once.")
    unknown = [option_id for option_id in chosen_ids if option_id not in by_option]
    if unknown:
        raise InvalidInput("That option is not offered for this item; reopen the item and choose again.")
    chosen = set(chosen_ids)
    problems: list[str] = []
    result: list[ChosenModifier] = []
    for question in questions:
        picked = [option for option in question.options if option.id in chosen]
        if len(picked) < question.min_choices:
            problems.append(f"{question.name}: {question.rule}")
        elif len(picked) > question.max_choices:
            problems.append(f"{question.name}: at most {question.max_choices}")
        result.extend(ChosenModifier(question, option) for option in picked)
    if problems:
        raise InvalidInput("Answer every required choice — " + "; ".join(problems) + ".")
    return result


def line_amount_cents(unit_price_cents: int, modifiers_cents: int, quantity: Fraction) -> int:
    """What a line costs before tax and discounts: (price + paid extras) times quantity, to the cent."""
    return round_cents((unit_price_cents + modifiers_cents) * quantity)


@dataclass(frozen=True, slots=True)
class UnsentLine:
    """A line the kitchen has not seen: its course and whether it is held."""

    id: int
    course: Course
    held: bool


@dataclass(frozen=True, slots=True)
class FirePlan:
    """One message to the kitchen: a course's lines, as a first fire or an addition."""

    course: Course
    addition: bool
    line_ids: tuple[int, ...]


def plan_send(lines: Iterable[UnsentLine], fired_courses: Collection[Course]) -> list[FirePlan]:
    """What 'Send' fires: every unheld line, one fire per course, in meal order."""
    return _plan((line for line in lines if not line.held), fired_courses)


def plan_course_fire(lines: Iterable[UnsentLine], course: Course, fired_courses: Collection[Course]) -> list[FirePlan]:
    """What 'Fire <course>' fires: that course's unsent lines, held or not."""
    return _plan((line for line in lines if line.course == course), fired_courses)


def _plan(lines: Iterable[UnsentLine], fired_courses: Collection[Course]) -> list[FirePlan]:
    by_course: dict[Course, list[int]] = {}
    for line in lines:
        by_course.setdefault(line.course, []).append(line.id)
    return [
        FirePlan(course=course, addition=course in fired_courses, line_ids=tuple(sorted(by_course[course])))
        for course in sorted(by_course, key=lambda c: c.order)
    ]


class TableState(StrEnum):
    """How a table reads from across the room; the value is also its CSS state class."""

    FREE = "free"
    SEATED = "seated"
    ORDERED = "ordered"
    FIRED = "fired"
    READY = "ready"
    PRINTED = "printed"
    PAID = "paid"

    @property
    def label(self) -> str:
        """The words on the table."""
        return _STATE_LABELS[self]

    @property
    def rank(self) -> int:
        """How far along the meal is (free first, paid last)."""
        return list(TableState).index(self)


_STATE_LABELS = {
    TableState.FREE: "Free",
    TableState.SEATED: "Seated",
    TableState.ORDERED: "Ordered",
    TableState.FIRED: "Fired",
    TableState.READY: "Food ready",
    TableState.PRINTED: "Check printed",
    TableState.PAID: "Paid · needs clearing",
}


@dataclass(frozen=True, slots=True)
class CheckFacts:
    """What the floor needs to know about one check on a table."""

    is_open: bool
    line_count: int
    sent_count: int
    last_fire_at: datetime | None
    kitchen_ready_at: datetime | None
    guest_check_printed_at: datetime | None


def check_state(facts: CheckFacts) -> TableState:
    """One check's state: the newest of fired, ready and printed wins once food has gone out."""
    if not facts.is_open:
        return TableState.PAID
    if facts.line_count == 0:
        return TableState.PRINTED if facts.guest_check_printed_at else TableState.SEATED
    if facts.sent_count == 0:
        return TableState.PRINTED if facts.guest_check_printed_at else TableState.ORDERED
    candidates: list[tuple[datetime, int, TableState]] = []
    if facts.last_fire_at is not None:
        candidates.append((facts.last_fire_at, 0, TableState.FIRED))
        # 'Ready' counts only when the kitchen finished after the newest fire.
        if facts.kitchen_ready_at is not None and facts.kitchen_ready_at >= facts.last_fire_at:
            candidates.append((facts.kitchen_ready_at, 1, TableState.READY))
    if facts.guest_check_printed_at is not None:
        candidates.append((facts.guest_check_printed_at, 2, TableState.PRINTED))
    if not candidates:
        return TableState.FIRED
    return max(candidates, key=lambda c: (c[0], c[1]))[2]


def table_state(checks: Sequence[CheckFacts]) -> TableState:
    """A table's state from its checks: open checks lead (the furthest along), then a paid one awaiting clearing."""
    open_states = [check_state(facts) for facts in checks if facts.is_open]
    if open_states:
        return max(open_states, key=lambda state: state.rank)
    if checks:
        return TableState.PAID
    return TableState.FREE
