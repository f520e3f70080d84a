"""The servers' floor view: every floor drawn as it stands, tables coloured by state."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template

from app.floor import queries
from app.lib import web
from app.lib.errors import NotFound
from app.staff.permissions import Perm


@get("/floor", permission=Perm.FLOOR_VIEW, include_in_schema=False)
async def floor_page(request: Request[Any, Any, Any], db: web.Db, floor: FromQuery[int | None] = None) -> Template:
    """Each floor drawn as it stands."""
    async with db.read() as session:
        floors = await queries.floors(session)
        if not floors:
            raise NotFound("No floors are set up yet; a manager adds them under Manage.")
        current = next((f for f in floors if f.id == floor), floors[0]) if floor else floors[0]
        if floor and current.id != floor:
            raise NotFound("No such floor.")
        tables = await queries.tables_on(session, current.id or 0)
    return web.page(
        request, "floor/floor.html", fragment="floor/_plan.html", floors=floors, current=current, tables=tables
    )


ROUTES: list[Any] = [floor_page]
