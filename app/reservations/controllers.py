"""The host's pages: the day's book, booking and changing, seating and the run sheet; controllers.py assembles
ROUTES with the waitlist's pages (waitlist_controllers.py) and the manager's settings (settings_controllers.py).

Every state-changing request carries an idempotency key (a double tap books once); refusals change nothing and
say why in the page, and a full slot answers with the booking form offering the nearest free times.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import MediaType, Request, Response, get
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from msgspec import Meta
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import forms, web
from app.lib.errors import InvalidInput, NotFound
from app.lib.manage import FORM
from app.orders import queries as orders_queries
from app.reservations import queries, services, settings_controllers, waitlist_controllers
from app.reservations.controller_helpers import (
    ChosenId,
    HostForm,
    PartyForm,
    day_of,
    go,
    host_post,
    once,
    parse_clock,
    parse_day,
    render,
    today,
    zone,
)
from app.reservations.models import (
    ALLERGIES_MAX_LENGTH,
    MAX_PARTY,
    NAME_MAX_LENGTH,
    NOTES_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    Reservation,
)
from app.staff.auth import Viewer
from app.staff.models import Staff
from app.staff.permissions import Perm

Req = Request[Any, Any, Any]
BOOKING_FORM = "reservations/_form.html"
Version = Annotated[int, Meta(title="The reservation's version", ge=1)]


class BookingForm(PartyForm, kw_only=True):
    """A booking as the host submits it: the party, the day (today when blank), a time (or a nearby one offered
    when the slot was full), and the tables chosen, if any."""

    day: str = ""
    time: str = ""
    alt_time: str = ""
    tables: str = ""

    def check(self) -> None:
        parse_day(self.day)
        parse_clock(self.when, "Choose a time for the booking.")
        self.table_ids()

    @property
    def when(self) -> str:
        return self.alt_time or self.time

    def table_ids(self) -> tuple[int, ...] | None:
        raw = self.tables.strip()
        if not raw:
            return None
        try:
            return tuple(int(part) for part in raw.split(",") if part.strip())
        except ValueError:
            raise ValueError("Choose the tables from the list.") from None

    def booking(self, request: Req) -> services.Booking:
        day = parse_day(self.day) or today(request)
        clock = parse_clock(self.when, "Choose a time for the booking.")
        return services.Booking(
            party_size=self.party_size,
            starts_at=datetime.combine(day, clock, tzinfo=zone(request)),
            name=self.name,
            phone=self.phone,
            notes=self.notes,
            allergies=self.allergies,
            table_ids=self.table_ids(),
        )


class ChangeForm(BookingForm, kw_only=True):
    """A change to a booking, against the version the host saw, with an optional reason."""

    version: Version
    reason: str = ""


class CancelForm(HostForm, kw_only=True):
    """A cancellation, with its reason."""

    reason: Annotated[str, Meta(title="The reason"), forms.Text(max_length=services.REASON_MAX_LENGTH)]
    version: Version


class VersionForm(HostForm, kw_only=True):
    """A command on the reservation as the host saw it."""

    version: Version


class SeatForm(VersionForm, kw_only=True):
    """Seat the party, perhaps with their server."""

    server_id: Annotated[ChosenId, Meta(title="The server")] | None = None


def _can_manage(request: Req) -> bool:
    viewer: Viewer = request.user
    return viewer.can(Perm.FLOOR_MANAGE)


# ---------------------------------------------------------------------------------------------- the day's book


async def _form_context(
    request: Req,
    session: AsyncSession,
    day: date,
    party_size: int,
    *,
    exclude: int | None = None,
    **values: Any,
) -> dict[str, Any]:
    slots = await queries.availability(session, day, party_size, exclude_reservation=exclude)
    return {
        "day": day,
        "party_size": party_size,
        "slots": slots,
        "max_party": MAX_PARTY,
        "values": values,
        "limits": {
            "name": NAME_MAX_LENGTH,
            "phone": PHONE_MAX_LENGTH,
            "notes": NOTES_MAX_LENGTH,
            "allergies": ALLERGIES_MAX_LENGTH,
        },
    }


@get("/reservations", permission=Perm.CHECKS_OPEN, include_in_schema=False)
async def book_page(request: Req, db: web.Db, day: FromQuery[str | None] = None, party: FromQuery[int] = 2) -> Template:
    """The day's book: every reservation by time, covers per slot, how the day went, and the booking form."""
    chosen = day_of(request, day)
    party_size = min(max(party, 1), MAX_PARTY)
    async with db.read() as session:
        book = await queries.day_book(session, chosen)
        form = await _form_context(request, session, chosen, party_size)
    return web.page(
        request,
        "reservations/book.html",
        fragment="reservations/_book.html",
        book=book,
        today=today(request),
        prev_day=chosen - timedelta(days=1),
        next_day=chosen + timedelta(days=1),
        can_manage=_can_manage(request),
        **form,
    )


@get("/reservations/availability", permission=Perm.CHECKS_OPEN, include_in_schema=False)
async def availability_field(
    request: Req, db: web.Db, day: FromQuery[str | None] = None, party_size: FromQuery[int] = 2
) -> Template:
    """The times of a day for a party, free or full (the booking form redraws its time field with it)."""
    chosen = day_of(request, day)
    if not 1 <= party_size <= MAX_PARTY:
        raise InvalidInput(f"A party is 1 to {MAX_PARTY} guests.")
    async with db.read() as session:
        form = await _form_context(request, session, chosen, party_size)
    return Template(template_name="reservations/_time_field.html", context=form)


@get("/reservations/run-sheet", permission=Perm.CHECKS_OPEN, include_in_schema=False)
async def run_sheet(request: Req, db: web.Db, day: FromQuery[str | None] = None) -> Template:
    """The day's book on paper: one line per party, with tables, notes and allergies, for the host stand."""
    chosen = day_of(request, day)
    async with db.read() as session:
        book = await queries.day_book(session, chosen)
    return Template(template_name="reservations/run_sheet.html", context={"book": book})


@host_post("/reservations")
async def create(request: Req, db: web.Db, data: Annotated[BookingForm, FORM]) -> Response[Any]:
    """Book a party; a full slot answers with the form again, offering the nearest free times."""
    booking = data.booking(request)

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        reservation = await services.book(session, booking, actor=actor)
        day = reservation.starts_at.astimezone(zone(request)).date()
        return go(request, f"/reservations?day={day.isoformat()}&booked={reservation.id}")

    try:
        return await once(request, db, data, work)
    except services.SlotFull as full:
        return await _refused_form(request, db, booking, data, full)


async def _refused_form(
    request: Req,
    db: web.Db,
    booking: services.Booking,
    data: BookingForm,
    full: services.SlotFull,
    *,
    action: str = "/reservations",
    reservation_id: int | None = None,
) -> Response[Any]:
    day = booking.starts_at.date()
    async with db.read() as session:
        kept = {"name": data.name, "phone": data.phone, "notes": data.notes, "allergies": data.allergies}
        form = await _form_context(
            request, session, day, booking.party_size, exclude=reservation_id, **kept, time=data.time
        )
        current = await queries.reservation(session, reservation_id) if reservation_id is not None else None
    html = render(
        request,
        BOOKING_FORM,
        **form,
        r=current,
        refusal=full.message,
        alternatives=[a.astimezone(zone(request)) for a in full.alternatives],
        action=action,
    )
    if not web.is_htmx(request):
        return Response(content=html, status_code=409, media_type=MediaType.HTML)
    return Response(
        content=html,
        status_code=409,
        media_type=MediaType.HTML,
        headers={"HX-Retarget": "#booking-form", "HX-Reswap": "outerHTML"},
    )


# ---------------------------------------------------------------------------------------------- one reservation


async def _reservation(session: AsyncSession, reservation_id: int) -> Reservation:
    reservation = await queries.reservation(session, reservation_id)
    if reservation is None:
        raise NotFound(f"There is no reservation {reservation_id}.")
    return reservation


@get("/reservations/{reservation_id:int}", permission=Perm.CHECKS_OPEN, include_in_schema=False)
async def reservation_page(request: Req, db: web.Db, reservation_id: FromPath[int]) -> Template:
    """One reservation: seat it, change it, cancel it, or mark a no-show."""
    async with db.read() as session:
        reservation = await _reservation(session, reservation_id)
        local = reservation.starts_at.astimezone(zone(request))
        form = await _form_context(
            request,
            session,
            local.date(),
            reservation.party_size,
            exclude=reservation.id,
            name=reservation.name,
            phone=reservation.phone,
            notes=reservation.notes,
            allergies=reservation.allergies,
            time=local.strftime("%H:%M"),
        )
        tables = await queries.table_names(session, reservation.tables)
        servers = await orders_queries.servers(session)
    viewer: Viewer = request.user
    return web.page(
        request,
        "reservations/detail.html",
        r=reservation,
        tables=tables,
        servers=servers,
        can_order=viewer.can(Perm.ORDERS_ENTER),
        due=reservation.starts_at <= datetime.now(ZoneInfo("UTC")),
        **form,
    )


@host_post("/reservations/{reservation_id:int}/change")
async def change(
    request: Req, db: web.Db, reservation_id: FromPath[int], data: Annotated[ChangeForm, FORM]
) -> Response[Any]:
    """Change the party, the time, the tables or the details; audited."""
    booking = data.booking(request)

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        await services.change(
            session, reservation_id, booking, actor=actor, expected_version=data.version, reason=data.reason
        )
        return go(request, f"/reservations/{reservation_id}")

    try:
        return await once(request, db, data, work)
    except services.SlotFull as full:
        return await _refused_form(request, db, booking, data, full, action=f"/reservations/{reservation_id}/change")


@host_post("/reservations/{reservation_id:int}/cancel")
async def cancel(
    request: Req, db: web.Db, reservation_id: FromPath[int], data: Annotated[CancelForm, FORM]
) -> Response[Any]:
    """Cancel the reservation (with a reason); its tables are free again at once."""

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        await services.cancel(session, reservation_id, actor=actor, reason=data.reason, expected_version=data.version)
        return go(request, f"/reservations/{reservation_id}")

    return await once(request, db, data, work)


@host_post("/reservations/{reservation_id:int}/no-show")
async def no_show(
    request: Req, db: web.Db, reservation_id: FromPath[int], data: Annotated[VersionForm, FORM]
) -> Response[Any]:
    """The party did not come."""

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        await services.mark_no_show(session, reservation_id, actor=actor, expected_version=data.version)
        return go(request, f"/reservations/{reservation_id}")

    return await once(request, db, data, work)


@host_post("/reservations/{reservation_id:int}/seat")
async def seat(
    request: Req, db: web.Db, reservation_id: FromPath[int], data: Annotated[SeatForm, FORM]
) -> Response[Any]:
    """The party arrived: their check opens on their table; a server goes to order entry, a host to the floor."""

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        check = await services.seat(
            session, reservation_id, actor=actor, server_id=data.server_id, expected_version=data.version
        )
        return go(request, f"/checks/{check.id}" if check.server_id == actor.id else "/floor")

    return await once(request, db, data, work)


ROUTES: list[Any] = [
    book_page,
    availability_field,
    run_sheet,
    create,
    reservation_page,
    change,
    cancel,
    no_show,
    seat,
    *waitlist_controllers.ROUTES,
    *settings_controllers.ROUTES,
]
