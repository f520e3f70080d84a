"""Bookings over the JSON API (`/api/v1/reservations`), for a booking site: read a day's free times, book, read a
booking back, cancel it. Every write needs an `Idempotency-Key` header, so a site that retries books once."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request, Response, get, post
from litestar.params import JSONBody, QueryParameter
from sqlmodel.ext.asyncio.session import AsyncSession

from app.api.controllers import PREFIX, READ, WRITE, IdempotencyHeader, IdPath
from app.lib import web
from app.lib.errors import InvalidInput, NotFound
from app.lib.idempotency import StoredResponse, check_key, fingerprint, run_once
from app.lib.settings import Settings
from app.reservations import queries, services
from app.reservations.calculations import turn_minutes
from app.reservations.models import (
    ALLERGIES_MAX_LENGTH,
    MAX_PARTY,
    NAME_MAX_LENGTH,
    NOTES_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    Reservation,
    ReservationSource,
)
from app.staff.auth import ApiClient

BOOKING_TAGS: Final = ["Reservations"]
READ_BOOKINGS: Final[dict[str, Any]] = {**READ, "tags": BOOKING_TAGS}
WRITE_BOOKINGS: Final[dict[str, Any]] = {**WRITE, "tags": BOOKING_TAGS}
DayQuery = Annotated[str, QueryParameter(max_length=10, description="The day, YYYY-MM-DD, in the restaurant's time.")]
PartyQuery = Annotated[int, QueryParameter(ge=1, le=MAX_PARTY, description="How many guests.")]


class SlotOut(msgspec.Struct):
    """One bookable time and whether a table is free for the party then."""

    starts_at: str
    free: bool


class AvailabilityOut(msgspec.Struct):
    """A day's bookable times for one party size."""

    day: str
    party_size: int
    turn_minutes: int
    slots: list[SlotOut]


class ReservationIn(msgspec.Struct, forbid_unknown_fields=True):
    """A booking: `starts_at` in the restaurant's local time (2026-12-24T19:30) or with its offset."""

    party_size: Annotated[int, msgspec.Meta(ge=1, le=MAX_PARTY)]
    starts_at: Annotated[str, msgspec.Meta(min_length=16, max_length=32)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=NAME_MAX_LENGTH)]
    phone: Annotated[str, msgspec.Meta(max_length=PHONE_MAX_LENGTH)] = ""
    notes: Annotated[str, msgspec.Meta(max_length=NOTES_MAX_LENGTH)] = ""
    allergies: Annotated[str, msgspec.Meta(max_length=ALLERGIES_MAX_LENGTH)] = ""


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    """Why the guest cancelled (optional)."""

    reason: Annotated[str, msgspec.Meta(max_length=services.REASON_MAX_LENGTH)] = ""


class ReservationOut(msgspec.Struct):
    """A booking as the restaurant holds it."""

    id: int
    status: str
    party_size: int
    starts_at: str
    ends_at: str
    name: str
    phone: str
    notes: str
    allergies: str
    tables: str


def _zone(request: Request[Any, Any, Any]) -> ZoneInfo:
    settings: Settings = request.app.state.settings
    return ZoneInfo(settings.timezone)


def _out(request: Request[Any, Any, Any], reservation: Reservation, tables: str) -> ReservationOut:
    zone = _zone(request)
    return ReservationOut(
        id=reservation.id or 0,
        status=reservation.status.value,
        party_size=reservation.party_size,
        starts_at=reservation.starts_at.astimezone(zone).isoformat(),
        ends_at=reservation.ends_at.astimezone(zone).isoformat(),
        name=reservation.name,
        phone=reservation.phone,
        notes=reservation.notes,
        allergies=reservation.allergies,
        tables=tables,
    )


def _when(request: Request[Any, Any, Any], raw: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput("starts_at must be a local date and time like 2026-12-24T19:30.") from None
    return moment.replace(tzinfo=_zone(request)) if moment.tzinfo is None else moment


async def _once(request: Request[Any, Any, Any], db: web.Db, key: str | None, body: Any, work: Any) -> Response[Any]:
    if not key:
        raise InvalidInput(
            "Send an Idempotency-Key header with every booking change, so a retry changes nothing twice."
        )
    client: ApiClient = request.user
    result = await run_once(
        db,
        key=check_key(key),
        scope=f"api:{client.token_id}",
        print_=fingerprint(request.method, request.url.path, {"body": json.dumps(body, sort_keys=True)}),
        work=work,
    )
    return Response(content=json.loads(result.body), status_code=result.status_code)


@get(f"{PREFIX}/reservations/availability", **READ_BOOKINGS)
async def availability(
    request: Request[Any, Any, Any], db: web.Db, day: DayQuery, party_size: PartyQuery
) -> AvailabilityOut:
    """Every bookable time of a day for a party, and whether a table is free for it then."""
    try:
        chosen = dt.date.fromisoformat(day)
    except ValueError:
        raise InvalidInput("day must be a date like 2026-12-24.") from None
    zone = _zone(request)
    async with db.read() as session:
        slots = await queries.availability(session, chosen, party_size)
        turns = await queries.turn_times(session)
    return AvailabilityOut(
        day=chosen.isoformat(),
        party_size=party_size,
        turn_minutes=turn_minutes(party_size, turns),
        slots=[SlotOut(s.at.astimezone(zone).isoformat(), s.free) for s in slots],
    )


@post(f"{PREFIX}/reservations", status_code=201, **WRITE_BOOKINGS)
async def book(
    request: Request[Any, Any, Any],
    db: web.Db,
    data: JSONBody[ReservationIn],
    idempotency_key: IdempotencyHeader = None,
) -> Response[Any]:
    """Book a table. A full time answers 409 with `next_free`, the nearest times that have a table."""
    booking = services.Booking(
        party_size=data.party_size,
        starts_at=_when(request, data.starts_at),
        name=data.name,
        phone=data.phone,
        notes=data.notes,
        allergies=data.allergies,
    )

    async def work(session: AsyncSession) -> StoredResponse:
        house = await services.house_staff(session)
        reservation = await services.book(session, booking, actor=house, source=ReservationSource.API)
        tables = await queries.table_names(session, reservation.tables)
        return StoredResponse(201, msgspec.json.encode(_out(request, reservation, tables)).decode(), {})

    return await _once(request, db, idempotency_key, msgspec.to_builtins(data), work)


@get(f"{PREFIX}/reservations/{{reservation_id:int}}", **READ_BOOKINGS)
async def get_reservation(request: Request[Any, Any, Any], db: web.Db, reservation_id: IdPath) -> ReservationOut:
    """One booking, as it stands."""
    async with db.read() as session:
        reservation = await queries.reservation(session, reservation_id)
        if reservation is None:
            raise NotFound(f"There is no reservation {reservation_id}.")
        tables = await queries.table_names(session, reservation.tables)
    return _out(request, reservation, tables)


@post(f"{PREFIX}/reservations/{{reservation_id:int}}/cancel", status_code=200, **WRITE_BOOKINGS)
async def cancel(
    request: Request[Any, Any, Any],
    db: web.Db,
    reservation_id: IdPath,
    data: JSONBody[CancelIn],
    idempotency_key: IdempotencyHeader = None,
) -> Response[Any]:
    """Cancel a booking; its table is free again at once."""

    async def work(session: AsyncSession) -> StoredResponse:
        reservation = await services.cancel(
            session, reservation_id, actor=None, reason=data.reason or "Cancelled online"
        )
        tables = await queries.table_names(session, reservation.tables)
        return StoredResponse(200, msgspec.json.encode(_out(request, reservation, tables)).decode(), {})

    return await _once(request, db, idempotency_key, msgspec.to_builtins(data), work)


ROUTES: list[Any] = [availability, book, get_reservation, cancel]
