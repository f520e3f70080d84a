"""The book's arithmetic, pure: turn times, which tables a party fits, free slots, and a walk-in's honest wait."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

GRID = timedelta(minutes=15)
"""Tables are held in quarter hours: every booking starts on one, and holds each quarter it overlaps."""
DEFAULT_TURN_TIMES: tuple[tuple[int, int], ...] = ((2, 90), (4, 105), (6, 120), (40, 150))
"""(largest party, minutes at the table) until a manager sets the restaurant's own."""
MIN_SAMPLES = 5
"""Fewer real turns than this for a party size, and the quote falls back to the setting."""
LONGEST_TURN_MINUTES = 6 * 60
"""A table never marked clear would read as a very long turn; such turns say nothing about the floor."""


@dataclass(frozen=True)
class TableFact:
    """A table as the book sees it."""

    id: int
    name: str
    seats: int


@dataclass(frozen=True)
class Combination:
    """Tables that may be pushed together, and how many that seats."""

    id: int
    name: str
    table_ids: tuple[int, ...]
    seats: int


@dataclass(frozen=True)
class Busy:
    """A table taken from `start` until `end` (a reservation's hold, or a party sitting there now)."""

    table_id: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Option:
    """Where a party could sit: one table, or a combination of tables."""

    table_ids: tuple[int, ...]
    label: str
    seats: int
    combination_id: int | None = None

    @property
    def key(self) -> str:
        """The option as a form sends it: table ids joined by commas."""
        return ",".join(str(t) for t in self.table_ids)


def turn_minutes(party_size: int, turn_times: Sequence[tuple[int, int]]) -> int:
    """How long a party of `party_size` keeps its table: the first row whose largest party it fits, else the last."""
    rows = sorted(turn_times or DEFAULT_TURN_TIMES)
    for max_party, minutes in rows:
        if party_size <= max_party:
            return minutes
    return rows[-1][1]


def on_grid(moment: datetime) -> bool:
    """Whether `moment` falls on a quarter hour."""
    return moment.second == 0 and moment.microsecond == 0 and moment.minute % 15 == 0


def grid_slots(start: datetime, end: datetime) -> list[datetime]:
    """Every quarter hour from `start` (on the grid) that the stay until `end` overlaps."""
    count = math.ceil((end - start) / GRID)
    return [start + GRID * i for i in range(count)]


def overlaps(start: datetime, end: datetime, other_start: datetime, other_end: datetime) -> bool:
    """Whether two half-open stays share a moment."""
    return start < other_end and other_start < end


def options_for(party_size: int, tables: Sequence[TableFact], combinations: Sequence[Combination]) -> list[Option]:
    """Every table and combination seating `party_size`, best first: single tables before combinations, then fewest
    empty seats, then in the floor plan's order, so a two-top is not given a six-top while a two-top is free."""
    names = {t.id: t.name for t in tables}
    singles = [Option((t.id,), t.name, t.seats) for t in tables if t.seats >= party_size]
    combined = [
        Option(c.table_ids, "+".join(names[t] for t in c.table_ids), c.seats, c.id)
        for c in combinations
        if c.seats >= party_size and all(t in names for t in c.table_ids)
    ]
    # Stable sorts: tables of the same size keep the floor plan's order (first floor first).
    singles.sort(key=lambda o: o.seats)
    combined.sort(key=lambda o: (o.seats, len(o.table_ids)))
    return singles + combined


def is_free(option: Option, start: datetime, end: datetime, busy: Iterable[Busy]) -> bool:
    """Whether every table of `option` is free for the whole stay."""
    return not any(b.table_id in option.table_ids and overlaps(start, end, b.start, b.end) for b in busy)


def free_options(
    party_size: int,
    start: datetime,
    end: datetime,
    tables: Sequence[TableFact],
    combinations: Sequence[Combination],
    busy: Sequence[Busy],
) -> list[Option]:
    """Where a party could sit for the whole stay, best first."""
    return [o for o in options_for(party_size, tables, combinations) if is_free(o, start, end, busy)]


def day_slots(day: date, first: time, last: time, slot_minutes: int, zone: str) -> list[datetime]:
    """The times a party may be booked on `day`, from the first seating to the last, as instants (UTC-aware)."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, first, tzinfo=tz)
    end = datetime.combine(day, last, tzinfo=tz)
    if end < start:
        end += timedelta(days=1)  # a last seating after midnight belongs to the same service
    step = timedelta(minutes=slot_minutes)
    slots = []
    moment = start
    while moment <= end:
        slots.append(moment.astimezone(ZoneInfo("UTC")))
        moment += step
    return slots


def nearest_free(
    requested: datetime, candidates: Sequence[datetime], free: Callable[[datetime], bool], count: int = 4
) -> list[datetime]:
    """Up to `count` free times nearest to `requested` (later before earlier at the same distance), in time order."""
    ordered = sorted(
        (c for c in candidates if c != requested), key=lambda c: (abs((c - requested).total_seconds()), c < requested)
    )
    found = []
    for candidate in ordered:
        if free(candidate):
            found.append(candidate)
            if len(found) == count:
                break
    return sorted(found)


def pacing_allows(covers_starting: int, party_size: int, max_covers_per_slot: int) -> bool:
    """Whether the kitchen's pacing lets another `party_size` covers start in a slot (0: no limit)."""
    return max_covers_per_slot == 0 or covers_starting + party_size <= max_covers_per_slot


def observed_turn_times(
    samples: Iterable[tuple[int, float]], settings: Sequence[tuple[int, int]], min_samples: int = MIN_SAMPLES
) -> list[tuple[int, int]]:
    """The floor's real turn times: per party-size row of the settings, the median of recent (covers, minutes)
    turns when there are enough of them, else the setting."""
    rows = sorted(settings or DEFAULT_TURN_TIMES)
    buckets: dict[int, list[float]] = {max_party: [] for max_party, _ in rows}
    for covers, minutes in samples:
        if not 0 < minutes <= LONGEST_TURN_MINUTES:
            continue
        row = next((mp for mp, _ in rows if covers <= mp), rows[-1][0])
        buckets[row].append(minutes)
    result = []
    for max_party, minutes in rows:
        seen = buckets[max_party]
        result.append((max_party, round(statistics.median(seen)) if len(seen) >= min_samples else minutes))
    return result


@dataclass(frozen=True)
class FloorTable:
    """A table for the waitlist: its seats and when it is expected to be free (now, if it is free)."""

    id: int
    seats: int
    free_at: datetime


def quote_wait(
    now: datetime,
    party_size: int,
    tables: Sequence[FloorTable],
    combinations: Sequence[Combination],
    ahead: Sequence[int],
    turn: Callable[[int], int],
    held: Mapping[int, Sequence[tuple[datetime, datetime]]],
) -> int | None:
    """Minutes until a table for `party_size` is expected, rounded up to 5; None when nothing on the floor fits.

    The parties `ahead` (their sizes, first come first served) each take the table that frees up first for them;
    a table held for a reservation is not offered into its hold.
    """
    free_at = {t.id: max(now, t.free_at) for t in tables}
    facts = [TableFact(t.id, str(t.id), t.seats) for t in tables]
    answer: datetime | None = None
    for size in [*ahead, party_size]:
        best: tuple[datetime, int, Option] | None = None
        minutes = turn(size)
        for option in options_for(size, facts, combinations):
            start = max(free_at[t] for t in option.table_ids)
            start = _after_holds(
                start, timedelta(minutes=minutes), [h for t in option.table_ids for h in held.get(t, ())]
            )
            if best is None or (start, option.seats) < (best[0], best[1]):
                best = (start, option.seats, option)
        if best is None:
            answer = None
            continue
        start, _, option = best
        for table_id in option.table_ids:
            free_at[table_id] = start + timedelta(minutes=minutes)
        answer = start
    if answer is None:
        return None
    return math.ceil((answer - now).total_seconds() / 300) * 5


def _after_holds(start: datetime, stay: timedelta, holds: Sequence[tuple[datetime, datetime]]) -> datetime:
    """The first moment from `start` when a stay fits between reservations' holds."""
    moved = True
    while moved:
        moved = False
        for hold_start, hold_end in holds:
            if overlaps(start, start + stay, hold_start, hold_end):
                start = hold_end
                moved = True
    return start
