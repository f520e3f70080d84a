"""Read models for the book: settings, the floor as the book sees it, a day's reservations, the waitlist."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, bindparam, cast, func, literal
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.floor.models import DiningTable, Floor
from app.lib.clock import utcnow
from app.lib.db import UTCDateTime
from app.lib.settings import Settings
from app.lib.sql import is_postgres
from app.orders.floor_view import TableHold
from app.orders.models import Check, CheckKind, CheckStatus
from app.reservations import calculations as calc
from app.reservations.models import (
    Reservation,
    ReservationSettings,
    ReservationSlot,
    ReservationStatus,
    TableCombination,
    TurnTime,
    WaitlistEntry,
    WaitStatus,
)

TURN_HISTORY_DAYS = 28
MAX_HOLD_MINUTES = 480
Holds = dict[int, list[tuple[datetime, datetime]]]
"""Reservations' held stays by table."""
TURN_HISTORY_LIMIT = 2000
ACTIVE = (ReservationStatus.BOOKED, ReservationStatus.SEATED)


def zone(session: AsyncSession) -> str:
    """The restaurant's time zone, as the database was wired with the settings."""
    settings = session.info.get("settings")
    return settings.timezone if isinstance(settings, Settings) else Settings().timezone


def local_day(session: AsyncSession, moment: datetime | None = None) -> date:
    """The calendar day in the restaurant at `moment` (now when omitted)."""
    return (moment or utcnow()).astimezone(ZoneInfo(zone(session))).date()


def day_bounds(session: AsyncSession, day: date) -> tuple[datetime, datetime]:
    """A calendar day in the restaurant, as UTC instants from its start to the next day's start."""
    tz = ZoneInfo(zone(session))
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start.astimezone(ZoneInfo("UTC")), (start + timedelta(days=1)).astimezone(ZoneInfo("UTC"))


def service_slots(session: AsyncSession, settings: ReservationSettings, day: date) -> list[datetime]:
    """The bookable times of `day`, as the settings lay them out."""
    return calc.day_slots(day, settings.first_seating, settings.last_seating, settings.slot_minutes, zone(session))


async def book_settings(session: AsyncSession, *, lock: bool = False) -> ReservationSettings:
    """The book's settings row (made with the defaults the first time); `lock` makes bookings take turns."""
    query = select(ReservationSettings).where(ReservationSettings.id == 1)
    if lock and is_postgres(session):
        # Two processes booking on a fresh database both find no row: one inserts it, the other's insert waits
        # and does nothing, and both then lock the one row.
        await session.exec(pg_insert(ReservationSettings).values(id=1).on_conflict_do_nothing(index_elements=["id"]))
        query = query.with_for_update()
    row = (await session.exec(query)).first()
    if row is None:
        row = ReservationSettings()
        if lock:
            session.add(row)
            await session.flush()
    return row


async def turn_times(session: AsyncSession) -> list[tuple[int, int]]:
    """(largest party, minutes) as the manager set them, else the defaults."""
    rows = (await session.exec(select(TurnTime).order_by(col(TurnTime.max_party)))).all()
    return [(r.max_party, r.minutes) for r in rows] or list(calc.DEFAULT_TURN_TIMES)


async def tables(session: AsyncSession) -> list[calc.TableFact]:
    """Every table on the plan, in floor order."""
    rows = await session.exec(
        select(DiningTable)
        .join(Floor, col(Floor.id) == col(DiningTable.floor_id))
        .where(col(DiningTable.archived_at).is_(None), col(Floor.archived_at).is_(None))
        .order_by(col(Floor.sort_order), col(DiningTable.id))
    )
    return [calc.TableFact(t.id or 0, t.name, t.seats) for t in rows.all()]


async def combinations(session: AsyncSession) -> list[calc.Combination]:
    """The combinations a manager allowed, without archived ones."""
    rows = await session.exec(
        select(TableCombination).where(col(TableCombination.archived_at).is_(None)).order_by(col(TableCombination.id))
    )
    return [calc.Combination(c.id or 0, c.name, tuple(c.tables), c.seats) for c in rows.all()]


async def busy(
    session: AsyncSession, start: datetime, end: datetime, *, exclude_reservation: int | None = None
) -> list[calc.Busy]:
    """What takes tables between `start` and `end`: reservations' held slots, and parties sitting now (until their
    turn is expected to end)."""
    query = (
        select(ReservationSlot.table_id, ReservationSlot.slot_at, ReservationSlot.reservation_id, Check)
        .join(Reservation, col(Reservation.id) == col(ReservationSlot.reservation_id))
        .outerjoin(Check, col(Check.id) == col(Reservation.check_id))
        .where(col(ReservationSlot.slot_at) >= start - calc.GRID, col(ReservationSlot.slot_at) < end)
    )
    found = [
        calc.Busy(table_id, slot_at, slot_at + calc.GRID)
        for table_id, slot_at, reservation_id, check in (await session.exec(query)).all()
        if reservation_id != exclude_reservation and not _left_early(check, slot_at)
    ]
    now = utcnow()
    if start < now + timedelta(hours=8):
        found.extend(await seated_now(session, now))
    return found


async def slots_left_early(
    session: AsyncSession, table_ids: Sequence[int], start: datetime, end: datetime
) -> list[int]:
    """Held quarter hours of these tables between `start` and `end` that a seated party gave back by leaving early."""
    rows = await session.exec(
        select(ReservationSlot.id, ReservationSlot.slot_at, Check)
        .join(Reservation, col(Reservation.id) == col(ReservationSlot.reservation_id))
        .join(Check, col(Check.id) == col(Reservation.check_id))
        .where(
            col(ReservationSlot.table_id).in_(list(table_ids)),
            col(ReservationSlot.slot_at) >= start - calc.GRID,
            col(ReservationSlot.slot_at) < end,
        )
    )
    return [slot_id or 0 for slot_id, slot_at, check in rows.all() if _left_early(check, slot_at)]


def _left_early(check: Check | None, slot_at: datetime) -> bool:
    """Whether a seated party's quarter hour is free after all: they paid and their table was cleared before it."""
    return check is not None and check.table_cleared_at is not None and slot_at + calc.GRID > check.table_cleared_at


async def seated_now(session: AsyncSession, now: datetime) -> list[calc.Busy]:
    """Tables with a party at them: taken until the party's turn time is up (or a few minutes from now if late)."""
    settings_rows = await turn_times(session)
    rows = await session.exec(
        select(Check.table_id, Check.opened_at, Check.covers, Check.status).where(
            col(Check.table_id).is_not(None),
            col(Check.kind) == CheckKind.TABLE,
            (col(Check.status) == CheckStatus.OPEN)
            | ((col(Check.status) == CheckStatus.CLOSED) & col(Check.table_cleared_at).is_(None)),
        )
    )
    taken = []
    for table_id, opened_at, covers, status in rows.all():
        if table_id is None:
            continue
        expected = opened_at + timedelta(minutes=calc.turn_minutes(covers, settings_rows))
        soon = now + timedelta(minutes=5 if status == CheckStatus.CLOSED else 10)
        taken.append(calc.Busy(table_id, opened_at, soon if status == CheckStatus.CLOSED else max(expected, soon)))
    return taken


async def covers_starting(session: AsyncSession, start: datetime, *, exclude_reservation: int | None = None) -> int:
    """Covers of the reservations starting at `start` (for the kitchen's pacing)."""
    query = select(func.coalesce(func.sum(Reservation.party_size), 0)).where(
        col(Reservation.starts_at) == start, col(Reservation.status).in_(ACTIVE)
    )
    if exclude_reservation is not None:
        query = query.where(col(Reservation.id) != exclude_reservation)
    return int((await session.exec(query)).one() or 0)


@dataclass(frozen=True)
class SlotAvailability:
    """One bookable time of a day for one party size: free or not, and where the party would sit."""

    at: datetime
    free: bool
    options: tuple[calc.Option, ...] = ()


async def availability(
    session: AsyncSession, day: date, party_size: int, *, exclude_reservation: int | None = None
) -> list[SlotAvailability]:
    """Every bookable time of `day` for a party of `party_size`, free or full, from one read of the floor."""
    settings = await book_settings(session)
    slots = service_slots(session, settings, day)
    if not slots:
        return []
    minutes = calc.turn_minutes(party_size, await turn_times(session))
    stay = timedelta(minutes=minutes)
    all_tables = await tables(session)
    combos = await combinations(session)
    taken = await busy(session, slots[0], slots[-1] + stay, exclude_reservation=exclude_reservation)
    pacing = await _covers_by_start(session, slots[0], slots[-1], exclude_reservation)
    now = utcnow()
    result = []
    for at in slots:
        options: tuple[calc.Option, ...] = ()
        if at + calc.GRID > now and calc.pacing_allows(pacing.get(at, 0), party_size, settings.max_covers_per_slot):
            options = tuple(calc.free_options(party_size, at, at + stay, all_tables, combos, taken))
        result.append(SlotAvailability(at, bool(options), options))
    return result


async def _covers_by_start(
    session: AsyncSession, first: datetime, last: datetime, exclude_reservation: int | None
) -> dict[datetime, int]:
    rows = await session.exec(
        select(Reservation.starts_at, func.sum(Reservation.party_size))
        .where(col(Reservation.starts_at) >= first, col(Reservation.starts_at) <= last)
        .where(col(Reservation.status).in_(ACTIVE), col(Reservation.id) != (exclude_reservation or 0))
        .group_by(col(Reservation.starts_at))
    )
    return {at: int(total or 0) for at, total in rows.all()}


# ---------------------------------------------------------------------------------------------- the day's book


@dataclass
class SlotCovers:
    """Covers booked to start in one slot of the day."""

    at: datetime
    reservations: int = 0
    covers: int = 0


@dataclass
class DayBook:
    """A day's reservations with their tables, covers per slot, and how the day went."""

    day: date
    reservations: list[Reservation]
    table_names: dict[int, str]
    slots: list[SlotCovers]
    booked_covers: int
    seated_covers: int
    walk_in_covers: int
    no_shows: int
    no_show_rate: float | None
    cancelled: int
    by_status: dict[str, int] = field(default_factory=dict)

    def tables_of(self, reservation: Reservation) -> str:
        """The reservation's tables by name, as '3' or '3+4'."""
        return "+".join(self.table_names.get(t, "?") for t in reservation.tables)


async def day_book(session: AsyncSession, day: date) -> DayBook:
    """Everything the day's book page and its run sheet show."""
    start, end = day_bounds(session, day)
    reservations = list(
        (
            await session.exec(
                select(Reservation)
                .where(col(Reservation.starts_at) >= start, col(Reservation.starts_at) < end)
                .order_by(col(Reservation.starts_at), col(Reservation.id))
            )
        ).all()
    )
    names = {t.id or 0: t.name for t in (await session.exec(select(DiningTable))).all()}
    settings = await book_settings(session)
    slots = {
        at: SlotCovers(at)
        for at in calc.day_slots(
            day, settings.first_seating, settings.last_seating, settings.slot_minutes, zone(session)
        )
    }
    counts: dict[str, int] = {}
    for r in reservations:
        counts[r.status.value] = counts.get(r.status.value, 0) + 1
        if r.status in ACTIVE or r.status == ReservationStatus.NO_SHOW:
            slot = slots.setdefault(r.starts_at, SlotCovers(r.starts_at))
            slot.reservations += 1
            slot.covers += r.party_size
    reserved_checks = {r.check_id for r in reservations if r.check_id is not None}
    walk_ins = await _walk_in_covers(session, start, end, reserved_checks)
    expected = [r for r in reservations if r.status != ReservationStatus.CANCELLED]
    no_shows = sum(1 for r in expected if r.status == ReservationStatus.NO_SHOW)
    decided = [r for r in expected if r.status in (ReservationStatus.SEATED, ReservationStatus.NO_SHOW)]
    return DayBook(
        day=day,
        reservations=reservations,
        table_names=names,
        slots=sorted(slots.values(), key=lambda s: s.at),
        booked_covers=sum(r.party_size for r in expected),
        seated_covers=sum(r.party_size for r in expected if r.status == ReservationStatus.SEATED),
        walk_in_covers=walk_ins,
        no_shows=no_shows,
        no_show_rate=(no_shows / len(decided)) if decided else None,
        cancelled=counts.get(ReservationStatus.CANCELLED.value, 0),
        by_status=counts,
    )


async def _walk_in_covers(session: AsyncSession, start: datetime, end: datetime, reserved: set[int]) -> int:
    """Covers of table checks opened in the day that no reservation seated (split checks counted once)."""
    rows = await session.exec(
        select(Check.id, Check.covers).where(
            col(Check.opened_at) >= start,
            col(Check.opened_at) < end,
            col(Check.kind) == CheckKind.TABLE,
            col(Check.split_from_id).is_(None),
            col(Check.status) != CheckStatus.VOIDED,
        )
    )
    return sum(covers for check_id, covers in rows.all() if check_id not in reserved)


async def reservation(session: AsyncSession, reservation_id: int) -> Reservation | None:
    """One reservation."""
    return await session.get(Reservation, reservation_id)


async def table_names(session: AsyncSession, table_ids: Sequence[int]) -> str:
    """Tables by name, as '3' or '3+4'."""
    if not table_ids:
        return ""
    rows = await session.exec(select(DiningTable.id, DiningTable.name).where(col(DiningTable.id).in_(list(table_ids))))
    names = {tid: name for tid, name in rows.all()}
    return "+".join(names.get(t, "?") for t in table_ids)


# ---------------------------------------------------------------------------------------------- the floor


def table_booked() -> Any:
    """Whether a booking could hold the table of the enclosing query now: one that names it, is booked or seated,
    and falls within the longest look-ahead there can be (`table_holds` then says whether it does)."""
    table_ids = literal(",") + col(Reservation.table_ids) + literal(",")
    named = table_ids.like(literal("%,") + cast(col(DiningTable.id), String()) + literal(",%"))
    return (
        select(Reservation.id)
        .where(
            col(Reservation.status).in_(ACTIVE),
            col(Reservation.starts_at) <= bindparam("booked_until", callable_=_hold_horizon, type_=UTCDateTime()),
            col(Reservation.ends_at) > bindparam("booked_from", callable_=utcnow, type_=UTCDateTime()),
            named,
        )
        .correlate(DiningTable)
        .exists()
    )


def _hold_horizon() -> datetime:
    return utcnow() + timedelta(minutes=MAX_HOLD_MINUTES)


async def table_holds(session: AsyncSession, table_ids: Sequence[int] | None) -> dict[int, TableHold]:
    """Tables held for a booked party due within the floor's look-ahead (or due and not yet arrived), and the
    tables pushed together with the one a seated party's check stands on, until their turn is up."""
    now = utcnow()
    # One statement (the live floor redraws with it on every change): the reservations within the longest
    # look-ahead there can be, each with the look-ahead the manager set.
    look_ahead = select(ReservationSettings.hold_minutes).where(ReservationSettings.id == 1).scalar_subquery()
    query = (
        select(Reservation, look_ahead)
        .where(
            col(Reservation.status).in_(ACTIVE),
            col(Reservation.starts_at) <= now + timedelta(minutes=MAX_HOLD_MINUTES),
            col(Reservation.ends_at) > now,
        )
        .order_by(col(Reservation.starts_at))
    )
    holds: dict[int, TableHold] = {}
    wanted = set(table_ids) if table_ids is not None else None
    for r, minutes in (await session.exec(query)).all():
        if r.starts_at > now + timedelta(minutes=ReservationSettings().hold_minutes if minutes is None else minutes):
            continue
        seated = r.status == ReservationStatus.SEATED
        # A seated party's own table shows its check; only the tables pushed against it are held.
        for table_id in r.tables[1:] if seated else r.tables:
            if (wanted is None or table_id in wanted) and table_id not in holds:
                holds[table_id] = TableHold(
                    reservation_id=r.id or 0,
                    name=r.name,
                    party_size=r.party_size,
                    starts_at=r.starts_at,
                    late=not seated and r.starts_at < now,
                    seated=seated,
                )
    return holds


# ---------------------------------------------------------------------------------------------- the waitlist


async def waiting(session: AsyncSession) -> list[WaitlistEntry]:
    """Parties on the waitlist now (waiting, or told their table is ready), first come first served."""
    rows = await session.exec(
        select(WaitlistEntry)
        .where(col(WaitlistEntry.status).in_([WaitStatus.WAITING, WaitStatus.READY]))
        .order_by(col(WaitlistEntry.joined_at), col(WaitlistEntry.id))
    )
    return list(rows.all())


async def entry_by_token(session: AsyncSession, token: str) -> WaitlistEntry | None:
    """The waitlist entry behind a guest's status link."""
    return (await session.exec(select(WaitlistEntry).where(WaitlistEntry.token == token))).first()


async def observed_turn_times(session: AsyncSession, now: datetime | None = None) -> list[tuple[int, int]]:
    """The floor's real turn times per party size: recent tables from seated to cleared, else the settings."""
    now = now or utcnow()
    rows = await session.exec(
        select(Check.covers, Check.opened_at, Check.table_cleared_at, Check.closed_at)
        .where(
            col(Check.kind) == CheckKind.TABLE,
            col(Check.status) == CheckStatus.CLOSED,
            col(Check.split_from_id).is_(None),
            col(Check.opened_at) >= now - timedelta(days=TURN_HISTORY_DAYS),
        )
        .order_by(col(Check.opened_at).desc())
        .limit(TURN_HISTORY_LIMIT)
    )
    samples = []
    for covers, opened_at, cleared_at, closed_at in rows.all():
        ended = cleared_at or closed_at
        if ended is not None:
            samples.append((covers, (ended - opened_at).total_seconds() / 60))
    return calc.observed_turn_times(samples, await turn_times(session))


async def floor_for_waitlist(
    session: AsyncSession, now: datetime, turns: list[tuple[int, int]]
) -> tuple[list[calc.FloorTable], Holds]:
    """Each table with when it is expected free (by the floor's real `turns`), and the reservations' holds ahead."""
    all_tables = await tables(session)
    expected: dict[int, datetime] = {}
    rows = await session.exec(
        select(Check.table_id, Check.opened_at, Check.covers, Check.status).where(
            col(Check.kind) == CheckKind.TABLE,
            col(Check.table_id).is_not(None),
            (col(Check.status) == CheckStatus.OPEN)
            | ((col(Check.status) == CheckStatus.CLOSED) & col(Check.table_cleared_at).is_(None)),
        )
    )
    for table_id, opened_at, covers, status in rows.all():
        if table_id is None:
            continue
        if status == CheckStatus.CLOSED:
            free = now + timedelta(minutes=5)  # paid: bussing it is all that is left
        else:
            free = max(opened_at + timedelta(minutes=calc.turn_minutes(covers, turns)), now + timedelta(minutes=5))
        expected[table_id] = max(expected.get(table_id, now), free)
    held: Holds = {}
    # A seated party's own slots are left out: its check above says when its table frees up.
    slot_rows = await session.exec(
        select(ReservationSlot.table_id, ReservationSlot.slot_at)
        .join(Reservation, col(Reservation.id) == col(ReservationSlot.reservation_id))
        .where(
            col(Reservation.status) == ReservationStatus.BOOKED,
            col(ReservationSlot.slot_at) >= now - calc.GRID,
            col(ReservationSlot.slot_at) < now + timedelta(hours=8),
        )
    )
    for table_id, slot_at in slot_rows.all():
        held.setdefault(table_id, []).append((slot_at, slot_at + calc.GRID))
    floor = [calc.FloorTable(t.id, t.seats, expected.get(t.id, now)) for t in all_tables]
    return floor, held
