"""Head office acknowledges the highest sequence it holds without a hole; a venue resends from just after it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.group.calculations import backoff_seconds, contiguous_high, resend_from


def test_a_batch_in_order_is_acknowledged_to_its_last_record() -> None:
    assert contiguous_high(0, [1, 2, 3]) == 3


def test_a_gap_holds_the_acknowledgement_below_it() -> None:
    assert contiguous_high(0, [1, 2, 4, 5]) == 2


def test_records_out_of_order_count_once_the_hole_fills() -> None:
    assert contiguous_high(2, [5, 4]) == 2
    assert contiguous_high(2, [5, 4, 3]) == 5


def test_duplicates_and_old_records_change_nothing() -> None:
    assert contiguous_high(7, [1, 2, 7, 7, 3]) == 7
    assert contiguous_high(7, [8, 8, 8]) == 8


def test_nothing_new_keeps_the_mark() -> None:
    assert contiguous_high(12, []) == 12


def test_a_venue_resends_from_just_after_the_acknowledged_mark() -> None:
    assert resend_from(0) == 1
    assert resend_from(41) == 42


def test_backoff_doubles_and_stops_at_five_minutes() -> None:
    assert backoff_seconds(0) == 0
    assert [backoff_seconds(n) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert backoff_seconds(50) == 300


@given(st.lists(st.integers(min_value=1, max_value=40), max_size=80), st.integers(min_value=0, max_value=10))
def test_the_acknowledgement_is_the_longest_run_from_the_start(held: list[int], acked: int) -> None:
    high = contiguous_high(acked, held)
    have = set(held) | set(range(1, acked + 1))
    assert high >= acked
    assert all(n in have for n in range(1, high + 1))
    assert high + 1 not in have


@given(st.lists(st.integers(min_value=1, max_value=30), max_size=60), st.randoms())
def test_the_order_batches_arrive_in_does_not_matter(held: list[int], shuffler: object) -> None:
    shuffled = list(held)
    shuffler.shuffle(shuffled)  # type: ignore[attr-defined]
    assert contiguous_high(0, shuffled) == contiguous_high(0, held)
    # taken in two deliveries, in either order, the mark ends where one delivery would leave it
    half = len(shuffled) // 2
    first = contiguous_high(0, shuffled[:half])
    assert contiguous_high(first, shuffled[:half] + shuffled[half:]) == contiguous_high(0, held)
