"""The waitlist's pages: walk-ins waiting with their quoted waits, joining, a table ready, seating, leaving, and
the waiting guest's own status page."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, get
from litestar.params import FromPath
from litestar.response import Template
from msgspec import Meta
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import web
from app.lib.errors import NotFound
from app.lib.manage import FORM
from app.orders import floor_queries as orders_floor
from app.orders import queries as orders_queries
from app.reservations import queries, waitlist
from app.reservations.controller_helpers import ChosenId, HostForm, PartyForm, go, host_post, once
from app.reservations.models import MAX_PARTY, WaitStatus
from app.staff.auth import Viewer
from app.staff.models import Staff
from app.staff.permissions import Perm

Req = Request[Any, Any, Any]


class ReadyForm(HostForm, kw_only=True):
    """Their table is ready, perhaps naming it."""

    table_id: Annotated[ChosenId, Meta(title="The table")] | None = None


class SeatWaitingForm(HostForm, kw_only=True):
    """Seat a waiting party: the table, their server, and whether the host saw the table is held for a booking."""

    table_id: Annotated[ChosenId, Meta(title="The table")] | None = None
    server_id: Annotated[ChosenId, Meta(title="The server")] | None = None
    confirm_hold: str = ""

    def check(self) -> None:
        if self.table_id is None:
            raise ValueError("Choose the table to seat them at.")

    @property
    def hold_confirmed(self) -> bool:
        return self.confirm_hold in {"1", "on", "true", "yes"}


@get("/waitlist", permission=Perm.CHECKS_OPEN, include_in_schema=False)
async def waitlist_page(request: Req, db: web.Db) -> Template:
    """Walk-ins waiting, each with their quoted wait, the wait now, and their status link."""
    async with db.read() as session:
        entries = await queries.waiting(session)
        in_line = [e for e in entries if e.status == WaitStatus.WAITING]
        waits = dict(
            zip([e.id for e in in_line], await waitlist.quotes(session, [e.party_size for e in in_line]), strict=True)
        )
        estimates = [waits.get(entry.id, 0) for entry in entries]
        free = [v for v in await orders_floor.table_views(session) if not v.open_check_ids and not v.paid_check_ids]
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


@host_post("/waitlist")
async def join(request: Req, db: web.Db, data: Annotated[PartyForm, FORM]) -> Response[Any]:
    """Put a walk-in party on the list with an honest quoted wait."""

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        entry = await waitlist.join_waitlist(
            session,
            actor=actor,
            name=data.name,
            party_size=data.party_size,
            phone=data.phone,
            notes=data.notes,
            allergies=data.allergies,
        )
        return go(request, f"/waitlist?joined={entry.id}")

    return await once(request, db, data, work)


@host_post("/waitlist/{entry_id:int}/ready")
async def ready(request: Req, db: web.Db, entry_id: FromPath[int], data: Annotated[ReadyForm, FORM]) -> Response[Any]:
    """Their table is ready: the guest's status page says so."""

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        await waitlist.table_ready(session, entry_id, actor=actor, table_id=data.table_id)
        return go(request, "/waitlist")

    return await once(request, db, data, work)


@host_post("/waitlist/{entry_id:int}/seat")
async def seat_waiting(
    request: Req, db: web.Db, entry_id: FromPath[int], data: Annotated[SeatWaitingForm, FORM]
) -> Response[Any]:
    """Seat the waiting party at a table: their check opens with their covers."""
    table_id = data.table_id
    assert table_id is not None  # the form refuses a seating without a table

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        check = await waitlist.seat_waiting(
            session,
            entry_id,
            actor=actor,
            table_id=table_id,
            server_id=data.server_id,
            confirm_hold=data.hold_confirmed,
        )
        return go(request, f"/checks/{check.id}" if check.server_id == actor.id else "/waitlist")

    return await once(request, db, data, work)


@host_post("/waitlist/{entry_id:int}/leave")
async def leave(request: Req, db: web.Db, entry_id: FromPath[int], data: Annotated[HostForm, FORM]) -> Response[Any]:
    """The party left, or is taken off the list."""

    async def work(session: AsyncSession, actor: Staff) -> Response[Any]:
        await waitlist.leave_waitlist(session, entry_id, actor=actor)
        return go(request, "/waitlist")

    return await once(request, db, data, work)


@get(
    "/w/{token:str}",
    public=True,
    exclude_from_auth=True,
    exclude_from_csrf=True,
    include_in_schema=False,
)
async def guest_status(request: Req, db: web.Db, token: FromPath[str]) -> Template:
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


ROUTES: list[Any] = [waitlist_page, join, ready, seat_waiting, leave, guest_status]
