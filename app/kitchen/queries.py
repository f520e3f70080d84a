"""Read models for kitchen screens, manager pages and reports."""

from __future__ import annotations

import contextlib
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.kitchen.models import (
    KitchenTicket,
    KitchenTicketLine,
    Printer,
    PrinterAlert,
    PrinterHealth,
    PrinterHealthRecord,
    PrintJob,
    PrintJobState,
    Station,
    StationKind,
    TicketKind,
    TicketState,
    quantity_label,
)
from app.lib.clock import utcnow
from app.orders.models import CheckLine, KitchenFire
from app.staff.models import Staff


@dataclass(frozen=True)
class LineView:
    """One item as a card shows it."""

    id: int
    name: str
    part_of: str | None
    quantity: Fraction
    quantity_label: str
    seat: int | None
    course: str | None
    note: str | None
    modifiers: tuple[str, ...]
    voided: bool
    bumped: bool
    rush: bool
    unrouted_reason: str | None


@dataclass(frozen=True)
class PartView:
    """On an expo card: one station's share of the order and whether it is done."""

    station_name: str
    done: bool
    ticket_id: int


@dataclass(frozen=True)
class TicketView:
    """A ticket card: everything a station (or expo) reads at a glance."""

    id: int
    version: int
    station_id: int
    station_name: str
    is_expo: bool
    kind: TicketKind
    is_open: bool
    course: str | None
    table_label: str
    check_number: int
    server_name: str
    covers: int
    fired_at: datetime
    bumped_at: datetime | None
    rush: bool
    changed: bool
    has_unrouted: bool
    lines: tuple[LineView, ...]
    parts: tuple[PartView, ...] = ()
    allergies: str | None = None
    fire_at: datetime | None = None

    @property
    def dom_id(self) -> str:
        """The card's element id, the key every update replaces."""
        return f"ticket-{self.id}"

    @property
    def fired_ms(self) -> int:
        """When the station starts it (the fire, or its later fire-at time) as epoch milliseconds, for the card's
        timer."""
        return int((self.fire_at or self.fired_at).timestamp() * 1000)

    @property
    def sort_key(self) -> str:
        """Rushed tickets first, then oldest first."""
        return f"{0 if self.rush else 1}-{self.fired_ms:015d}-{self.id:010d}"

    @property
    def ready_to_run(self) -> bool:
        """Expo: every station has bumped its part."""
        return all(part.done for part in self.parts)

    @property
    def seats(self) -> list[int]:
        """The seats this ticket feeds."""
        return sorted({line.seat for line in self.lines if line.seat is not None})


@dataclass(frozen=True)
class StationView:
    """A station's board settings."""

    id: int
    name: str
    kind: StationKind
    yellow_after_s: int
    red_after_s: int

    @property
    def is_expo(self) -> bool:
        """Whether this is the expo board."""
        return self.kind is StationKind.EXPO


@dataclass(frozen=True)
class AllDayCount:
    """How many of one item a station still has to make across its open tickets."""

    name: str
    quantity: Fraction

    @property
    def label(self) -> str:
        """'3', '1 1/2'."""
        return quantity_label(self.quantity)


@dataclass
class BoardView:
    """A whole board: its open tickets, oldest first, and its all-day counts."""

    station: StationView
    tickets: list[TicketView] = field(default_factory=list)
    can_recall: bool = False

    @property
    def all_day(self) -> list[AllDayCount]:
        """All-day counts over the open tickets."""
        return all_day_counts(self.tickets)


def all_day_counts(tickets: Iterable[TicketView]) -> list[AllDayCount]:
    """Per item, the quantity still to make on open tickets (bumped, voided and void tickets left out)."""
    totals: dict[str, Fraction] = defaultdict(Fraction)
    for ticket in tickets:
        if not ticket.is_open or ticket.kind is TicketKind.VOID:
            continue
        for line in ticket.lines:
            if not line.bumped and not line.voided:
                totals[line.name] += line.quantity
    return [AllDayCount(name, qty) for name, qty in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))]


def station_view(station: Station) -> StationView:
    """A station as its board needs it."""
    return StationView(
        id=station.id or 0,
        name=station.name,
        kind=station.kind,
        yellow_after_s=station.yellow_after_s,
        red_after_s=station.red_after_s,
    )


async def live_stations(session: AsyncSession) -> list[Station]:
    """Stations in board order, archived ones left out."""
    result = await session.exec(
        select(Station).where(col(Station.archived_at).is_(None)).order_by(col(Station.sort_order), col(Station.id))
    )
    return list(result.all())


HELD_TICKETS = "kitchen.held_tickets"

HeldTicket = tuple[KitchenTicket, list[KitchenTicketLine], Station]


@contextlib.contextmanager
def holding(session: AsyncSession, tickets: Iterable[HeldTicket]) -> Iterator[None]:
    """While the block runs (a command announcing tickets it has just written), subscribers in the same
    transaction take these tickets, with their lines in order and their stations, from memory instead of
    reading them back. Hold every ticket of a fire at once: an expo card lists its siblings from what is held.
    """
    held = {ticket.id or 0: (ticket, lines, station) for ticket, lines, station in tickets}
    session.info[HELD_TICKETS] = held
    try:
        yield
    finally:
        session.info.pop(HELD_TICKETS, None)


def held_tickets(session: AsyncSession, ticket_ids: Iterable[int]) -> list[HeldTicket] | None:
    """The tickets with these ids as a command of this transaction holds them, in id order; None unless all are."""
    held: dict[int, HeldTicket] | None = session.info.get(HELD_TICKETS)
    if held is None:
        return None
    ids = sorted(set(ticket_ids))
    if not all(ticket_id in held for ticket_id in ids):
        return None
    return [held[ticket_id] for ticket_id in ids]


async def ticket_views(session: AsyncSession, ticket_ids: Sequence[int]) -> list[TicketView]:
    """Cards for these tickets (expo cards with their stations' progress)."""
    if not ticket_ids:
        return []
    held = held_tickets(session, ticket_ids)
    if held is not None:
        everything: dict[int, HeldTicket] = session.info[HELD_TICKETS]
        parts: dict[int, list[PartView]] = defaultdict(list)
        for ticket, _lines, station in sorted(everything.values(), key=lambda entry: entry[0].id or 0):
            if not ticket.is_expo:
                parts[ticket.fire_id].append(PartView(station.name, not ticket.is_open, ticket.id or 0))
        return [_view(ticket, lines, station.name, parts) for ticket, lines, station in held]
    tickets = list((await session.exec(select(KitchenTicket).where(col(KitchenTicket.id).in_(list(ticket_ids))))).all())
    return await _views(session, tickets)


async def _views(session: AsyncSession, tickets: list[KitchenTicket]) -> list[TicketView]:
    if not tickets:
        return []
    ids = [t.id or 0 for t in tickets]
    lines = (
        await session.exec(
            select(KitchenTicketLine)
            .where(col(KitchenTicketLine.ticket_id).in_(ids))
            .order_by(col(KitchenTicketLine.position), col(KitchenTicketLine.id))
        )
    ).all()
    by_ticket: dict[int, list[KitchenTicketLine]] = defaultdict(list)
    for line in lines:
        by_ticket[line.ticket_id].append(line)
    stations = {s.id: s for s in (await session.exec(select(Station))).all()}
    expo_fires = {t.fire_id for t in tickets if t.is_expo}
    parts: dict[int, list[PartView]] = defaultdict(list)
    if expo_fires:
        siblings = (
            await session.exec(
                select(KitchenTicket)
                .where(col(KitchenTicket.fire_id).in_(expo_fires), col(KitchenTicket.is_expo).is_(False))
                .order_by(col(KitchenTicket.id))
            )
        ).all()
        for sibling in siblings:
            station = stations.get(sibling.station_id)
            parts[sibling.fire_id].append(
                PartView(station.name if station else "?", not sibling.is_open, sibling.id or 0)
            )
    views = []
    for ticket in tickets:
        station = stations.get(ticket.station_id)
        views.append(_view(ticket, by_ticket.get(ticket.id or 0, []), station.name if station else "?", parts))
    return views


def _view(
    ticket: KitchenTicket, lines: Sequence[KitchenTicketLine], station_name: str, parts: dict[int, list[PartView]]
) -> TicketView:
    return TicketView(
        id=ticket.id or 0,
        version=ticket.version,
        station_id=ticket.station_id,
        station_name=station_name,
        is_expo=ticket.is_expo,
        kind=ticket.kind,
        is_open=ticket.is_open,
        course=ticket.course.label if ticket.course else None,
        table_label=ticket.table_label,
        check_number=ticket.check_number,
        server_name=ticket.server_name,
        covers=ticket.covers,
        fired_at=ticket.fired_at,
        bumped_at=ticket.bumped_at,
        rush=ticket.rush_at is not None,
        changed=ticket.changed_at is not None and ticket.kind is not TicketKind.VOID,
        has_unrouted=ticket.has_unrouted,
        lines=tuple(_line_view(line) for line in lines),
        parts=tuple(parts.get(ticket.fire_id, [])) if ticket.is_expo else (),
        allergies=ticket.allergies,
        fire_at=ticket.fire_at,
    )


def _line_view(line: KitchenTicketLine) -> LineView:
    return LineView(
        id=line.id or 0,
        name=line.name,
        part_of=line.part_of,
        quantity=line.quantity,
        quantity_label=line.quantity_label,
        seat=line.seat,
        course=line.course.label if line.course else None,
        note=line.note,
        modifiers=tuple(line.modifiers),
        voided=line.voided_at is not None,
        bumped=line.bumped_at is not None,
        rush=line.rush,
        unrouted_reason=line.unrouted_reason,
    )


async def board(session: AsyncSession, station_id: int) -> BoardView | None:
    """A station's board: its open tickets, rushed first then oldest first (None: no such station)."""
    station = await session.get(Station, station_id)
    if station is None or station.archived_at is not None:
        return None
    tickets = list(
        (
            await session.exec(
                select(KitchenTicket).where(
                    KitchenTicket.station_id == station_id, KitchenTicket.state == TicketState.OPEN
                )
            )
        ).all()
    )
    views = sorted(await _views(session, tickets), key=lambda view: view.sort_key)
    bumped = await session.exec(
        select(KitchenTicket.id)
        .where(KitchenTicket.station_id == station_id, KitchenTicket.state == TicketState.BUMPED)
        .limit(1)
    )
    return BoardView(station=station_view(station), tickets=views, can_recall=bumped.first() is not None)


async def open_ticket_counts(session: AsyncSession) -> dict[int, int]:
    """Open tickets per station, for the board picker."""
    rows = await session.exec(
        select(KitchenTicket.station_id, func.count())
        .where(KitchenTicket.state == TicketState.OPEN)
        .group_by(col(KitchenTicket.station_id))
    )
    return {station_id: int(count) for station_id, count in rows.all()}


# Ticket times ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StationTiming:
    """Fire-to-bump times of one station over a period, in seconds."""

    station_id: int
    station_name: str
    tickets: int
    average_s: int
    median_s: int
    p90_s: int
    longest_s: int


def timing_summary(station_id: int, name: str, seconds: Sequence[float]) -> StationTiming:
    """Average, median, 90th percentile and longest of a station's ticket times."""
    ordered = sorted(seconds)
    count = len(ordered)
    if count == 0:
        return StationTiming(station_id, name, 0, 0, 0, 0, 0)

    def at(fraction: float) -> int:
        # nearest-rank percentile: the time that this fraction of tickets did not exceed
        rank = max(1, math.ceil(fraction * count))
        return round(ordered[min(count, rank) - 1])

    return StationTiming(
        station_id=station_id,
        station_name=name,
        tickets=count,
        average_s=round(sum(ordered) / count),
        median_s=at(0.5),
        p90_s=at(0.9),
        longest_s=round(ordered[-1]),
    )


async def ticket_times(session: AsyncSession, start: datetime, end: datetime) -> list[StationTiming]:
    """Per station, how long tickets fired in [start, end) took from fire to bump (expo: to ready)."""
    rows = await session.exec(
        select(KitchenTicket).where(
            col(KitchenTicket.fired_at) >= start,
            col(KitchenTicket.fired_at) < end,
            KitchenTicket.state == TicketState.BUMPED,
            KitchenTicket.kind != TicketKind.VOID,
        )
    )
    seconds: dict[int, list[float]] = defaultdict(list)
    for ticket in rows.all():
        if ticket.bumped_at is not None:
            seconds[ticket.station_id].append((ticket.bumped_at - ticket.fired_at).total_seconds())
    stations = {s.id or 0: s for s in (await session.exec(select(Station))).all()}
    ordered = sorted(seconds, key=lambda sid: (stations[sid].sort_order, sid) if sid in stations else (999, sid))
    return [timing_summary(sid, stations[sid].name if sid in stations else "?", seconds[sid]) for sid in ordered]


# Printers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrinterStatusView:
    """A printer on the status page: health, queue and what needs a manager."""

    printer: Printer
    health: PrinterHealth
    detail: str | None
    checked_at: datetime | None
    last_printed_at: datetime | None
    pending: int
    failed: int
    backup_name: str | None
    held: int = 0

    @property
    def is_down(self) -> bool:
        """Whether jobs cannot print there now."""
        return self.health.is_down


async def printer_statuses(session: AsyncSession) -> list[PrinterStatusView]:
    """Every live printer with its health and queue."""
    printers = (
        await session.exec(select(Printer).where(col(Printer.archived_at).is_(None)).order_by(col(Printer.name)))
    ).all()
    names = {p.id: p.name for p in (await session.exec(select(Printer))).all()}
    records = {r.printer_id: r for r in (await session.exec(select(PrinterHealthRecord))).all()}
    counts: dict[tuple[int, str], int] = {}
    for printer_id, state, count in (
        await session.exec(
            select(PrintJob.printer_id, PrintJob.state, func.count()).group_by(
                col(PrintJob.printer_id), col(PrintJob.state)
            )
        )
    ).all():
        counts[(printer_id, PrintJobState(state).value)] = int(count)
    views = []
    for printer in printers:
        record = records.get(printer.id or 0)
        pid = printer.id or 0
        views.append(
            PrinterStatusView(
                printer=printer,
                health=record.health if record else PrinterHealth.UNKNOWN,
                detail=record.detail if record else None,
                checked_at=record.checked_at if record else None,
                last_printed_at=record.last_printed_at if record else None,
                pending=counts.get((pid, PrintJobState.PENDING.value), 0)
                + counts.get((pid, PrintJobState.PRINTING.value), 0),
                failed=counts.get((pid, PrintJobState.FAILED.value), 0),
                backup_name=names.get(printer.backup_printer_id) if printer.backup_printer_id else None,
                held=counts.get((pid, PrintJobState.HELD.value), 0),
            )
        )
    return views


async def open_alerts(session: AsyncSession) -> list[PrinterAlert]:
    """Alerts waiting for a manager, newest first."""
    result = await session.exec(
        select(PrinterAlert)
        .where(col(PrinterAlert.acknowledged_at).is_(None))
        .order_by(col(PrinterAlert.last_seen_at).desc(), col(PrinterAlert.id).desc())
    )
    return list(result.all())


async def failed_jobs(session: AsyncSession, limit: int = 100) -> list[PrintJob]:
    """Jobs that did not print, newest first."""
    result = await session.exec(
        select(PrintJob)
        .where(PrintJob.state == PrintJobState.FAILED)
        .order_by(col(PrintJob.failed_at).desc(), col(PrintJob.id).desc())
        .limit(limit)
    )
    return list(result.all())


async def held_jobs(session: AsyncSession, limit: int = 100) -> list[PrintJob]:
    """Jobs waiting for their printer (paper, cover), oldest first: they print, marked LATE, once it is ready."""
    result = await session.exec(
        select(PrintJob).where(PrintJob.state == PrintJobState.HELD).order_by(col(PrintJob.id)).limit(limit)
    )
    return list(result.all())


async def recent_jobs(
    session: AsyncSession, *, since: timedelta = timedelta(hours=12), limit: int = 50
) -> list[PrintJob]:
    """The latest jobs of any state, for the status page."""
    result = await session.exec(
        select(PrintJob)
        .where(col(PrintJob.created_at) >= utcnow() - since)
        .order_by(col(PrintJob.id).desc())
        .limit(limit)
    )
    return list(result.all())


@dataclass(frozen=True)
class PrinterBadge:
    """What a tablet's badge says: printers down and alerts waiting."""

    down: list[str]
    alerts: int

    @property
    def shown(self) -> bool:
        """Whether there is anything to show."""
        return bool(self.down or self.alerts)


async def printer_badge(session: AsyncSession) -> PrinterBadge:
    """The printer badge for tablets."""
    rows = (
        await session.exec(
            select(Printer.name, PrinterHealthRecord.health)
            .join(PrinterHealthRecord, col(PrinterHealthRecord.printer_id) == Printer.id)
            .where(col(Printer.archived_at).is_(None))
        )
    ).all()
    healths = [(name, PrinterHealth(health)) for name, health in rows]
    down = sorted(f"{name}: {health.label}" for name, health in healths if health.is_down)
    alerts = int((await session.exec(select(func.count()).where(col(PrinterAlert.acknowledged_at).is_(None)))).one())
    return PrinterBadge(down=down, alerts=alerts)


@dataclass(frozen=True)
class VoidRecord:
    """Who took food off a check after the kitchen had it, who approved it, and why."""

    voided_by: str | None
    approved_by: str | None
    reason: str | None


async def void_record(session: AsyncSession, ticket: KitchenTicket, check_line_ids: Iterable[int]) -> VoidRecord:
    """What a VOID ticket says about its void, from the voided line on the check (a part voided is a copy of it)."""
    ids = list(set(check_line_ids))
    fire = await session.get(KitchenFire, ticket.fire_id)
    if fire is None or not ids:
        return VoidRecord(None, None, None)
    # the latest void of these lines up to this fire: a later partial void of the same line is another fire's
    voided = (
        await session.exec(
            select(CheckLine)
            .where(
                col(CheckLine.id).in_(ids) | col(CheckLine.origin_line_id).in_(ids),
                col(CheckLine.voided_at).is_not(None),
                col(CheckLine.voided_at) <= fire.fired_at,
            )
            .order_by(col(CheckLine.voided_at).desc(), col(CheckLine.id).desc())
            .limit(1)
        )
    ).first()
    staff_ids = {fire.fired_by}
    if voided is not None and voided.void_approved_by is not None:
        staff_ids.add(voided.void_approved_by)
    names = {
        staff.id: staff.name for staff in (await session.exec(select(Staff).where(col(Staff.id).in_(staff_ids)))).all()
    }
    by = voided.voided_by if voided is not None and voided.voided_by is not None else fire.fired_by
    approver = voided.void_approved_by if voided is not None else None
    return VoidRecord(
        voided_by=names.get(by),
        approved_by=names.get(approver) if approver is not None and approver != by else None,
        reason=voided.void_reason if voided is not None else None,
    )
