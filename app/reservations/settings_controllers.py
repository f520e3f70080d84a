"""The manager's page for the book: hours, slots, the floor's look-ahead, pacing, turn times, combinable tables."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.params import FromPath
from litestar.response import Template
from msgspec import Meta
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import web
from app.lib.manage import FORM
from app.reservations import host_settings, queries
from app.reservations.controller_helpers import ChosenId, HostForm, go, host_post, once, parse_clock
from app.reservations.models import MAX_PARTY
from app.staff.models import Staff
from app.staff.permissions import Perm

Req = Request[Any, Any, Any]


class SettingsForm(HostForm, kw_only=True):
    """The book's settings as a manager submits them, with a turn time per row (party size up to, minutes)."""

    slot_minutes: Annotated[int, Meta(title="Slot length", ge=15, le=60)]
    first_seating: str = ""
    last_seating: str = ""
    hold_minutes: Annotated[int, Meta(title="The floor's look-ahead", ge=0, le=480)]
    max_party_size: Annotated[int, Meta(title="Largest online party", ge=1, le=40)]
    max_covers_per_slot: Annotated[int, Meta(title="Covers per slot", ge=0, le=999)]
    turn_party: Annotated[list[Annotated[int, Meta(ge=1, le=MAX_PARTY)]], Meta(title="A turn time's party size")] = []
    turn_minutes: Annotated[list[Annotated[int, Meta(ge=15, le=600)]], Meta(title="A turn time's minutes")] = []

    def check(self) -> None:
        self.first_clock()
        self.last_clock()

    def first_clock(self) -> time:
        return parse_clock(self.first_seating, "The first seating must be a time like 17:30.")

    def last_clock(self) -> time:
        return parse_clock(self.last_seating, "The last seating must be a time like 17:30.")

    def settings(self) -> host_settings.BookSettings:
        return host_settings.BookSettings(
            slot_minutes=self.slot_minutes,
            first_seating=self.first_clock(),
            last_seating=self.last_clock(),
            hold_minutes=self.hold_minutes,
            max_party_size=self.max_party_size,
            max_covers_per_slot=self.max_covers_per_slot,
            # Blank cells never reach the form, so a row is its party size and minutes in order.
            turn_times=tuple(zip(self.turn_party, self.turn_minutes, strict=False)),
        )


class CombinationForm(HostForm, kw_only=True):
    """Tables a manager allows to be pushed together, and the seats they make (blank: their seats added up)."""

    table_id: Annotated[list[ChosenId], Meta(title="A table")] = []
    seats: Annotated[ChosenId, Meta(title="Seats")] | None = None


@get("/manage/reservations", permission=Perm.FLOOR_MANAGE, include_in_schema=False)
async def settings_page(request: Req, db: web.Db) -> Template:
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


@host_post("/manage/reservations/settings", permission=Perm.FLOOR_MANAGE)
async def save_settings(request: Req, db: web.Db, data: Annotated[SettingsForm, FORM]) -> Response[Any]:
    """Save the book's settings and turn times."""
    new = data.settings()

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        await host_settings.save_settings(session, new, actor=actor)
        return go(request, "/manage/reservations?saved=1")

    return await once(request, db, data, work)


@host_post("/manage/reservations/combinations", permission=Perm.FLOOR_MANAGE)
async def add_combination(request: Req, db: web.Db, data: Annotated[CombinationForm, FORM]) -> Response[Any]:
    """Allow tables to be pushed together for one party."""

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        await host_settings.add_combination(session, data.table_id, actor=actor, seats=data.seats)
        return go(request, "/manage/reservations")

    return await once(request, db, data, work)


@host_post("/manage/reservations/combinations/{combination_id:int}/archive", permission=Perm.FLOOR_MANAGE)
async def archive_combination(
    request: Req, db: web.Db, combination_id: FromPath[int], data: Annotated[HostForm, FORM]
) -> Response[Any]:
    """Stop offering a combination."""

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        await host_settings.archive_combination(session, combination_id, actor=actor)
        return go(request, "/manage/reservations")

    return await once(request, db, data, work)


ROUTES: list[Any] = [settings_page, save_settings, add_combination, archive_combination]
