"""The host's commands: book, change, cancel, no-show and seat reservations; run the walk-in waitlist; settings.

Each command runs in its caller's transaction. A booking holds each quarter hour of each of its tables as a row of
`reservation_slot`, whose unique key (table, quarter hour) is what finally refuses a double booking, whichever
tablet or process books; bookings also take turns on the settings row, so the pacing limit holds as well. The
audit log records what changed by reservation id, party size, time and tables, never the guest's name, phone or
allergies (audit entries cannot be edited, so personal data there could never be erased).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, delete, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.guests import services as guests
from app.guests.services import GuestErased
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.db import Database
from app.lib.errors import Conflict, InvalidInput, NotFound, StaleVersion
from app.lib.events import EventBus
from app.lib.inputs import clean_text
from app.lib.sql import is_postgres
from app.orders import live, seating
from app.orders.floor_view import TABLE_HOLDS
from app.orders.models import Check, CheckKind
from app.reservations import calculations as calc
from app.reservations import queries
from app.reservations.models import (
    ALLERGIES_MAX_LENGTH,
    MAX_PARTY,
    NAME_MAX_LENGTH,
    NOTES_MAX_LENGTH,
    Reservation,
    ReservationSettings,
    ReservationSlot,
    ReservationSource,
    ReservationStatus,
    WaitlistEntry,
)
from app.staff.models import Staff
from app.staff.permissions import Perm, Role

REASON_MAX_LENGTH = 200
EARLIEST_SEATING = timedelta(hours=3)
"""A party arriving this early is still seated on its booking; one for a later day is a mistaken tap."""
_SLOTS: Table = ReservationSlot.__table__  # type: ignore[attr-defined]


class SlotFull(Conflict):
    """No table fits the party at that time; `alternatives` are the nearest times that have one."""

    code = "slot_full"

    def __init__(self, message: str, alternatives: Sequence[datetime]) -> None:
        super().__init__(message, detail={"next_free": [a.isoformat() for a in alternatives]})
        self.alternatives = list(alternatives)


@dataclass(frozen=True)
class Booking:
    """A party as the host (or a booking site) asks for it."""

    party_size: int
    starts_at: datetime
    name: str
    phone: str = ""
    notes: str = ""
    allergies: str = ""
    table_ids: tuple[int, ...] | None = None
    """The tables the host chose; None for the best free ones."""


def _clock(session: AsyncSession, moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(queries.zone(session))).strftime("%H:%M")


def _day_and_clock(session: AsyncSession, moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(queries.zone(session))).strftime("%a %d %b %H:%M")


def _clean_booking(booking: Booking) -> Booking:
    if not 1 <= booking.party_size <= MAX_PARTY:
        raise InvalidInput(f"A party is 1 to {MAX_PARTY} guests; larger groups are an event, not a table.")
    if booking.starts_at.tzinfo is None:
        raise InvalidInput("The time has no time zone.")
    name = clean_text(booking.name, label="Name", max_length=NAME_MAX_LENGTH)
    phone, _digits = guests.clean_phone(booking.phone)
    notes = clean_text(booking.notes, label="Notes", max_length=NOTES_MAX_LENGTH, required=False, multiline=True)
    allergies = guests.clean_allergies(booking.allergies)
    if len(allergies) > ALLERGIES_MAX_LENGTH:
        raise InvalidInput(f"Allergies are {len(allergies)} characters; the limit is {ALLERGIES_MAX_LENGTH}.")
    if allergies and not phone:
        raise InvalidInput(
            "Allergies reach the kitchen through the guest's record, which needs their phone number: add it."
        )
    return Booking(booking.party_size, booking.starts_at, name, phone or "", notes, allergies, booking.table_ids)


async def _require_bookable_time(session: AsyncSession, settings: ReservationSettings, start: datetime) -> None:
    day = queries.local_day(session, start)
    slots = calc.day_slots(
        day, settings.first_seating, settings.last_seating, settings.slot_minutes, queries.zone(session)
    )
    if start not in slots:
        earlier = calc.day_slots(
            day - timedelta(days=1),
            settings.first_seating,
            settings.last_seating,
            settings.slot_minutes,
            queries.zone(session),
        )
        if start not in earlier:
            raise InvalidInput(
                f"Tables are booked from {settings.first_seating:%H:%M} to {settings.last_seating:%H:%M}, every "
                f"{settings.slot_minutes} minutes; {_clock(session, start)} is not one of those times."
            )
    if start + calc.GRID <= utcnow():
        raise InvalidInput(f"{_day_and_clock(session, start)} has passed; choose a time still to come.")


async def _alternatives(session: AsyncSession, party_size: int, start: datetime) -> list[datetime]:
    day = queries.local_day(session, start)
    free = {s.at for s in await queries.availability(session, day, party_size) if s.free}
    candidates = sorted(free | {start})
    return calc.nearest_free(start, candidates, lambda at: at in free)


async def _slot_full(session: AsyncSession, party_size: int, start: datetime, why: str) -> SlotFull:
    found = await _alternatives(session, party_size, start)
    offer = (
        "Free nearby: " + ", ".join(_clock(session, at) for at in found) + "."
        if found
        else "Nothing else is free that day for that party."
    )
    return SlotFull(f"{why} {offer}", found)


async def _place(
    session: AsyncSession,
    settings: ReservationSettings,
    party_size: int,
    start: datetime,
    end: datetime,
    *,
    chosen: tuple[int, ...] | None,
    preferred: tuple[int, ...] | None = None,
    exclude: int | None = None,
) -> calc.Option:
    """Where the party sits: the tables chosen (refused when taken), else the preferred ones, else the best free."""
    covers = await queries.covers_starting(session, start, exclude_reservation=exclude)
    when = _day_and_clock(session, start)
    if not calc.pacing_allows(covers, party_size, settings.max_covers_per_slot):
        raise await _slot_full(
            session,
            party_size,
            start,
            f"{when} already has {covers} of its {settings.max_covers_per_slot} covers booked, so the kitchen "
            f"cannot take another {party_size}.",
        )
    tables = await queries.tables(session)
    combos = await queries.combinations(session)
    taken = await queries.busy(session, start, end, exclude_reservation=exclude)
    options = calc.options_for(party_size, tables, combos)
    if chosen is not None:
        wanted = set(chosen)
        option = next((o for o in options if set(o.table_ids) == wanted), None)
        if option is None:
            names = {t.id: t for t in tables}
            if not wanted <= names.keys():
                raise NotFound("One of the chosen tables is not on the floor plan; reload and choose again.")
            seats = sum(names[t].seats for t in wanted)
            label = "+".join(names[t].name for t in chosen)
            if len(wanted) > 1 and seats >= party_size:
                raise InvalidInput(f"Tables {label} are not a combination a manager allowed.")
            raise InvalidInput(f"Table {label} seats {seats}; a party of {party_size} does not fit.")
        if not calc.is_free(option, start, end, taken):
            raise await _slot_full(session, party_size, start, f"Table {option.label} is taken at {when}.")
        return option
    free = [o for o in options if calc.is_free(o, start, end, taken)]
    if not free:
        raise await _slot_full(session, party_size, start, f"{when} is full for a party of {party_size}.")
    if preferred is not None:
        kept = next((o for o in free if set(o.table_ids) == set(preferred)), None)
        if kept is not None:
            return kept
    return free[0]


async def _hold(session: AsyncSession, reservation: Reservation, option: calc.Option) -> None:
    """Write the reservation's quarter hours on its tables; a table another booking just took is refused."""
    # Quarter hours a seated party gave back by leaving early are released for good before these are written.
    given_back = await queries.slots_left_early(session, option.table_ids, reservation.starts_at, reservation.ends_at)
    if given_back:
        await session.exec(delete(_SLOTS).where(_SLOTS.c.id.in_(given_back)))
    rows = [
        {"reservation_id": reservation.id, "table_id": table_id, "slot_at": slot_at}
        for table_id in option.table_ids
        for slot_at in calc.grid_slots(reservation.starts_at, reservation.ends_at)
    ]
    try:
        async with session.begin_nested():
            await session.exec(insert(_SLOTS), params=rows)
    except IntegrityError:
        raise Conflict(
            f"Table {option.label} was booked for {_clock(session, reservation.starts_at)} on another tablet a "
            "moment ago; nothing was saved. Look at the book again and choose another time or table."
        ) from None


async def _release(session: AsyncSession, reservation: Reservation) -> None:
    await session.exec(delete(_SLOTS).where(_SLOTS.c.reservation_id == reservation.id))


async def _guest_id(session: AsyncSession, actor: Staff, booking: Booking) -> int | None:
    """The guest on file for this booking (found by phone, else made): their allergies reach the kitchen."""
    if not booking.phone:
        return None
    guest = await guests.find_or_create_guest(
        session, actor=actor, name=booking.name, phone=booking.phone or None, allergies=booking.allergies or None
    )
    return guest.id


def _facts(reservation: Reservation) -> dict[str, Any]:
    """What the audit log keeps of a reservation: no personal data."""
    return {
        "party_size": reservation.party_size,
        "starts_at": reservation.starts_at.isoformat(),
        "table_ids": reservation.table_ids,
        "status": reservation.status.value,
    }


async def book(
    session: AsyncSession,
    booking: Booking,
    *,
    actor: Staff,
    source: ReservationSource = ReservationSource.HOST,
) -> Reservation:
    """Book a party for a time on the best free table (or the one chosen); a full slot offers the nearest free."""
    booking = _clean_booking(booking)
    settings = await queries.book_settings(session, lock=True)
    if source == ReservationSource.API and booking.party_size > settings.max_party_size:
        raise InvalidInput(f"Parties of more than {settings.max_party_size} are booked by phone with the restaurant.")
    start = booking.starts_at.astimezone(ZoneInfo("UTC"))
    await _require_bookable_time(session, settings, start)
    end = start + timedelta(minutes=calc.turn_minutes(booking.party_size, await queries.turn_times(session)))
    option = await _place(session, settings, booking.party_size, start, end, chosen=booking.table_ids)
    reservation = Reservation(
        party_size=booking.party_size,
        starts_at=start,
        ends_at=end,
        name=booking.name,
        phone=booking.phone,
        notes=booking.notes,
        allergies=booking.allergies,
        source=source,
        table_ids=option.key,
        guest_id=await _guest_id(session, actor, booking),
        created_by=actor.id if source == ReservationSource.HOST else None,
    )
    session.add(reservation)
    await session.flush()
    await _hold(session, reservation, option)
    await audit.record(
        session,
        "reservation.booked",
        actor_id=actor.id if source == ReservationSource.HOST else None,
        subject=f"reservation:{reservation.id}",
        after={**_facts(reservation), "source": source.value},
    )
    live.tables_changed(session, option.table_ids)
    return reservation


async def reservation_for_update(
    session: AsyncSession, reservation_id: int, expected_version: int | None = None
) -> Reservation:
    """The reservation, locked until the transaction ends; a change made from a stale copy is refused."""
    query = select(Reservation).where(Reservation.id == reservation_id).execution_options(populate_existing=True)
    if is_postgres(session):
        query = query.with_for_update()
    reservation = (await session.exec(query)).first()
    if reservation is None:
        raise NotFound(f"There is no reservation {reservation_id}.")
    if expected_version is not None and reservation.version != expected_version:
        raise StaleVersion(
            f"The reservation for {reservation.name} was changed on another tablet; here it is as it stands now. "
            "Nothing was changed.",
            detail={"reservation_id": reservation.id, "version": reservation.version},
        )
    return reservation


def _require_booked(session: AsyncSession, reservation: Reservation, doing: str) -> None:
    if reservation.status != ReservationStatus.BOOKED:
        state = reservation.status.value.replace("_", "-")
        raise Conflict(f"The reservation for {reservation.name} is {state}; it cannot be {doing}.")


def _reason(reason: str | None) -> str | None:
    text = clean_text(reason, label="The reason", max_length=REASON_MAX_LENGTH, required=False)
    return text or None


async def change(
    session: AsyncSession,
    reservation_id: int,
    booking: Booking,
    *,
    actor: Staff,
    expected_version: int | None,
    reason: str | None = None,
) -> Reservation:
    """Change a booked party's size, time, tables or details; it keeps its tables when they still fit."""
    booking = _clean_booking(booking)
    settings = await queries.book_settings(session, lock=True)
    reservation = await reservation_for_update(session, reservation_id, expected_version)
    _require_booked(session, reservation, "changed")
    before = _facts(reservation)
    old_tables = reservation.tables
    start = booking.starts_at.astimezone(ZoneInfo("UTC"))
    if start != reservation.starts_at:
        await _require_bookable_time(session, settings, start)
    end = start + timedelta(minutes=calc.turn_minutes(booking.party_size, await queries.turn_times(session)))
    await _release(session, reservation)
    option = await _place(
        session,
        settings,
        booking.party_size,
        start,
        end,
        chosen=booking.table_ids,
        preferred=tuple(old_tables),
        exclude=reservation.id,
    )
    contact_changed = (booking.phone, booking.allergies) != (reservation.phone, reservation.allergies)
    reservation.party_size = booking.party_size
    reservation.starts_at = start
    reservation.ends_at = end
    reservation.name = booking.name
    reservation.phone = booking.phone
    reservation.notes = booking.notes
    reservation.allergies = booking.allergies
    reservation.table_ids = option.key
    if contact_changed:
        reservation.guest_id = await _guest_id(session, actor, booking) or reservation.guest_id
    reservation.version += 1
    session.add(reservation)
    await session.flush()
    await _hold(session, reservation, option)
    await audit.record(
        session,
        "reservation.changed",
        actor_id=actor.id,
        subject=f"reservation:{reservation.id}",
        reason=_reason(reason),
        before=before,
        after=_facts(reservation),
    )
    live.tables_changed(session, sorted(set(old_tables) | set(option.table_ids)))
    return reservation


async def cancel(
    session: AsyncSession,
    reservation_id: int,
    *,
    actor: Staff | None,
    reason: str | None = None,
    expected_version: int | None = None,
) -> Reservation:
    """Cancel a booked party: its tables are free again at once."""
    reservation = await reservation_for_update(session, reservation_id, expected_version)
    _require_booked(session, reservation, "cancelled")
    before = _facts(reservation)
    await _release(session, reservation)
    reservation.status = ReservationStatus.CANCELLED
    reservation.cancelled_at = utcnow()
    reservation.version += 1
    session.add(reservation)
    await audit.record(
        session,
        "reservation.cancelled",
        actor_id=actor.id if actor else None,
        subject=f"reservation:{reservation.id}",
        reason=_reason(reason),
        before=before,
        after=_facts(reservation),
    )
    live.tables_changed(session, reservation.tables)
    return reservation


async def mark_no_show(
    session: AsyncSession, reservation_id: int, *, actor: Staff, expected_version: int | None = None
) -> Reservation:
    """The party did not come: its tables are free again, and the day's no-show rate counts it."""
    reservation = await reservation_for_update(session, reservation_id, expected_version)
    _require_booked(session, reservation, "marked a no-show")
    if utcnow() < reservation.starts_at:
        raise Conflict(
            f"{reservation.name} is due at {_clock(session, reservation.starts_at)}; a no-show is marked once "
            "their time has come."
        )
    before = _facts(reservation)
    await _release(session, reservation)
    reservation.status = ReservationStatus.NO_SHOW
    reservation.no_show_at = utcnow()
    reservation.version += 1
    session.add(reservation)
    await audit.record(
        session,
        "reservation.no_show",
        actor_id=actor.id,
        subject=f"reservation:{reservation.id}",
        before=before,
        after=_facts(reservation),
    )
    live.tables_changed(session, reservation.tables)
    return reservation


async def _server(session: AsyncSession, actor: Staff, server_id: int | None) -> Staff:
    if server_id is not None and server_id != actor.id:
        server = await session.get(Staff, server_id)
        if server is None or server.archived_at is not None:
            raise NotFound("That server is not on the staff list.")
        return server
    if not actor.can(Perm.ORDERS_ENTER):
        raise InvalidInput("Choose the server who will look after this table.")
    return actor


async def seat(
    session: AsyncSession,
    reservation_id: int,
    *,
    actor: Staff,
    server_id: int | None = None,
    expected_version: int | None = None,
) -> Check:
    """The party has arrived: their check opens on their table with their covers and their guest attached."""
    reservation = await reservation_for_update(session, reservation_id, expected_version)
    _require_booked(session, reservation, "seated")
    if reservation.starts_at - utcnow() > EARLIEST_SEATING:
        raise Conflict(
            f"{reservation.name} is booked for {_day_and_clock(session, reservation.starts_at)}; a party is seated "
            "from three hours before its time. Seat a walk-in instead, or change the booking."
        )
    server = await _server(session, actor, server_id)
    check = await seating.open_check(
        session,
        table_id=reservation.tables[0],
        covers=reservation.party_size,
        server=server,
        kind=CheckKind.TABLE,
        actor=actor,
    )
    if reservation.guest_id is not None:
        await guests.attach_guest_to_check(session, check.id or 0, reservation.guest_id, actor)
    before = _facts(reservation)
    reservation.status = ReservationStatus.SEATED
    reservation.seated_at = utcnow()
    reservation.check_id = check.id
    reservation.version += 1
    session.add(reservation)
    await audit.record(
        session,
        "reservation.seated",
        actor_id=actor.id,
        subject=f"reservation:{reservation.id}",
        before=before,
        after={**_facts(reservation), "check_id": check.id},
    )
    live.tables_changed(session, reservation.tables)
    return check


async def house_staff(session: AsyncSession) -> Staff:
    """Who books for a booking site: the venue's first active admin, else its first manager."""
    people = (
        await session.exec(
            select(Staff)
            .where(col(Staff.archived_at).is_(None), col(Staff.role).in_([Role.ADMIN, Role.MANAGER]))
            .order_by(col(Staff.role) != Role.ADMIN, col(Staff.id))
        )
    ).all()
    if not people:
        raise InvalidInput("No active manager can take online bookings; add one first.")
    return people[0]


# ---------------------------------------------------------------------------------------------- erasure


async def forget_guest(session: AsyncSession, event: GuestErased) -> None:
    """A guest erased on request: the bookings and waitlist entries that copied their details empty them too."""
    for model in (Reservation, WaitlistEntry):
        rows = (await session.exec(select(model).where(model.guest_id == event.guest_id))).all()
        for row in rows:
            row.name = guests.ERASED_NAME
            row.phone = ""
            row.notes = ""
            row.allergies = ""
            session.add(row)


def wire(bus: EventBus, db: Database) -> None:
    """Show tables held for a party on the floor, and forget an erased guest's bookings."""
    db.context[TABLE_HOLDS] = queries.table_holds
    db.context[seating.TABLE_BOOKED] = queries.table_booked
    bus.subscribe(GuestErased, forget_guest)
