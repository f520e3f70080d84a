"""The book's arithmetic alone: turn times, where a party fits, free slots, pacing, real turn times, quoted waits."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from app.reservations import calculations as calc

NOW = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)
TABLES = [
    calc.TableFact(1, "1", 2),
    calc.TableFact(2, "2", 2),
    calc.TableFact(3, "3", 4),
    calc.TableFact(4, "4", 6),
]
COMBOS = [calc.Combination(10, "3+4", (3, 4), 10), calc.Combination(11, "1+2", (1, 2), 4)]


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def test_turn_time_is_the_first_row_the_party_fits_and_the_last_beyond_it() -> None:
    rows = [(4, 105), (2, 90), (6, 120)]
    assert [calc.turn_minutes(n, rows) for n in (1, 2, 3, 6, 9)] == [90, 90, 105, 120, 120]
    assert calc.turn_minutes(12, []) == 150, "no settings: the defaults"


def test_a_stay_holds_every_quarter_hour_it_overlaps() -> None:
    slots = calc.grid_slots(NOW, NOW + minutes(100))
    assert len(slots) == 7
    assert slots[-1] == NOW + minutes(90)
    assert calc.on_grid(NOW + minutes(45))
    assert not calc.on_grid(NOW + minutes(50))


def test_a_party_gets_the_smallest_single_table_before_any_combination() -> None:
    assert [o.label for o in calc.options_for(2, TABLES, COMBOS)] == ["1", "2", "3", "4", "1+2", "3+4"]
    assert [o.label for o in calc.options_for(5, TABLES, COMBOS)] == ["4", "3+4"]
    assert [o.label for o in calc.options_for(8, TABLES, COMBOS)] == ["3+4"]
    assert calc.options_for(11, TABLES, COMBOS) == []


def test_a_combination_is_free_only_when_each_of_its_tables_is() -> None:
    busy = [calc.Busy(3, NOW, NOW + minutes(90))]
    free = calc.free_options(8, NOW + minutes(60), NOW + minutes(150), TABLES, COMBOS, busy)
    assert free == []
    later = calc.free_options(8, NOW + minutes(90), NOW + minutes(180), TABLES, COMBOS, busy)
    assert [o.key for o in later] == ["3,4"], "a stay may start the moment the one before ends"
    assert [o.label for o in calc.free_options(4, NOW, NOW + minutes(105), TABLES, COMBOS, busy)] == ["4", "1+2"]


def test_day_slots_run_from_the_first_to_the_last_seating_in_the_restaurants_zone() -> None:
    slots = calc.day_slots(date(2026, 7, 1), time(17, 0), time(22, 0), 30, "Europe/Amsterdam")
    assert len(slots) == 11
    assert slots[0] == datetime(2026, 7, 1, 15, 0, tzinfo=UTC), "summer time: two hours ahead of UTC"
    late = calc.day_slots(date(2026, 7, 1), time(22, 0), time(1, 0), 60, "Europe/Amsterdam")
    assert len(late) == 4, "a last seating after midnight belongs to the same service"


def test_the_nearest_free_times_prefer_later_at_the_same_distance_and_come_in_order() -> None:
    candidates = [NOW + minutes(15 * i) for i in range(-8, 9)]
    free = {NOW - minutes(30), NOW + minutes(30), NOW + minutes(90), NOW - minutes(120), NOW + minutes(120)}
    found = calc.nearest_free(NOW, candidates, lambda at: at in free, count=3)
    assert found == [NOW - minutes(30), NOW + minutes(30), NOW + minutes(90)]
    assert calc.nearest_free(NOW, candidates, lambda at: False) == []


def test_pacing_counts_covers_starting_in_the_slot() -> None:
    assert calc.pacing_allows(10, 6, 0), "0 is no limit"
    assert calc.pacing_allows(10, 6, 16)
    assert not calc.pacing_allows(11, 6, 16)


def test_real_turn_times_are_medians_per_party_size_with_enough_tables_else_the_setting() -> None:
    settings = [(2, 90), (4, 105)]
    samples = [(2, 50.0), (2, 60.0), (1, 70.0), (2, 65.0), (2, 80.0), (4, 40.0), (3, 2000.0), (9, 100.0)]
    assert calc.observed_turn_times(samples, settings) == [(2, 65), (4, 105)]
    assert calc.observed_turn_times(samples, settings, min_samples=2) == [(2, 65), (4, 70)]


def turn(size: int) -> int:
    return 60 if size <= 2 else 90


def test_a_free_table_is_no_wait_and_a_full_floor_waits_for_the_first_table_to_turn() -> None:
    floor = [calc.FloorTable(1, 2, NOW), calc.FloorTable(3, 4, NOW + minutes(33))]
    assert calc.quote_wait(NOW, 2, floor, [], [], turn, {}) == 0
    assert calc.quote_wait(NOW, 4, floor, [], [], turn, {}) == 35, "rounded up to five minutes"
    assert calc.quote_wait(NOW, 7, floor, [], [], turn, {}) is None


def test_parties_ahead_take_their_tables_first() -> None:
    floor = [calc.FloorTable(1, 2, NOW + minutes(10)), calc.FloorTable(2, 2, NOW + minutes(20))]
    assert calc.quote_wait(NOW, 2, floor, [], [2], turn, {}) == 20
    assert calc.quote_wait(NOW, 2, floor, [], [2, 2], turn, {}) == 70, "the first table turns again after 60"


def test_a_table_held_for_a_reservation_is_not_offered_into_its_hold() -> None:
    floor = [calc.FloorTable(1, 2, NOW), calc.FloorTable(2, 2, NOW + minutes(45))]
    held = {1: [(NOW + minutes(30), NOW + minutes(120))]}
    assert calc.quote_wait(NOW, 2, floor, [], [], turn, held) == 45, "table 1 would run into the 18:30 booking"


def test_a_large_party_waits_for_every_table_of_its_combination() -> None:
    floor = [calc.FloorTable(3, 4, NOW + minutes(20)), calc.FloorTable(4, 6, NOW + minutes(50))]
    assert calc.quote_wait(NOW, 9, floor, [calc.Combination(1, "3+4", (3, 4), 10)], [], turn, {}) == 50
