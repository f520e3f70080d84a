"""Routing fired lines to stations: pure functions, so the rules are tested without a database.

A line goes to the station it was rung in with (the snapshot on the check line). If that station
has since been archived, today's menu decides: the item's own station, else its category's. A
modifier with a station of its own (a side of fries on a steak) also goes to that station as a
line of its own. A line no station takes is never dropped: it is returned as unrouted, with the
reason, so expo shows it and a manager can fix the menu.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction


@dataclass(frozen=True)
class RoutableModifier:
    """A modifier chosen on a line, with the station it was rung in with (if any)."""

    name: str
    station_id: int | None = None


@dataclass(frozen=True)
class RoutableLine:
    """What the router needs to know about one fired line."""

    line_id: int
    name: str
    quantity: Fraction
    category_name: str = ""
    snapshot_station_id: int | None = None
    item_station_id: int | None = None
    category_station_id: int | None = None
    seat: int | None = None
    course: str | None = None
    note: str | None = None
    modifiers: tuple[RoutableModifier, ...] = ()


@dataclass(frozen=True)
class RoutedLine:
    """A line as one station will see it."""

    line_id: int
    name: str
    quantity: Fraction
    seat: int | None = None
    course: str | None = None
    note: str | None = None
    modifiers: tuple[str, ...] = ()
    part_of: str | None = None
    unrouted_reason: str | None = None


@dataclass
class RoutedFire:
    """Where each fired line goes: station id → lines, plus lines no station takes."""

    by_station: dict[int, list[RoutedLine]] = field(default_factory=dict)
    unrouted: list[RoutedLine] = field(default_factory=list)

    @property
    def station_ids(self) -> list[int]:
        """The stations that get a ticket, in first-seen order."""
        return list(self.by_station)


def station_for(line: RoutableLine, live_stations: Iterable[int]) -> int | None:
    """The prep station that makes `line`, or None when no live station takes it."""
    live = set(live_stations)
    for candidate in (line.snapshot_station_id, line.item_station_id, line.category_station_id):
        if candidate is not None and candidate in live:
            return candidate
    return None


def unrouted_reason(line: RoutableLine) -> str:
    """Why `line` reaches no station, said so a manager knows what to fix."""
    where = f" (category {line.category_name})" if line.category_name else ""
    return f"{line.name}{where} has no kitchen station: set one for its category or item under Stations & printers."


def route_fire(
    lines: Iterable[RoutableLine], live_stations: Iterable[int], station_names: Mapping[int, str]
) -> RoutedFire:
    """Split fired lines into one list per station; modifiers with their own station go there too."""
    live = set(live_stations)
    routed = RoutedFire()
    for line in lines:
        station = station_for(line, live)
        labels: list[str] = []
        elsewhere: list[tuple[int, RoutableModifier]] = []
        for modifier in line.modifiers:
            target = modifier.station_id
            if target is not None and target in live and target != station:
                elsewhere.append((target, modifier))
                labels.append(f"{modifier.name} (from {station_names.get(target, 'another station')})")
            else:
                labels.append(modifier.name)
        main = RoutedLine(
            line_id=line.line_id,
            name=line.name,
            quantity=line.quantity,
            seat=line.seat,
            course=line.course,
            note=line.note,
            modifiers=tuple(labels),
        )
        if station is None:
            routed.unrouted.append(_with_reason(main, unrouted_reason(line)))
        else:
            routed.by_station.setdefault(station, []).append(main)
        for target, modifier in elsewhere:
            routed.by_station.setdefault(target, []).append(
                RoutedLine(
                    line_id=line.line_id,
                    name=modifier.name,
                    quantity=line.quantity,
                    seat=line.seat,
                    course=line.course,
                    note=line.note,
                    part_of=line.name,
                )
            )
    return routed


def _with_reason(line: RoutedLine, reason: str) -> RoutedLine:
    return RoutedLine(
        line_id=line.line_id,
        name=line.name,
        quantity=line.quantity,
        seat=line.seat,
        course=line.course,
        note=line.note,
        modifiers=line.modifiers,
        part_of=line.part_of,
        unrouted_reason=reason,
    )
