"""Kitchen commands: turn fires into station tickets, rush them and void them (bumping lives in bumping.py).

Every command runs in its caller's transaction and announces changed tickets with a
KitchenTicketsChanged event, so screens and printers follow from durable rows.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from fractions import Fraction
from functools import cache
from typing import Any, cast

from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.floor.models import DiningTable
from app.kitchen import queries, routing
from app.kitchen.events import (
    KitchenTicketsChanged,
    KitchenTicketsFired,
    KitchenTicketsRushed,
)
from app.kitchen.models import (
    KitchenTicket,
    KitchenTicketEvent,
    KitchenTicketLine,
    Printer,
    Station,
    StationKind,
    StationPacing,
    TicketAction,
    TicketKind,
)
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.lib.events import emit
from app.lib.outbox import OutboxMessage
from app.lib.sql import insert_rows, insert_values
from app.menu.models import Course, MenuCategory, MenuItem
from app.orders.models import Check, CheckKind, CheckLine, FireKind, FireLine, KitchenFire, LineModifier, LineState
from app.staff.models import Staff

log = logging.getLogger(__name__)

FIRE_TOPIC = "kitchen.fire"


async def deliver_fire(session: AsyncSession, message: OutboxMessage) -> None:
    """The outbox deliverer for "kitchen.fire": route one fire to its stations, in the delivery transaction."""
    fire_id = message.payload.get("fire_id")
    if not isinstance(fire_id, int):
        raise InvalidInput(f"kitchen.fire message {message.id} has no fire_id")
    await route_fire(session, fire_id)


async def route_fire(session: AsyncSession, fire_id: int) -> list[KitchenTicket]:
    """Make the tickets one fire owes the kitchen; a fire already routed makes nothing new."""
    found = (await session.exec(_fire_to_route(), params={"fire_id": fire_id})).first()
    if found is None:
        fire = await session.get(KitchenFire, fire_id)
        if fire is None:
            raise NotFound(f"Fire {fire_id} does not exist.")
        raise NotFound(f"Check {fire.check_id} does not exist.")
    fire, check, table, server, routed = cast(
        tuple[KitchenFire, Check, DiningTable | None, Staff | None, bool], tuple(found)
    )
    if routed:
        return list((await session.exec(select(KitchenTicket).where(KitchenTicket.fire_id == fire_id))).all())
    if fire.kind is FireKind.RUSH and await _rush_seen(session, fire_id):
        return []
    # the fired lines with their modifiers, and where today's menu would send each (its item's and category's
    # stations): one statement
    rows = (await session.exec(_fired_lines(), params={"fire_id": fire_id})).all()
    fire_lines: dict[int, tuple[FireLine, CheckLine | None]] = {}
    modifiers: dict[int, list[LineModifier]] = {}
    menu: dict[int, _MenuRoute] = {}
    for fire_line, line, modifier, item_station_id, category_name, category_station_id in rows:
        if (fire_line.id or 0) not in fire_lines:
            fire_lines[fire_line.id or 0] = (fire_line, line)
        if line is not None:
            menu[line.id or 0] = _MenuRoute(item_station_id, category_name or "", category_station_id)
        if modifier is not None and all(m.id != modifier.id for m in modifiers.get(modifier.line_id, [])):
            modifiers.setdefault(modifier.line_id, []).append(modifier)
    if fire.kind is FireKind.RUSH:
        await _rush(session, fire, [fl.line_id for fl, _line in fire_lines.values()])
        return []
    label = table_label_of(check, table)
    stations, printers = await _stations_with_printers(session)
    found_lines = _Found(list(fire_lines.values()), modifiers, menu)
    if fire.kind is FireKind.VOID:
        made = await _void_tickets(session, fire, check, found_lines, stations, label, server)
    else:
        made = await _food_tickets(session, fire, check, found_lines, stations, label, server)
    tickets = [ticket for ticket, _lines, _station in made]
    ids = tuple(t.id or 0 for t in tickets)
    if ids:
        # the printers and the screens take these tickets from here rather than reading them back; the stations'
        # printers, read with the stations, stay in the session meanwhile, so the print queue finds them there
        with queries.holding(session, made), _keeping(session, printers):
            await emit(session, KitchenTicketsFired(fire_id=fire_id, ticket_ids=ids))
            await emit(session, KitchenTicketsChanged(ticket_ids=ids))
    return tickets


@cache
def _fire_to_route() -> Any:
    """The fire (`fire_id`), its check, where it goes and who serves it, and whether it was routed already. Built
    once, as the other statements of every fire: a statement built per call costs more CPU than its execution."""
    routed_already = select(KitchenTicket.id).where(KitchenTicket.fire_id == bindparam("fire_id")).exists()
    return (
        select(KitchenFire, Check, DiningTable, Staff)
        .join(Check, col(Check.id) == KitchenFire.check_id)
        .outerjoin(DiningTable, col(DiningTable.id) == Check.table_id)
        .outerjoin(Staff, col(Staff.id) == Check.server_id)
        .where(col(KitchenFire.id) == bindparam("fire_id"))
        .add_columns(routed_already)
    )


@cache
def _fired_lines() -> Any:
    """The lines of a fire (`fire_id`) with their modifiers, and where today's menu would send each: its item's and
    its category's stations."""
    return (
        select(FireLine, CheckLine, LineModifier)
        .add_columns(col(MenuItem.station_id), col(MenuCategory.name), col(MenuCategory.station_id))
        .outerjoin(CheckLine, col(CheckLine.id) == FireLine.line_id)
        .outerjoin(LineModifier, col(LineModifier.line_id) == FireLine.line_id)
        .outerjoin(MenuItem, col(MenuItem.id) == CheckLine.menu_item_id)
        .outerjoin(MenuCategory, col(MenuCategory.id) == CheckLine.category_id)
        .where(col(FireLine.fire_id) == bindparam("fire_id"))
        .order_by(col(FireLine.id), col(LineModifier.id))
    )


@cache
def _stations_and_printers() -> Any:
    """Every station with the printer it prints on, in their order."""
    return (
        select(Station, Printer)
        .outerjoin(Printer, col(Printer.id) == Station.printer_id)
        .order_by(col(Station.sort_order), col(Station.id))
    )


async def _rush_seen(session: AsyncSession, fire_id: int) -> bool:
    # A rush makes no ticket of its own, so its history entries are what mark it routed.
    found = await session.exec(
        select(KitchenTicketEvent.id).where(
            KitchenTicketEvent.fire_id == fire_id, KitchenTicketEvent.action == TicketAction.RUSH
        )
    )
    return found.first() is not None


async def _stations_with_printers(session: AsyncSession) -> tuple[list[Station], list[Printer]]:
    """Every station, archived ones too (a void goes where its food went), and the printers they print on."""
    rows = (await session.exec(_stations_and_printers())).all()
    return [station for station, _printer in rows], [printer for _station, printer in rows if printer is not None]


def _live(stations: Iterable[Station]) -> list[Station]:
    return [station for station in stations if station.archived_at is None]


@contextlib.contextmanager
def _keeping(session: AsyncSession, objects: Sequence[object]) -> Iterator[None]:
    """Keep `objects` in the session while the block runs (its identity map holds them only weakly), so that
    looking one up by id there costs no statement."""
    session.info[_KEPT] = objects
    try:
        yield
    finally:
        session.info.pop(_KEPT, None)


_KEPT = "kitchen.kept"


@dataclass(frozen=True)
class _MenuRoute:
    """Where today's menu sends a line: its item's station, and its category's name and station."""

    item_station_id: int | None
    category_name: str
    category_station_id: int | None


@dataclass(frozen=True)
class _Found:
    """A fire's lines as routing read them: (fire line, check line) pairs, modifiers per line, menu routes."""

    fire_lines: list[tuple[FireLine, CheckLine | None]]
    modifiers: dict[int, list[LineModifier]]
    menu: dict[int, _MenuRoute]


def expo_station(stations: Sequence[Station]) -> Station | None:
    """The expo station that sees every ticket, if the kitchen has one."""
    return next((s for s in stations if s.kind is StationKind.EXPO), None)


async def table_label(session: AsyncSession, check: Check) -> str:
    """How the kitchen names where a check's food goes: 'Table 12', 'Tab Rosa', 'Takeout 1042'."""
    table = await session.get(DiningTable, check.table_id) if check.table_id is not None else None
    return table_label_of(check, table)


def table_label_of(check: Check, table: DiningTable | None) -> str:
    """`table_label` for a check whose table (if it has one) is already at hand."""
    if table is not None:
        return f"Table {table.name}"
    if check.kind is CheckKind.TAB and check.tab_name:
        return f"Tab {check.tab_name}"
    if check.kind in (CheckKind.TAKEOUT, CheckKind.ONLINE):
        return f"{check.kind.value.capitalize()} {check.number}"
    if check.tab_name:
        return check.tab_name
    return f"Check {check.number}"


def _routable(lines: Sequence[CheckLine], found: _Found) -> list[routing.RoutableLine]:
    routable = []
    for line in lines:
        menu = found.menu.get(line.id or 0, _MenuRoute(None, "", None))
        routable.append(
            routing.RoutableLine(
                line_id=line.id or 0,
                name=line.name,
                quantity=line.quantity,
                category_name=menu.category_name,
                snapshot_station_id=line.station_id,
                item_station_id=menu.item_station_id,
                category_station_id=menu.category_station_id,
                seat=line.seat,
                course=line.course.value,
                note=line.note,
                modifiers=tuple(
                    routing.RoutableModifier(name=modifier.name, station_id=modifier.station_id)
                    for modifier in found.modifiers.get(line.id or 0, [])
                ),
            )
        )
    return routable


def _lines_of(fire_lines: Sequence[tuple[FireLine, CheckLine | None]]) -> tuple[list[CheckLine], dict[int, Fraction]]:
    lines: list[CheckLine] = []
    quantities: dict[int, Fraction] = {}
    for fire_line, line in fire_lines:
        if line is None:
            raise NotFound(f"Check line {fire_line.line_id} of fire {fire_line.fire_id} does not exist.")
        if line.id not in quantities:
            lines.append(line)
            quantities[line.id or 0] = Fraction(0)
        quantities[line.id or 0] += Fraction(fire_line.quantity_num, fire_line.quantity_den)
    return lines, quantities


@dataclass
class _Planned:
    """A ticket about to be written: its station, the lines it is made with, and lines appended to those."""

    station: Station
    lines: list[routing.RoutedLine]
    appended: list[routing.RoutedLine] = field(default_factory=list)


async def _write_tickets(
    session: AsyncSession,
    planned: Sequence[_Planned],
    *,
    fire: KitchenFire,
    check: Check,
    kind: TicketKind,
    label: str,
    server: Staff | None,
    fire_at: dict[int, datetime] | None = None,
) -> list[queries.HeldTicket]:
    """Write the planned tickets, then all their lines: one INSERT each for the whole fire, returning the rows."""
    rows = []
    for plan in planned:
        courses = {line.course for line in plan.lines if line.course}
        course = fire.course or (Course(courses.pop()) if len(courses) == 1 else None)
        rows.append(
            insert_values(
                KitchenTicket,
                fire_id=fire.id or 0,
                check_id=check.id or 0,
                station_id=plan.station.id or 0,
                is_expo=plan.station.kind is StationKind.EXPO,
                kind=kind,
                course=course,
                check_number=check.number,
                table_label=label,
                server_id=check.server_id,
                server_name=server.name if server else "",
                covers=check.covers,
                fired_at=fire.fired_at,
                fire_at=(fire_at or {}).get(plan.station.id or 0),
                has_unrouted=any(line.unrouted_reason for line in [*plan.lines, *plan.appended]),
                allergies=check.guest_allergies,
                created_at=utcnow(),
            )
        )
    tickets = await insert_rows(session, KitchenTicket, rows, key=("fire_id", "station_id"))
    rows = [
        insert_values(
            KitchenTicketLine,
            ticket_id=ticket.id or 0,
            check_line_id=line.line_id,
            position=position,
            name=line.name,
            part_of=line.part_of,
            quantity_num=line.quantity.numerator,
            quantity_den=line.quantity.denominator,
            seat=line.seat,
            course=Course(line.course) if line.course else None,
            note=line.note,
            modifiers=list(line.modifiers),
            unrouted_reason=line.unrouted_reason,
        )
        for ticket, plan in zip(tickets, planned, strict=True)
        for position, line in enumerate([*plan.lines, *plan.appended])
    ]
    by_ticket: dict[int, list[KitchenTicketLine]] = {ticket.id or 0: [] for ticket in tickets}
    for written in await insert_rows(session, KitchenTicketLine, rows, key=("ticket_id", "position")):
        by_ticket[written.ticket_id].append(written)
    return [(ticket, by_ticket[ticket.id or 0], plan.station) for ticket, plan in zip(tickets, planned, strict=True)]


async def _food_tickets(
    session: AsyncSession,
    fire: KitchenFire,
    check: Check,
    found: _Found,
    all_stations: Sequence[Station],
    label: str,
    server: Staff | None,
) -> list[queries.HeldTicket]:
    lines, quantities = _lines_of(found.fire_lines)
    stations = _live(all_stations)
    by_id = {s.id or 0: s for s in stations}
    prep = [s.id or 0 for s in stations if s.kind is not StationKind.EXPO]
    routable = [replace(r, quantity=quantities[r.line_id]) for r in _routable(lines, found)]
    routed = routing.route_fire(routable, prep, {sid: s.name for sid, s in by_id.items()})
    for line in routed.unrouted:
        log.error("fire %s: %s", fire.id, line.unrouted_reason)
    kind = TicketKind.ADDITION if fire.kind is FireKind.ADDITION else TicketKind.NEW
    planned = [
        _Planned(by_id[station_id], list(routed.by_station[station_id]))
        for station_id in sorted(routed.by_station, key=lambda sid: (by_id[sid].sort_order, sid))
    ]
    expo = expo_station(stations)
    everything = [line for station_lines in routed.by_station.values() for line in station_lines if not line.part_of]
    everything += routed.unrouted
    order = [r.line_id for r in routable]
    everything.sort(key=lambda line: order.index(line.line_id))
    if expo is not None and everything:
        planned.append(_Planned(expo, everything))
    elif routed.unrouted:
        # Without expo, unroutable lines still reach a screen: the first prep station's.
        fallback = next((s for s in stations if s.kind is not StationKind.EXPO), None)
        if fallback is None:
            raise Conflict("The kitchen has no stations at all; a manager sets them up under Stations & printers.")
        target = next((p for p in planned if p.station.id == fallback.id), None)
        if target is None:
            target = _Planned(fallback, [])
            planned.append(target)
        target.appended.extend(routed.unrouted)
    fire_at = start_times(planned, {line.id or 0: line.prep_minutes for line in lines}, fire.fired_at)
    return await _write_tickets(
        session, planned, fire=fire, check=check, kind=kind, label=label, server=server, fire_at=fire_at
    )


def start_times(planned: Sequence[_Planned], prep_minutes: dict[int, int], fired_at: datetime) -> dict[int, datetime]:
    """When each station timed to finish together should start its part: later than the fire by how much quicker
    its slowest dish is than the whole fire's slowest, so every station is ready at once. A station whose dishes
    have no prep time set is told at once: nobody knows how long they take."""

    def slowest(lines: Iterable[routing.RoutedLine]) -> int:
        return max((prep_minutes.get(line.line_id, 0) for line in lines if not line.part_of), default=0)

    cooking = [plan for plan in planned if plan.station.kind is not StationKind.EXPO]
    whole = slowest(line for plan in cooking for line in plan.lines)
    return {
        plan.station.id or 0: fired_at + timedelta(minutes=whole - own)
        for plan in cooking
        if plan.station.pacing is StationPacing.FINISH_TOGETHER and 0 < (own := slowest(plan.lines)) < whole
    }


async def _void_tickets(
    session: AsyncSession,
    fire: KitchenFire,
    check: Check,
    found: _Found,
    every_station: Sequence[Station],
    label: str,
    server: Staff | None,
) -> list[queries.HeldTicket]:
    lines, quantities = _lines_of(found.fire_lines)
    line_ids = [line.id or 0 for line in lines]
    seen_rows = (
        await session.exec(
            select(KitchenTicketLine, KitchenTicket)
            .join(KitchenTicket, col(KitchenTicket.id) == KitchenTicketLine.ticket_id)
            .where(col(KitchenTicketLine.check_line_id).in_(line_ids), KitchenTicket.kind != TicketKind.VOID)
            .order_by(col(KitchenTicketLine.id))
        )
    ).all()
    all_stations = {s.id or 0: s for s in every_station}
    stations = _live(every_station)
    by_id = {s.id or 0: s for s in stations}
    per_station: dict[int, list[routing.RoutedLine]] = {}
    now = utcnow()
    changed: set[int] = set()
    seen_lines: set[int] = set()
    for seen, ticket in seen_rows:
        seen_lines.add(seen.check_line_id)
        per_station.setdefault(ticket.station_id, []).append(
            routing.RoutedLine(
                line_id=seen.check_line_id,
                name=seen.name,
                part_of=seen.part_of,
                quantity=quantities[seen.check_line_id],
                seat=seen.seat,
                course=seen.course.value if seen.course else None,
                note=seen.note,
                modifiers=tuple(seen.modifiers),
            )
        )
        line = next(line for line in lines if line.id == seen.check_line_id)
        if line.state is LineState.VOIDED or quantities[seen.check_line_id] >= seen.quantity:
            seen.voided_at = now
            session.add(seen)
            ticket.version += 1
            ticket.changed_at = now
            session.add(ticket)
            changed.add(ticket.id or 0)
    never_seen = [line for line in lines if line.id not in seen_lines]
    if never_seen:
        # Voids of lines the kitchen never saw (fired before routing existed) route like food.
        prep = [s.id or 0 for s in stations if s.kind is not StationKind.EXPO]
        routable = [replace(r, quantity=quantities[r.line_id]) for r in _routable(never_seen, found)]
        routed = routing.route_fire(routable, prep, {sid: s.name for sid, s in by_id.items()})
        for station_id, station_lines in routed.by_station.items():
            per_station.setdefault(station_id, []).extend(station_lines)
        expo = expo_station(stations)
        if expo is not None:
            extra = [line for lines_ in routed.by_station.values() for line in lines_ if not line.part_of]
            per_station.setdefault(expo.id or 0, []).extend(extra + routed.unrouted)
    planned = [
        _Planned(by_id.get(station_id) or all_stations[station_id], per_station[station_id])
        for station_id in sorted(per_station, key=lambda sid: (all_stations[sid].sort_order, sid))
    ]
    made = await _write_tickets(
        session, planned, fire=fire, check=check, kind=TicketKind.VOID, label=label, server=server
    )
    if changed:
        await emit(session, KitchenTicketsChanged(ticket_ids=tuple(sorted(changed))))
    return made


async def _rush(session: AsyncSession, fire: KitchenFire, line_ids: Sequence[int]) -> None:
    rows = (
        await session.exec(
            select(KitchenTicketLine, KitchenTicket)
            .join(KitchenTicket, col(KitchenTicket.id) == KitchenTicketLine.ticket_id)
            .where(col(KitchenTicketLine.check_line_id).in_(list(line_ids)), KitchenTicket.kind != TicketKind.VOID)
        )
    ).all()
    now = fire.fired_at
    tickets: dict[int, KitchenTicket] = {}
    for line, ticket in rows:
        line.rush = True
        session.add(line)
        tickets[ticket.id or 0] = ticket
    for ticket in tickets.values():
        ticket.rush_at = now
        ticket.version += 1
        ticket.changed_at = utcnow()
        session.add(ticket)
        session.add(
            KitchenTicketEvent(
                ticket_id=ticket.id or 0, station_id=ticket.station_id, action=TicketAction.RUSH, fire_id=fire.id
            )
        )
    ids = tuple(sorted(tickets))
    if ids:
        await emit(
            session,
            KitchenTicketsRushed(fire_id=fire.id or 0, ticket_ids=ids, check_line_ids=tuple(sorted(set(line_ids)))),
        )
        await emit(session, KitchenTicketsChanged(ticket_ids=ids))
