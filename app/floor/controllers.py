"""Manager pages for floors and the floor plan editor."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from msgspec import Meta

from app.floor import geometry, queries, services
from app.floor.geometry import Geometry
from app.floor.models import DiningTable, TableShape
from app.floor.services import FloorFields, TableFields
from app.lib import forms, manage, web
from app.lib.errors import InvalidInput, NotFound
from app.staff.auth import Viewer
from app.staff.permissions import Perm

Req = Request[Any, Any, Any]
SHAPE_LABELS = {
    TableShape.SQUARE: "Square",
    TableShape.ROUND: "Round",
    TableShape.RECTANGLE: "Rectangle",
    TableShape.BAR_SEAT: "Bar seat",
}


def _actor(request: Req) -> int | None:
    viewer: Viewer = request.user
    return viewer.staff.id


class FloorForm(forms.Form):
    """A floor as a manager submits it; a blank order or plan size takes the usual one."""

    name: Annotated[str, Meta(title="Name"), forms.Text(max_length=services.FLOOR_NAME_MAX)]
    sort_order: Annotated[int, Meta(title="Order", ge=0, le=services.SORT_MAX)] = 0
    width: Annotated[int, Meta(title="Plan width", ge=services.PLAN_MIN, le=services.PLAN_MAX)] = 1000
    height: Annotated[int, Meta(title="Plan depth", ge=services.PLAN_MIN, le=services.PLAN_MAX)] = 700

    def fields(self) -> FloorFields:
        return FloorFields(name=self.name, sort_order=self.sort_order, width=self.width, height=self.height)


class PlaceForm(forms.Form, kw_only=True):
    """Where a table stands, as the editor sends it: all five numbers, or none when the form does not place it."""

    x: Annotated[int, Meta(title="Left")] | None = None
    y: Annotated[int, Meta(title="Top")] | None = None
    width: Annotated[int, Meta(title="Width")] | None = None
    height: Annotated[int, Meta(title="Height")] | None = None
    rotation: Annotated[int, Meta(title="Rotation")] | None = None

    def check(self) -> None:
        self.geometry()

    def geometry(self) -> Geometry | None:
        """The table's box and rotation; None when the form does not place the table."""
        values = {"x": self.x, "y": self.y, "width": self.width, "height": self.height, "rotation": self.rotation}
        if all(value is None for value in values.values()):
            return None
        labels = {"x": "Left", "y": "Top", "width": "Width", "height": "Height", "rotation": "Rotation"}
        for name, value in values.items():
            if value is None:  # a blank box among filled ones
                raise ValueError(f"{labels[name]} must be a whole number.")
        return Geometry(**{name: value or 0 for name, value in values.items()})


class TableForm(PlaceForm, kw_only=True):
    """A table as the inspector submits it; blank seats take the shape's usual number, a blank place the first free
    spot."""

    name: Annotated[str, Meta(title="Table name"), forms.Text(max_length=services.TABLE_NAME_MAX)]
    shape: str = ""
    seats: Annotated[int, Meta(title="Seats", ge=1, le=services.SEATS_MAX)] | None = None

    def check(self) -> None:
        self.table_shape()
        super().check()

    def table_shape(self) -> TableShape:
        try:
            return TableShape(self.shape)
        except ValueError:
            raise ValueError("Shape must be square, round, rectangle or bar seat.") from None

    def fields(self) -> TableFields:
        shape = self.table_shape()
        seats = self.seats if self.seats is not None else services.DEFAULT_SEATS[shape]
        return TableFields(name=self.name, shape=shape, seats=seats)


# Floors -----------------------------------------------------------------------------------------


async def _floors_page(request: Req, db: web.Db, *, flash: str | None = None) -> Template:
    async with db.read() as session:
        rows = await queries.floor_rows(session)
    return web.page(request, "floor/editor_floors.html", fragment="floor/_editor_floors.html", rows=rows, flash=flash)


async def _show_floors(request: Req, db: web.Db, flash: str | None) -> Template:
    return await _floors_page(request, db, flash=flash)


FLOORS: manage.Managed[FloorFields] = manage.Managed(
    path="/manage/floors",
    name="floor",
    permission=Perm.FLOOR_MANAGE,
    show=_show_floors,
    actor=_actor,
    form=FloorForm,
    create=lambda session, fields, actor: services.create_floor(session, fields, actor_id=actor),
    update=lambda session, floor_id, fields, actor: services.update_floor(session, floor_id, fields, actor_id=actor),
    archive=lambda session, floor_id, actor: services.archive_floor(session, floor_id, actor_id=actor),
    restore=lambda session, floor_id, actor: services.restore_floor(session, floor_id, actor_id=actor),
    messages={
        "create": "Added {0.name}. Open its plan to place tables.",
        "update": "Saved {0.name}.",
        "archive": "Archived {0.name}.",
        "restore": "Restored {0.name}.",
    },
    list_doc="Floors and sections: their order, plan size and tables.",
)


# The plan editor ---------------------------------------------------------------------------------


async def _editor(
    request: Req, db: web.Db, floor_id: int, *, selected: int | None = None, flash: str | None = None
) -> Template:
    async with db.read() as session:
        floor = await queries.floor(session, floor_id)
        if floor is None:
            raise NotFound("No such floor.")
        tables = await queries.tables_on(session, floor_id)
        archived_tables = await queries.archived_tables_on(session, floor_id)
        floors = await queries.floors(session)
    current = next((t for t in tables if t.id == selected), None)
    # The address names the selected table, so a reload comes back to it.
    address = f"/manage/floors/{floor_id}/editor" + (f"?table={current.id}" if current else "")
    return web.page(
        request,
        "floor/editor.html",
        fragment="floor/_editor.html",
        headers={"HX-Replace-Url": address},
        floor=floor,
        floors=floors,
        tables=tables,
        archived_tables=archived_tables,
        selected=current,
        suggested_name=services.suggest_table_name([t.name for t in tables]),
        shapes=SHAPE_LABELS,
        default_seats=services.DEFAULT_SEATS,
        grid=geometry.GRID,
        flash=flash,
    )


@get("/manage/floors/{floor_id:int}/editor", permission=Perm.FLOOR_MANAGE, include_in_schema=False)
async def editor_page(
    request: Req, db: web.Db, floor_id: FromPath[int], table: FromQuery[int | None] = None
) -> Template:
    """The floor drawn at true proportions, to add, drag, resize, rotate, rename and archive tables."""
    return await _editor(request, db, floor_id, selected=table)


@post(
    "/manage/floors/{floor_id:int}/tables",
    permission=Perm.FLOOR_MANAGE,
    include_in_schema=False,
    before_request=forms.drop_blanks,
)
async def table_add(
    request: Req, db: web.Db, floor_id: FromPath[int], data: Annotated[TableForm, manage.FORM]
) -> Template:
    """Place a new table where the form says, or at the first free spot of the plan."""
    async with db.write() as session:
        table = await services.add_table(
            session, floor_id, data.fields(), geometry=data.geometry(), actor_id=_actor(request)
        )
    return await _editor(request, db, floor_id, selected=table.id, flash=f"Added table {table.name}.")


@post(
    "/manage/floors/{floor_id:int}/tables/{table_id:int}",
    permission=Perm.FLOOR_MANAGE,
    include_in_schema=False,
    before_request=forms.drop_blanks,
)
async def table_update(
    request: Req, db: web.Db, floor_id: FromPath[int], table_id: FromPath[int], data: Annotated[TableForm, manage.FORM]
) -> Template:
    """Save a table's name, shape, seats and placement from the inspector."""
    async with db.write() as session:
        table = await services.update_table(
            session, floor_id, table_id, data.fields(), geometry=data.geometry(), actor_id=_actor(request)
        )
    return await _editor(request, db, floor_id, selected=table_id, flash=f"Saved table {table.name}.")


@post(
    "/manage/floors/{floor_id:int}/tables/{table_id:int}/place",
    permission=Perm.FLOOR_MANAGE,
    include_in_schema=False,
    status_code=200,
    before_request=forms.drop_blanks,
)
async def table_place(
    request: Req, db: web.Db, floor_id: FromPath[int], table_id: FromPath[int], data: Annotated[PlaceForm, manage.FORM]
) -> dict[str, Any]:
    """Move, resize or rotate a table (what a drag saves); answers where the table now stands."""
    geometry = data.geometry()
    if geometry is None:
        raise InvalidInput("Say where the table goes: left, top, width, height and rotation.")
    async with db.write() as session:
        table = await services.place_table(session, floor_id, table_id, geometry, actor_id=_actor(request))
    return _placed(table)


def _placed(table: DiningTable) -> dict[str, Any]:
    return {
        "id": table.id,
        "name": table.name,
        "x": table.x,
        "y": table.y,
        "width": table.width,
        "height": table.height,
        "rotation": table.rotation,
    }


@post(
    "/manage/floors/{floor_id:int}/tables/{table_id:int}/archive", permission=Perm.FLOOR_MANAGE, include_in_schema=False
)
async def table_archive(request: Req, db: web.Db, floor_id: FromPath[int], table_id: FromPath[int]) -> Template:
    """Take a table off the plan."""
    async with db.write() as session:
        table = await services.archive_table(session, floor_id, table_id, actor_id=_actor(request))
    return await _editor(request, db, floor_id, flash=f"Archived table {table.name}.")


@post(
    "/manage/floors/{floor_id:int}/tables/{table_id:int}/restore", permission=Perm.FLOOR_MANAGE, include_in_schema=False
)
async def table_restore(request: Req, db: web.Db, floor_id: FromPath[int], table_id: FromPath[int]) -> Template:
    """Put an archived table back where it stood."""
    async with db.write() as session:
        table = await services.restore_table(session, floor_id, table_id, actor_id=_actor(request))
    return await _editor(request, db, floor_id, selected=table_id, flash=f"Restored table {table.name}.")


ROUTES: list[Any] = [
    *FLOORS.routes(),
    editor_page,
    table_add,
    table_update,
    table_place,
    table_archive,
    table_restore,
]
