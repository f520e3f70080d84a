"""Pure table-service rules: modifier choices, what Send and Fire send, how a table's state reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from app.lib.errors import InvalidInput
from app.menu.models import Course
from app.orders.calculations import (
    CheckFacts,
    FirePlan,
    ModifierOption,
    ModifierQuestion,
    TableState,
    UnsentLine,
    check_state,
    line_amount_cents,
    plan_course_fire,
    plan_send,
    table_state,
    validate_choices,
)

TEMPERATURE = ModifierQuestion(1, "Temperature", 1, 1, (ModifierOption(10, "Rare"), ModifierOption(11, "Medium")))
SAUCE = ModifierQuestion(
    2,
    "Sauce",
    0,
    2,
    (ModifierOption(20, "Peppercorn", 250), ModifierOption(21, "Béarnaise", 250), ModifierOption(22, "Jus", 250)),
)
SORBET = ModifierQuestion(3, "Sorbet flavours", 3, 3, tuple(ModifierOption(30 + i, f"Flavour {i}") for i in range(4)))
T0 = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)


def test_answering_every_forced_question_returns_the_choices_in_question_order() -> None:
    chosen = validate_choices([TEMPERATURE, SAUCE], [21, 10])
    assert [(c.question.name, c.option.name) for c in chosen] == [("Temperature", "Rare"), ("Sauce", "Béarnaise")]


def test_an_unanswered_forced_question_is_named_in_the_refusal() -> None:
    with pytest.raises(InvalidInput, match="Temperature: choose 1"):
        validate_choices([TEMPERATURE, SAUCE], [20])


def test_every_wrongly_answered_question_is_named_at_once() -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_choices([TEMPERATURE, SAUCE, SORBET], [20, 21, 22, 30])
    assert "Temperature: choose 1" in refused.value.message
    assert "Sauce: at most 2" in refused.value.message
    assert "Sorbet flavours: choose 3" in refused.value.message


def test_an_option_from_elsewhere_or_chosen_twice_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not offered"):
        validate_choices([TEMPERATURE], [10, 99])
    with pytest.raises(InvalidInput, match="twice"):
        validate_choices([TEMPERATURE], [10, 10])


def test_an_item_without_questions_takes_no_answers() -> None:
    assert validate_choices([], []) == []
    with pytest.raises(InvalidInput):
        validate_choices([], [10])


def test_rules_read_like_a_server_says_them() -> None:
    assert TEMPERATURE.rule == "choose 1"
    assert SAUCE.rule == "up to 2"
    assert ModifierQuestion(4, "Sides", 1, 2, ()).rule == "choose 1 to 2"
    assert TEMPERATURE.forced
    assert not SAUCE.forced


def test_a_line_costs_price_plus_paid_extras_times_quantity() -> None:
    assert line_amount_cents(3200, 400, Fraction(2)) == 7200
    assert line_amount_cents(1000, 0, Fraction(1, 3)) == 333


def test_send_fires_every_unheld_course_once_in_meal_order() -> None:
    lines = [
        UnsentLine(5, Course.MAINS, held=True),
        UnsentLine(3, Course.STARTERS, held=False),
        UnsentLine(1, Course.DRINKS, held=False),
        UnsentLine(4, Course.STARTERS, held=False),
    ]
    assert plan_send(lines, fired_courses={Course.DRINKS}) == [
        FirePlan(Course.DRINKS, addition=True, line_ids=(1,)),
        FirePlan(Course.STARTERS, addition=False, line_ids=(3, 4)),
    ]


def test_firing_a_course_sends_its_held_and_unheld_lines_and_nothing_else() -> None:
    lines = [
        UnsentLine(7, Course.MAINS, held=True),
        UnsentLine(8, Course.MAINS, held=False),
        UnsentLine(9, Course.DESSERT, held=True),
    ]
    assert plan_course_fire(lines, Course.MAINS, fired_courses=set()) == [FirePlan(Course.MAINS, False, (7, 8))]
    assert plan_course_fire(lines, Course.DRINKS, fired_courses=set()) == []


def _facts(**overrides: object) -> CheckFacts:
    values: dict[str, object] = {
        "is_open": True,
        "line_count": 0,
        "sent_count": 0,
        "last_fire_at": None,
        "kitchen_ready_at": None,
        "guest_check_printed_at": None,
    }
    values.update(overrides)
    return CheckFacts(**values)  # type: ignore[arg-type]


def test_a_table_walks_from_free_to_paid() -> None:
    assert table_state([]) == TableState.FREE
    assert check_state(_facts()) == TableState.SEATED
    assert check_state(_facts(line_count=2)) == TableState.ORDERED
    assert check_state(_facts(line_count=2, sent_count=1, last_fire_at=T0)) == TableState.FIRED
    ready = _facts(line_count=2, sent_count=2, last_fire_at=T0, kitchen_ready_at=T0 + timedelta(minutes=9))
    assert check_state(ready) == TableState.READY
    printed = _facts(
        line_count=2,
        sent_count=2,
        last_fire_at=T0,
        kitchen_ready_at=T0 + timedelta(minutes=9),
        guest_check_printed_at=T0 + timedelta(minutes=50),
    )
    assert check_state(printed) == TableState.PRINTED
    assert table_state([_facts(is_open=False)]) == TableState.PAID


def test_ready_only_counts_when_the_kitchen_finished_after_the_newest_fire() -> None:
    fired_again = _facts(
        line_count=3,
        sent_count=3,
        last_fire_at=T0 + timedelta(minutes=20),
        kitchen_ready_at=T0 + timedelta(minutes=9),
    )
    assert check_state(fired_again) == TableState.FIRED


def test_a_split_table_shows_its_furthest_open_check_and_paid_only_when_all_are_paid() -> None:
    fired = _facts(line_count=1, sent_count=1, last_fire_at=T0)
    assert table_state([_facts(), fired]) == TableState.FIRED
    assert table_state([_facts(is_open=False), _facts()]) == TableState.SEATED
    assert table_state([_facts(is_open=False), _facts(is_open=False)]) == TableState.PAID


def test_state_values_are_the_css_classes_the_floor_uses() -> None:
    assert [s.value for s in TableState] == ["free", "seated", "ordered", "fired", "ready", "printed", "paid"]
    assert TableState.PAID.label == "Paid · needs clearing"
