"""The servers' floor view: every floor drawn as it stands, tables coloured by state, updated live."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, WebSocket, get, websocket
from litestar.channels import ChannelsPlugin
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from markupsafe import Markup
from sqlmodel.ext.asyncio.session import AsyncSession

from app.floor import queries as plan_queries
from app.floor.models import DiningTable, Floor
from app.lib import revisions, web
from app.lib.clock import utcnow
from app.lib.errors import Conflict, NotFound
from app.lib.settings import Settings
from app.orders import floor_queries, live, queries
from app.orders.calculations import TableState
from app.orders.controller_helpers import _drawn
from app.orders.models import Check
from app.staff.auth import Viewer
from app.staff.permissions import Perm

TABLE_TEMPLATE = "orders/_floor_table.html"
COVER_CHOICES = 8
TABLE_HOLDS = "orders.table_holds"
"""Where the book (which sits above orders) registers its lookup of tables held for parties due soon."""


@dataclass(frozen=True)
class TableHold:
    """A table held for a booked party due soon (who, how many, when, whether late), or joined to a seated one."""

    reservation_id: int
    name: str
    party_size: int
    starts_at: datetime
    late: bool = False
    seated: bool = False
    """The party is seated at the table beside this one, pushed together with it."""


HoldLookup = Callable[[AsyncSession, Sequence[int] | None], Awaitable[dict[int, TableHold]]]


async def table_holds(session: AsyncSession, table_ids: Sequence[int] | None = None) -> dict[int, TableHold]:
    """Tables held for a party due soon, by table id (none when no book is wired)."""
    lookup: HoldLookup | None = session.info.get(TABLE_HOLDS)
    return await lookup(session, table_ids) if lookup is not None else {}


async def refuse_held_table(session: AsyncSession, table: DiningTable, *, confirmed: bool, booked: bool = True) -> None:
    """Seating a walk-in at a table held for a party due soon needs the host to confirm it, knowingly. `booked`
    False: the table's lock found no booking that could hold it (`seating.TABLE_BOOKED`), so the book is not read."""
    if confirmed or not booked:
        return
    hold = (await table_holds(session, [table.id or 0])).get(table.id or 0)
    if hold is None:
        return
    settings = session.info.get("settings")
    zone = ZoneInfo(settings.timezone if isinstance(settings, Settings) else Settings().timezone)
    if hold.seated:
        raise Conflict(
            f"Table {table.name} is pushed together with the table where {hold.name}'s party of "
            f'{hold.party_size} is seated. Tick "Seat a walk-in anyway" to seat here regardless.'
        )
    raise Conflict(
        f"Table {table.name} is held for {hold.name} (party of {hold.party_size}) at "
        f'{hold.starts_at.astimezone(zone):%H:%M}. Tick "Seat a walk-in anyway" to seat here regardless.'
    )


async def _current_floor(session: AsyncSession, floor: int | None) -> tuple[list[Floor], Floor]:
    floors = await plan_queries.floors(session)
    return floors, _shown(floors, floor)


def _shown(floors: list[Floor], floor: int | None) -> Floor:
    """The floor asked for among the live ones, else the first; refused when there is none."""
    if not floors:
        raise NotFound("No floors are set up yet; a manager adds them under Manage.")
    if floor is None:
        return floors[0]
    current = next((f for f in floors if f.id == floor), None)
    if current is None:
        raise NotFound("No such floor; pick one of the tabs.")
    return current


def _table_context(viewer: Viewer) -> dict[str, Any]:
    return {"me": viewer.staff.id, "can_order": viewer.can(Perm.ORDERS_ENTER), "now": utcnow()}


@get("/floor", permission=Perm.FLOOR_VIEW, include_in_schema=False)
async def floor_page(
    request: Request[Any, Any, Any], db: web.Db, floor: FromQuery[int | None] = None, mine: FromQuery[bool] = False
) -> Template:
    """Each floor drawn as it stands, with open tabs and takeouts beside it."""
    # Tablets go back to the floor after every order: one statement reads every check the floor shows with the
    # floor plan's revision, and the plan (floors and tables) is read again only when it changed.
    async with db.read(snapshot=False) as session:
        shown = await floor_queries.floor_page(session, revisions.kept(db.kept, "floor plan"), floor)
        current = _shown(shown.floors, floor)
    context = _table_context(request.user)
    return web.page(
        request,
        "floor/floor.html",
        fragment="floor/_plan.html",
        floors=shown.floors,
        current=current,
        tables=shown.tables,
        drawn=_free_tables(request, shown, current, context),
        tabs=shown.tabs,
        mine=mine,
        # The tables held for parties due soon come with the plan the tablet fetches as its live link opens
        # (/floor/tables, a moment after this page), so going back to the floor costs no more than it did.
        holds={},
        **context,
    )


def _free_tables(
    request: Request[Any, Any, Any], shown: floor_queries.FloorPage, current: Floor, context: dict[str, Any]
) -> dict[int, Markup]:
    """The free tables of the page, drawn once per floor plan revision and kept with the plan: a free table is
    drawn from the plan alone (and from whether the viewer may take orders, which decides where it leads)."""
    if shown.plan is None:
        return {}
    drawn: dict[int, Markup] = {}
    for view in shown.tables:
        if view != floor_queries.TableView(view.table, TableState.FREE):
            continue  # anything on it: drawn as it stands
        key = (view.table.id, current.id, bool(context["can_order"]))
        html = shown.plan.drawn.get(key)
        if html is None:
            html = _drawn(request.app, TABLE_TEMPLATE, view=view, current=current, holds={}, **context)
            shown.plan.drawn[key] = html
        drawn[view.table.id or 0] = html
    return drawn


@get("/floor/tables", permission=Perm.FLOOR_VIEW, include_in_schema=False)
async def floor_tables(request: Request[Any, Any, Any], db: web.Db, floor: FromQuery[int]) -> Template:
    """Every table of one floor as it stands now; a tablet reloads this whenever its live link (re)opens."""
    async with db.read() as session:
        _, current = await _current_floor(session, floor)
        tables = await floor_queries.table_views(session, floor_id=current.id or 0)
        holds = await table_holds(session, [t.table.id or 0 for t in tables])
    return Template(
        template_name="orders/_floor_tables.html",
        context={"current": current, "tables": tables, "holds": holds, **_table_context(request.user)},
    )


@websocket("/floor/live", permission=Perm.FLOOR_VIEW, include_in_schema=False)
async def floor_live(socket: WebSocket[Any, Any, Any], db: web.Db, floor: FromQuery[int]) -> None:
    """Redrawn tables of one floor, as HTML that replaces each table by id, whenever a check changes."""
    channels: ChannelsPlugin = socket.app.state.channels
    viewer: Viewer = socket.user
    engine = socket.app.template_engine
    assert engine is not None, "the app renders templates"
    template = engine.get_template(TABLE_TEMPLATE)
    async with db.read() as session:
        current = await session.get(Floor, floor)
    if current is None:
        await socket.close(code=4404, reason="no such floor")
        return

    async def render(change: live.Change) -> str | None:
        if change.everything:
            async with db.read() as session:
                views = await floor_queries.table_views(session, floor_id=floor)
                holds = await table_holds(session, [v.table.id or 0 for v in views])
        elif change.tables:
            async with db.read() as session:
                views = await floor_queries.table_views(session, floor_id=floor, table_ids=sorted(change.tables))
                holds = await table_holds(session, [v.table.id or 0 for v in views])
        else:
            return None
        context = _table_context(viewer)
        return "".join(template.render(view=view, current=current, holds=holds, **context) for view in views) or None

    await live.stream(socket, channels, live.floor_channel(floor), render, everything=live.Change.all())


@get("/tables/{table_id:int}", permission=Perm.FLOOR_VIEW, include_in_schema=False)
async def table_sheet(request: Request[Any, Any, Any], db: web.Db, table_id: FromPath[int]) -> Template:
    """What a tap on a table offers: seat it, open one of its checks, or clear it once paid."""
    async with db.read() as session:
        table = await session.get(DiningTable, table_id)
        if table is None or table.archived_at is not None:
            raise NotFound("There is no such table on the floor plan; reload the floor.")
        views = await floor_queries.table_views(session, table_ids=[table_id])
        checks = [await session.get(Check, check_id) for check_id in views[0].open_check_ids] if views else []
        servers = await queries.servers(session)
        hold = (await table_holds(session, [table_id])).get(table_id)
    viewer: Viewer = request.user
    return web.page(
        request,
        "orders/table.html",
        fragment="orders/_table_sheet.html",
        table=table,
        view=views[0] if views else None,
        checks=[c for c in checks if c is not None],
        servers=servers,
        hold=hold,
        cover_choices=list(range(1, max(COVER_CHOICES, table.seats) + 1)),
        **_table_context(viewer),
    )


ROUTES: list[Any] = [floor_page, floor_tables, floor_live, table_sheet]
