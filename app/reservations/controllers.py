"""The host's pages: the day's book, booking and changing, seating, the run sheet, the waitlist and its guest page,
and the manager's settings for the book.

Every state-changing request carries an idempotency key (a double tap books once); refusals change nothing and
say why in the page, and a full slot answers with the booking form offering the nearest free times.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from litestar import MediaType, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import web
from app.lib.errors import InvalidInput, NotFound
from app.lib.idempotency import StoredResponse, check_key, fingerprint, run_once
from app.lib.settings import Settings
from app.orders import queries as orders_queries
from app.reservations import host_settings, queries, services, waitlist
from app.reservations.models import (
    ALLERGIES_MAX_LENGTH,
    MAX_PARTY,
    NAME_MAX_LENGTH,
    NOTES_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    Reservation,
    WaitStatus,
)
from app.staff.auth import Viewer
from app.staff.models import Staff
from app.staff.permissions import Perm

Work = Callable[[AsyncSession, Staff], Awaitable[Response[Any]]]
FORM = "reservations/_form.html"


def _settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _zone(request: Request[Any, Any, Any]) -> ZoneInfo:
    return ZoneInfo(_settings(request).timezone)


def _today(request: Request[Any, Any, Any]) -> date:
    return datetime.now(_zone(request)).date()


def _day(request: Request[Any, Any, Any], raw: str | None) -> date:
    if raw is None or not raw.strip():
        return _today(request)
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(f"“{raw[:20]}” is not a date; use the date picker.") from None


def _moment(request: Request[Any, Any, Any], day: date, raw: str) -> datetime:
    try:
        clock = time.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput("Choose a time for the booking.") from None
    return datetime.combine(day, clock, tzinfo=_zone(request))


def _party(fields: Mapping[str, Any]) -> int:
    return web.field_int(fields, "party_size", label="The party size", minimum=1, maximum=MAX_PARTY)


def _tables(fields: Mapping[str, Any]) -> tuple[int, ...] | None:
    raw = str(fields.get("tables") or "").strip()
    if not raw:
        return None
    try:
        return tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise InvalidInput("Choose the tables from the list.") from None


def _booking(request: Request[Any, Any, Any], fields: Mapping[str, Any]) -> services.Booking:
    day = _day(request, str(fields.get("day") or ""))
    when = str(fields.get("alt_time") or fields.get("time") or "")
    return services.Booking(
        party_size=_party(fields),
        starts_at=_moment(request, day, when),
        name=web.field_text(fields, "name", label="The name", max_length=NAME_MAX_LENGTH),
        phone=web.field_text(fields, "phone", label="The phone", max_length=PHONE_MAX_LENGTH, required=False),
        notes=web.field_text(fields, "notes", label="Notes", max_length=NOTES_MAX_LENGTH, required=False),
        allergies=web.field_text(
            fields, "allergies", label="Allergies", max_length=ALLERGIES_MAX_LENGTH, required=False
        ),
        table_ids=_tables(fields),
    )


async def _once(request: Request[Any, Any, Any], db: web.Db, fields: Mapping[str, Any], work: Work) -> Response[Any]:
    """Run `work` once per idempotency key, as the person logged in; a repeat gets the first answer."""
    viewer: Viewer = request.user
    key = check_key(str(fields.get("idempotency_key") or ""))
    print_ = fingerprint(request.method, request.url.path, fields)

    async def stored(session: AsyncSession) -> StoredResponse:
        actor = await session.merge(viewer.staff, load=False)
        response = await work(session, actor)
        body = response.content if isinstance(response.content, str) else ""
        headers = {k: v for k, v in response.headers.items() if k.lower() in {"hx-redirect", "location"}}
        return StoredResponse(response.status_code or 200, body, headers)

    result = await run_once(db, key=key, scope=f"reservations:{viewer.staff.id}", print_=print_, work=stored)
    return Response(
        content=result.body, status_code=result.status_code, headers=result.headers, media_type=MediaType.HTML
    )


def _go(request: Request[Any, Any, Any], url: str) -> Response[Any]:
    if web.is_htmx(request):
        return Response(content="", media_type=MediaType.HTML, headers={"HX-Redirect": url})
    return Response(content="", status_code=303, headers={"location": url})


def _can_manage(request: Request[Any, Any, Any]) -> bool:
    viewer: Viewer = request.user
    return viewer.can(Perm.FLOOR_MANAGE)


# ---------------------------------------------------------------------------------------------- the day's book


async def _form_context(
    request: Request[Any, Any, Any],
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
async def book_page(
    request: Request[Any, Any, Any], db: web.Db, day: FromQuery[str | None] = None, party: FromQuery[int] = 2
) -> Template:
    """The day's book: every reservation by time, covers per slot, how the day went, and the booking form."""
    chosen = _day(request, day)
    party_size = min(max(party, 1), MAX_PARTY)
    async with db.read() as session:
        book = await queries.day_book(session, chosen)
        form = await _form_context(request, session, chosen, party_size)
    return web.page(
        request,
        "reservations/book.html",
        fragment="reservations/_book.html",
        book=book,
        today=_today(request),
        prev_day=chosen - timedelta(days=1),
        next_day=chosen + timedelta(days=1),
        can_manage=_can_manage(request),
        **form,
    )


@get("/reservations/availability", permission=Perm.CHECKS_OPEN, include_in_schema=False)
async def availability_field(
    request: Request[Any, Any, Any], db: web.Db, day: FromQuery[str | None] = None, party_size: FromQuery[int] = 2
) -> Template:
    """The times of a day for a party, free or full (the booking form redraws its time field with it)."""
    chosen = _day(request, day)
    if not 1 <= party_size <= MAX_PARTY:
        raise InvalidInput(f"A party is 1 to {MAX_PARTY} guests.")
    async with db.read() as session:
        form = await _form_context(request, session, chosen, party_size)
    return Template(template_name="reservations/_time_field.html", context=form)


@get("/reservations/run-sheet", permission=Perm.CHECKS_OPEN, include_in_schema=False)
async def run_sheet(request: Request[Any, Any, Any], db: web.Db, day: FromQuery[str | None] = None) -> Template:
    """The day's book on paper: one line per party, with tables, notes and allergies, for the host stand."""
    chosen = _day(request, day)
    async with db.read() as session:
        book = await queries.day_book(session, chosen)
    return Template(template_name="reservations/run_sheet.html", context={"book": book})


@post("/reservations", permission=Perm.CHECKS_OPEN, include_in_schema=False)
async def create(request: Request[Any, Any, Any], db: web.Db) -> Response[Any]:
    """Book a party; a full slot answers with the form again, offering the nearest free times."""
    fields = await web.form_data(request)
    booking = _booking(request, fields)

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        reservation = await services.book(session, booking, actor=actor)
        day = reservation.starts_at.astimezone(_zone(request)).date()
        return _go(request, f"/reservations?day={day.isoformat()}&booked={reservation.id}")

    try:
        return await _once(request, db, fields, work)
    except services.SlotFull as full:
        return await _refused_form(request, db, booking, fields, full)


async def _refused_form(
    request: Request[Any, Any, Any],
    db: web.Db,
    booking: services.Booking,
    fields: Mapping[str, Any],
    full: services.SlotFull,
    *,
    action: str = "/reservations",
    reservation_id: int | None = None,
) -> Response[Any]:
    day = booking.starts_at.date()
    async with db.read() as session:
        kept = {k: str(fields.get(k) or "") for k in ("name", "phone", "notes", "allergies", "time")}
        form = await _form_context(request, session, day, booking.party_size, exclude=reservation_id, **kept)
        current = await queries.reservation(session, reservation_id) if reservation_id is not None else None
    html = _render(
        request,
        FORM,
        **form,
        r=current,
        refusal=full.message,
        alternatives=[a.astimezone(_zone(request)) for a in full.alternatives],
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


def _render(request: Request[Any, Any, Any], template: str, **context: Any) -> str:
    engine = request.app.template_engine
    assert engine is not None, "the app renders templates"
    full = Template(template_name=template, context=context).create_template_context(request)
    return str(engine.get_template(template).render(**full))


# ---------------------------------------------------------------------------------------------- one reservation


async def _reservation(session: AsyncSession, reservation_id: int) -> Reservation:
    reservation = await queries.reservation(session, reservation_id)
    if reservation is None:
        raise NotFound(f"There is no reservation {reservation_id}.")
    return reservation


@get("/reservations/{reservation_id:int}", permission=Perm.CHECKS_OPEN, include_in_schema=False)
async def reservation_page(request: Request[Any, Any, Any], db: web.Db, reservation_id: FromPath[int]) -> Template:
    """One reservation: seat it, change it, cancel it, or mark a no-show."""
    async with db.read() as session:
        reservation = await _reservation(session, reservation_id)
        local = reservation.starts_at.astimezone(_zone(request))
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


@post("/reservations/{reservation_id:int}/change", permission=Perm.CHECKS_OPEN, include_in_schema=False)
async def change(request: Request[Any, Any, Any], db: web.Db, reservation_id: FromPath[int]) -> Response[Any]:
    """Change the party, the time, the tables or the details; audited."""
    fields = await web.form_data(request)
    booking = _booking(request, fields)
    version = web.field_int(fields, "version", label="The reservation's version", minimum=1)

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        await services.change(
            session,
            reservation_id,
            booking,
            actor=actor,
            expected_version=version,
            reason=str(fields.get("reason") or ""),
        )
        return _go(request, f"/reservations/{reservation_id}")

    try:
        return await _once(request, db, fields, work)
    except services.SlotFull as full:
        return await _refused_form(request, db, booking, fields, full, action=f"/reservations/{reservation_id}/change")


@post("/reservations/{reservation_id:int}/cancel", permission=Perm.CHECKS_OPEN, include_in_schema=False)
async def cancel(request: Request[Any, Any, Any], db: web.Db, reservation_id: FromPath[int]) -> Response[Any]:
    """Cancel the reservation (with a reason); its tables are free again at once."""
    fields = await web.form_data(request)
    reason = web.field_text(fields, "reason", label="The reason", max_length=services.REASON_MAX_LENGTH)
    version = web.field_int(fields, "version", label="The reservation's version", minimum=1)

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        await services.cancel(session, reservation_id, actor=actor, reason=reason, expected_version=version)
        return _go(request, f"/reservations/{reservation_id}")

    return await _once(request, db, fields, work)


@post("/reservations/{reservation_id:int}/no-show", permission=Perm.CHECKS_OPEN, include_in_schema=False)
async def no_show(request: Request[Any, Any, Any], db: web.Db, reservation_id: FromPath[int]) -> Response[Any]:
    """The party did not come."""
    fields = await web.form_data(request)
    version = web.field_int(fields, "version", label="The reservation's version", minimum=1)

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        await services.mark_no_show(session, reservation_id, actor=actor, expected_version=version)
        return _go(request, f"/reservations/{reservation_id}")

    return await _once(request, db, fields, work)


def _optional_id(fields: Mapping[str, Any], name: str, label: str) -> int | None:
    if fields.get(name) in (None, ""):
        return None
    return web.field_int(fields, name, label=label, minimum=1, maximum=2**31 - 1)


@post("/reservations/{reservation_id:int}/seat", permission=Perm.CHECKS_OPEN, include_in_schema=False)
async def seat(request: Request[Any, Any, Any], db: web.Db, reservation_id: FromPath[int]) -> Response[Any]:
    """The party arrived: their check opens on their table; a server goes to order entry, a host to the floor."""
    fields = await web.form_data(request)
    server_id = _optional_id(fields, "server_id", "The server")
    version = web.field_int(fields, "version", label="The reservation's version", minimum=1)

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        check = await services.seat(session, reservation_id, actor=actor, server_id=server_id, expected_version=version)
        return _go(request, f"/checks/{check.id}" if check.server_id == actor.id else "/floor")

    return await _once(request, db, fields, work)


# ---------------------------------------------------------------------------------------------- the waitlist


@get("/waitlist", permission=Perm.CHECKS_OPEN, include_in_schema=False)
async def waitlist_page(request: Request[Any, Any, Any], db: web.Db) -> Template:
    """Walk-ins waiting, each with their quoted wait, the wait now, and their status link."""
    async with db.read() as session:
        entries = await queries.waiting(session)
        in_line = [e for e in entries if e.status == WaitStatus.WAITING]
        waits = dict(
            zip([e.id for e in in_line], await waitlist.quotes(session, [e.party_size for e in in_line]), strict=True)
        )
        estimates = [waits.get(entry.id, 0) for entry in entries]
        free = [v for v in await orders_queries.table_views(session) if not v.open_check_ids and not v.paid_check_ids]
        servers = await orders_queries.servers(session)
    viewer: Viewer = request.user
    return web.page(
        request,
        "reservations/waitlist.html",
        fragment="reservations/_waitlist.html",
        rows=list(zip(entries, estimates, strict=True)),
        free_tables=[v.table for v in free],
        servers=servers,
        can_order=viewer.can(Perm.ORDERS_ENTER),
        base_url=str(request.base_url).rstrip("/"),
        now=datetime.now(ZoneInfo("UTC")),
        max_party=MAX_PARTY,
    )


@post("/waitlist", permission=Perm.CHECKS_OPEN, include_in_schema=False)
async def join(request: Request[Any, Any, Any], db: web.Db) -> Response[Any]:
    """Put a walk-in party on the list with an honest quoted wait."""
    fields = await web.form_data(request)
    party_size = _party(fields)
    name = web.field_text(fields, "name", label="The name", max_length=NAME_MAX_LENGTH)
    phone = web.field_text(fields, "phone", label="The phone", max_length=PHONE_MAX_LENGTH, required=False)
    notes = web.field_text(fields, "notes", label="Notes", max_length=NOTES_MAX_LENGTH, required=False)
    allergies = web.field_text(fields, "allergies", label="Allergies", max_length=ALLERGIES_MAX_LENGTH, required=False)

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        entry = await waitlist.join_waitlist(
            session, actor=actor, name=name, party_size=party_size, phone=phone, notes=notes, allergies=allergies
        )
        return _go(request, f"/waitlist?joined={entry.id}")

    return await _once(request, db, fields, work)


@post("/waitlist/{entry_id:int}/ready", permission=Perm.CHECKS_OPEN, include_in_schema=False)
async def ready(request: Request[Any, Any, Any], db: web.Db, entry_id: FromPath[int]) -> Response[Any]:
    """Their table is ready: the guest's status page says so."""
    fields = await web.form_data(request)
    table_id = _optional_id(fields, "table_id", "The table")

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        await waitlist.table_ready(session, entry_id, actor=actor, table_id=table_id)
        return _go(request, "/waitlist")

    return await _once(request, db, fields, work)


@post("/waitlist/{entry_id:int}/seat", permission=Perm.CHECKS_OPEN, include_in_schema=False)
async def seat_waiting(request: Request[Any, Any, Any], db: web.Db, entry_id: FromPath[int]) -> Response[Any]:
    """Seat the waiting party at a table: their check opens with their covers."""
    fields = await web.form_data(request)
    table_id = _optional_id(fields, "table_id", "The table")
    if table_id is None:
        raise InvalidInput("Choose the table to seat them at.")
    server_id = _optional_id(fields, "server_id", "The server")
    confirmed = str(fields.get("confirm_hold") or "") in {"1", "on", "true", "yes"}

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        check = await waitlist.seat_waiting(
            session, entry_id, actor=actor, table_id=table_id, server_id=server_id, confirm_hold=confirmed
        )
        return _go(request, f"/checks/{check.id}" if check.server_id == actor.id else "/waitlist")

    return await _once(request, db, fields, work)


@post("/waitlist/{entry_id:int}/leave", permission=Perm.CHECKS_OPEN, include_in_schema=False)
async def leave(request: Request[Any, Any, Any], db: web.Db, entry_id: FromPath[int]) -> Response[Any]:
    """The party left, or is taken off the list."""
    fields = await web.form_data(request)

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        await waitlist.leave_waitlist(session, entry_id, actor=actor)
        return _go(request, "/waitlist")

    return await _once(request, db, fields, work)


@get(
    "/w/{token:str}",
    public=True,
    exclude_from_auth=True,
    exclude_from_csrf=True,
    include_in_schema=False,
)
async def guest_status(request: Request[Any, Any, Any], db: web.Db, token: FromPath[str]) -> Template:
    """The waiting guest's own page (no login; the link is the key): their place, their wait, or "table ready"."""
    if not 16 <= len(token) <= 64:
        raise NotFound("This link is not one the restaurant gave out.")
    async with db.read() as session:
        entry = await queries.entry_by_token(session, token)
        if entry is None:
            raise NotFound("This link is not one the restaurant gave out.")
        waiting = [e for e in await queries.waiting(session) if e.status == WaitStatus.WAITING]
        position = next((i + 1 for i, e in enumerate(waiting) if e.id == entry.id), None)
        ahead = [e.party_size for e in waiting[: (position or 1) - 1]]
        estimate = (
            await waitlist.quote(session, entry.party_size, ahead=ahead) if entry.status == WaitStatus.WAITING else None
        )
        table = await queries.table_names(session, [entry.table_id]) if entry.table_id else ""
    return Template(
        template_name="reservations/status.html",
        context={"entry": entry, "position": position, "estimate": estimate, "table": table},
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


# ---------------------------------------------------------------------------------------------- settings


@get("/manage/reservations", permission=Perm.FLOOR_MANAGE, include_in_schema=False)
async def settings_page(request: Request[Any, Any, Any], db: web.Db) -> Template:
    """How the book runs: hours, slots, the floor's look-ahead, pacing, turn times, combinable tables."""
    async with db.read() as session:
        settings = await queries.book_settings(session)
        turns = await queries.turn_times(session)
        observed = await queries.observed_turn_times(session)
        combos = await queries.combinations(session)
        tables = await queries.tables(session)
    return web.page(
        request,
        "reservations/settings.html",
        settings=settings,
        turns=list(zip(turns, observed, strict=True)),
        combos=combos,
        tables=tables,
    )


def _clock_field(fields: Mapping[str, Any], name: str, label: str) -> time:
    try:
        return time.fromisoformat(str(fields.get(name) or "").strip())
    except ValueError:
        raise InvalidInput(f"{label} must be a time like 17:30.") from None


@post("/manage/reservations/settings", permission=Perm.FLOOR_MANAGE, include_in_schema=False)
async def save_settings(request: Request[Any, Any, Any], db: web.Db) -> Response[Any]:
    """Save the book's settings and turn times."""
    fields = await web.form_data(request)
    sizes = fields.get("turn_party") or []
    minutes = fields.get("turn_minutes") or []
    sizes = sizes if isinstance(sizes, list) else [sizes]
    minutes = minutes if isinstance(minutes, list) else [minutes]
    turns = tuple(
        (
            web.field_int({"v": size}, "v", label="A turn time's party size", minimum=1, maximum=MAX_PARTY),
            web.field_int({"v": mins}, "v", label="A turn time's minutes", minimum=15, maximum=600),
        )
        for size, mins in zip(sizes, minutes, strict=False)
        if str(size).strip() or str(mins).strip()
    )
    new = host_settings.BookSettings(
        slot_minutes=web.field_int(fields, "slot_minutes", label="Slot length", minimum=15, maximum=60),
        first_seating=_clock_field(fields, "first_seating", "The first seating"),
        last_seating=_clock_field(fields, "last_seating", "The last seating"),
        hold_minutes=web.field_int(fields, "hold_minutes", label="The floor's look-ahead", minimum=0, maximum=480),
        max_party_size=web.field_int(fields, "max_party_size", label="Largest online party", minimum=1, maximum=40),
        max_covers_per_slot=web.field_int(
            fields, "max_covers_per_slot", label="Covers per slot", minimum=0, maximum=999
        ),
        turn_times=turns,
    )

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        await host_settings.save_settings(session, new, actor=actor)
        return _go(request, "/manage/reservations?saved=1")

    return await _once(request, db, fields, work)


@post("/manage/reservations/combinations", permission=Perm.FLOOR_MANAGE, include_in_schema=False)
async def add_combination(request: Request[Any, Any, Any], db: web.Db) -> Response[Any]:
    """Allow tables to be pushed together for one party."""
    fields = await web.form_data(request)
    raw = fields.get("table_id") or []
    raw = raw if isinstance(raw, list) else [raw]
    ids = [web.field_int({"v": v}, "v", label="A table", minimum=1, maximum=2**31 - 1) for v in raw]
    seats = _optional_id(fields, "seats", "Seats")

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        await host_settings.add_combination(session, ids, actor=actor, seats=seats)
        return _go(request, "/manage/reservations")

    return await _once(request, db, fields, work)


@post(
    "/manage/reservations/combinations/{combination_id:int}/archive",
    permission=Perm.FLOOR_MANAGE,
    include_in_schema=False,
)
async def archive_combination(
    request: Request[Any, Any, Any], db: web.Db, combination_id: FromPath[int]
) -> Response[Any]:
    """Stop offering a combination."""
    fields = await web.form_data(request)

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        await host_settings.archive_combination(session, combination_id, actor=actor)
        return _go(request, "/manage/reservations")

    return await _once(request, db, fields, work)


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
    waitlist_page,
    join,
    ready,
    seat_waiting,
    leave,
    guest_status,
    settings_page,
    save_settings,
    add_combination,
    archive_combination,
]
