"""Floor commands: floors (rooms or sections) and the tables a manager places on their plans.

Positions and sizes are plan units (the floor is `width` x `height` of them) on a 10-unit grid.
A table's stored box is its unrotated box and must lie inside the plan; rotation turns it about its
centre. Tables on one floor may touch but never overlap (round tables are drawn as the ellipse they
are, rotated ones as rotated). Every change is audited with the record before and after; nothing is
ever deleted. The plan's pure geometry (the grid, boxes, outlines, overlaps) lives in geometry.py.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Final

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.floor.geometry import Geometry, check_geometry, free_spot, placed, tables_overlap
from app.floor.models import DiningTable, Floor, TableShape
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.lib.events import DomainEvent, emit
from app.lib.inputs import clean_text, whole_number
from app.lib.sql import is_postgres

PLAN_MIN, PLAN_MAX = 200, 5000
SEATS_MAX: Final = 40
FLOOR_NAME_MAX: Final = 60
TABLE_NAME_MAX: Final = 20
SORT_MAX: Final = 9999
DEFAULT_SIZE: Final[dict[TableShape, tuple[int, int]]] = {
    TableShape.SQUARE: (80, 80),
    TableShape.ROUND: (90, 90),
    TableShape.RECTANGLE: (160, 80),
    TableShape.BAR_SEAT: (50, 50),
}
DEFAULT_SEATS: Final[dict[TableShape, int]] = {
    TableShape.SQUARE: 4,
    TableShape.ROUND: 4,
    TableShape.RECTANGLE: 6,
    TableShape.BAR_SEAT: 1,
}
_NUMBERED: Final = re.compile(r"(?P<prefix>.*?)(?P<number>[0-9]+)")


# Events ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FloorPlanChanged(DomainEvent):
    """A floor's plan changed (a table added, moved, renamed, archived...): floor views redraw it."""

    name: ClassVar[str] = "floor.plan_changed"
    floor_id: int


@dataclass(frozen=True)
class TableArchived(DomainEvent):
    """A table left the floor plan. Subscribers may refuse (raise) while it still has an open check."""

    name: ClassVar[str] = "floor.table_archived"
    table_id: int
    floor_id: int


@dataclass(frozen=True)
class FloorArchived(DomainEvent):
    """A floor (with every table on it) left service. Subscribers may refuse (raise) while tables are in use."""

    name: ClassVar[str] = "floor.floor_archived"
    floor_id: int
    table_ids: tuple[int, ...]


# What a manager submits ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FloorFields:
    """A floor: its name, place among the floors and the size of its plan."""

    name: str
    sort_order: int = 0
    width: int = 1000
    height: int = 700


@dataclass(frozen=True)
class TableFields:
    """What a table is: name, shape and seats."""

    name: str
    shape: TableShape
    seats: int


# Names -------------------------------------------------------------------------------------------


def suggest_table_name(names: Sequence[str]) -> str:
    """The next name in the floor's own numbering: after 1..22 comes 23, after P1..P10 comes P11."""
    taken = {n.lower() for n in names}
    numbered = [m for m in (_NUMBERED.fullmatch(n) for n in names) if m]
    if numbered:
        prefix = Counter(m.group("prefix") for m in numbered).most_common(1)[0][0]
        number = max(int(m.group("number")) for m in numbered if m.group("prefix") == prefix) + 1
    else:
        prefix, number = "", 1
    while f"{prefix}{number}".lower() in taken:
        number += 1
    return f"{prefix}{number}"[:TABLE_NAME_MAX]


# Shared checks -----------------------------------------------------------------------------------


async def _floor(session: AsyncSession, floor_id: int, *, live: bool = False) -> Floor:
    # Locking the floor row serialises every change to its plan on PostgreSQL (names stay unique).
    query = select(Floor).where(Floor.id == floor_id)
    if is_postgres(session):
        query = query.with_for_update()
    floor = (await session.exec(query)).first()
    if floor is None:
        raise NotFound("No such floor.")
    if live and floor.archived_at is not None:
        raise Conflict(f"“{floor.name}” is archived; restore it before changing its plan.")
    return floor


async def _table(session: AsyncSession, floor: Floor, table_id: int) -> DiningTable:
    query = select(DiningTable).where(DiningTable.id == table_id, DiningTable.floor_id == floor.id)
    if is_postgres(session):
        query = query.with_for_update()
    table = (await session.exec(query)).first()
    if table is None:
        raise NotFound(f"No such table on {floor.name}.")
    return table


def _snapshot(row: Floor | DiningTable) -> dict[str, Any]:
    return row.model_dump(mode="json")


def _geometry(table: DiningTable) -> Geometry:
    return Geometry(table.x, table.y, table.width, table.height, table.rotation)


async def _live_tables(session: AsyncSession, floor_id: int) -> list[DiningTable]:
    rows = await session.exec(
        select(DiningTable).where(DiningTable.floor_id == floor_id, col(DiningTable.archived_at).is_(None))
    )
    return list(rows.all())


async def _changed(session: AsyncSession, floor_id: int) -> None:
    await emit(session, FloorPlanChanged(floor_id))


def _listed(names: Sequence[str]) -> str:
    """'table 5', 'tables 5 and 6', 'tables 5, 6, 7 and 2 more'."""
    shown = [*names[:3], f"{len(names) - 3} more"] if len(names) > 3 else list(names)
    if len(shown) == 1:
        return f"table {shown[0]}"
    return "tables " + ", ".join(shown[:-1]) + " and " + shown[-1]


async def _overlapped(
    session: AsyncSession, floor: Floor, geometry: Geometry, shape: TableShape, *, table_id: int | None
) -> list[str]:
    """The names of the live tables of the floor that a table placed so would stand on."""
    placed_at = (geometry, shape)
    return sorted(
        (
            t.name
            for t in await _live_tables(session, floor.id or 0)
            if t.id != table_id and tables_overlap(placed_at, (_geometry(t), t.shape))
        ),
        key=_natural,
    )


def _natural(name: str) -> list[int | str]:
    # Table 9 comes before table 10.
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"([0-9]+)", name)]


async def _refuse_overlap(
    session: AsyncSession, floor: Floor, geometry: Geometry, shape: TableShape, *, table_id: int | None, label: str
) -> None:
    """Refuse a place where the table would stand on another live table of the same floor."""
    hit = await _overlapped(session, floor, geometry, shape, table_id=table_id)
    if hit:
        raise Conflict(f"{label} would overlap {_listed(hit)}; move it to a free spot.")


# Floors ------------------------------------------------------------------------------------------


async def _check_floor(session: AsyncSession, fields: FloorFields, floor_id: int | None) -> FloorFields:
    name = clean_text(fields.name, label="Name", max_length=FLOOR_NAME_MAX)
    sort_order = whole_number(fields.sort_order, label="Order", minimum=0, maximum=SORT_MAX)
    width = whole_number(fields.width, label="Plan width", minimum=PLAN_MIN, maximum=PLAN_MAX)
    height = whole_number(fields.height, label="Plan depth", minimum=PLAN_MIN, maximum=PLAN_MAX)
    clash = (
        await session.exec(select(Floor).where(func.lower(Floor.name) == name.lower(), Floor.id != floor_id))
    ).first()
    if clash is not None:
        archived = " (archived; restore it instead)" if clash.archived_at else ""
        raise Conflict(f"A floor named “{clash.name}” already exists{archived}.")
    return FloorFields(name=name, sort_order=sort_order, width=width, height=height)


async def create_floor(session: AsyncSession, fields: FloorFields, *, actor_id: int | None) -> Floor:
    """Add a room or section with an empty plan."""
    fields = await _check_floor(session, fields, None)
    floor = Floor(name=fields.name, sort_order=fields.sort_order, width=fields.width, height=fields.height)
    session.add(floor)
    await session.flush()
    await audit.record(session, "floor.create", actor_id=actor_id, subject=f"floor:{floor.id}", after=_snapshot(floor))
    await _changed(session, floor.id or 0)
    return floor


async def update_floor(session: AsyncSession, floor_id: int, fields: FloorFields, *, actor_id: int | None) -> Floor:
    """Rename a floor, reorder it or resize its plan (never smaller than the tables standing on it)."""
    floor = await _floor(session, floor_id)
    fields = await _check_floor(session, fields, floor_id)
    outside = [
        t.name
        for t in await _live_tables(session, floor_id)
        if t.x + t.width > fields.width or t.y + t.height > fields.height
    ]
    if outside:
        shown = ", ".join(outside[:5]) + (f" and {len(outside) - 5} more" if len(outside) > 5 else "")
        raise Conflict(
            f"Table(s) {shown} would stand outside a {fields.width} by {fields.height} plan; move them first."
        )
    before = _snapshot(floor)
    floor.name, floor.sort_order, floor.width, floor.height = (
        fields.name,
        fields.sort_order,
        fields.width,
        fields.height,
    )
    session.add(floor)
    await session.flush()
    await audit.record(
        session, "floor.update", actor_id=actor_id, subject=f"floor:{floor_id}", before=before, after=_snapshot(floor)
    )
    await _changed(session, floor_id)
    return floor


async def archive_floor(session: AsyncSession, floor_id: int, *, actor_id: int | None) -> Floor:
    """Take a floor out of service with its tables (kept for history); the last floor stays."""
    floor = await _floor(session, floor_id)
    if floor.archived_at is not None:
        return floor
    live = (
        await session.exec(
            select(func.count()).select_from(Floor).where(col(Floor.archived_at).is_(None), Floor.id != floor_id)
        )
    ).one()
    if not live:
        raise Conflict(f"“{floor.name}” is the only floor; add another before archiving it.")
    tables = await _live_tables(session, floor_id)
    floor.archived_at = utcnow()
    session.add(floor)
    await session.flush()
    await emit(session, FloorArchived(floor_id, tuple(t.id or 0 for t in tables)))
    await audit.record(
        session,
        "floor.archive",
        actor_id=actor_id,
        subject=f"floor:{floor_id}",
        before={"archived_at": None},
        after={"archived_at": floor.archived_at.isoformat(), "name": floor.name, "tables": len(tables)},
    )
    await _changed(session, floor_id)
    return floor


async def restore_floor(session: AsyncSession, floor_id: int, *, actor_id: int | None) -> Floor:
    """Put an archived floor back in service with the tables it had."""
    floor = await _floor(session, floor_id)
    if floor.archived_at is None:
        return floor
    before = {"archived_at": floor.archived_at.isoformat()}
    floor.archived_at = None
    session.add(floor)
    await session.flush()
    await audit.record(
        session,
        "floor.restore",
        actor_id=actor_id,
        subject=f"floor:{floor_id}",
        before=before,
        after={"archived_at": None, "name": floor.name},
    )
    await _changed(session, floor_id)
    return floor


# Tables ------------------------------------------------------------------------------------------


def _shape(value: TableShape | str) -> TableShape:
    try:
        return TableShape(value)
    except ValueError:
        raise InvalidInput("Shape must be square, round, rectangle or bar seat.") from None


async def _check_table(session: AsyncSession, floor: Floor, fields: TableFields, table_id: int | None) -> TableFields:
    name = clean_text(fields.name, label="Table name", max_length=TABLE_NAME_MAX)
    shape = _shape(fields.shape)
    seats = whole_number(fields.seats, label="Seats", minimum=1, maximum=SEATS_MAX)
    clash = (
        await session.exec(
            select(DiningTable.id).where(
                DiningTable.floor_id == floor.id,
                func.lower(DiningTable.name) == name.lower(),
                DiningTable.id != table_id,
                col(DiningTable.archived_at).is_(None),
            )
        )
    ).first()
    if clash is not None:
        raise Conflict(f"{floor.name} already has a table named “{name}”.")
    return TableFields(name=name, shape=shape, seats=seats)


async def add_table(
    session: AsyncSession,
    floor_id: int,
    fields: TableFields,
    *,
    geometry: Geometry | None = None,
    actor_id: int | None,
) -> DiningTable:
    """Place a new table; without a geometry it gets its shape's usual size at the first free spot."""
    floor = await _floor(session, floor_id, live=True)
    fields = await _check_table(session, floor, fields, None)
    if geometry is None:
        width, height = DEFAULT_SIZE[fields.shape]
        spot = free_spot(
            width, height, (floor.width, floor.height), map(_geometry, await _live_tables(session, floor_id))
        )
        if spot is None:
            raise Conflict(
                f"{floor.name} has no free spot left for a {width} by {height} table; "
                "make room on the plan or make the plan larger."
            )
        geometry = Geometry(*spot, width, height, 0)
    geometry = placed(geometry, floor, label=f"Table {fields.name}")
    await _refuse_overlap(session, floor, geometry, fields.shape, table_id=None, label=f"Table {fields.name}")
    table = DiningTable(
        floor_id=floor_id,
        name=fields.name,
        shape=fields.shape,
        seats=fields.seats,
        x=geometry.x,
        y=geometry.y,
        width=geometry.width,
        height=geometry.height,
        rotation=geometry.rotation,
    )
    session.add(table)
    await session.flush()
    await audit.record(
        session, "floor.table.add", actor_id=actor_id, subject=f"table:{table.id}", after=_snapshot(table)
    )
    await _changed(session, floor_id)
    return table


async def place_table(
    session: AsyncSession, floor_id: int, table_id: int, geometry: Geometry, *, actor_id: int | None
) -> DiningTable:
    """Move, resize or rotate a table (snapped to the grid, inside the plan)."""
    floor = await _floor(session, floor_id, live=True)
    table = await _table(session, floor, table_id)
    if table.archived_at is not None:
        raise Conflict(f"Table {table.name} is archived; restore it to place it.")
    geometry = placed(geometry, floor, label=f"Table {table.name}")
    if geometry == _geometry(table):
        return table
    await _refuse_overlap(session, floor, geometry, table.shape, table_id=table_id, label=f"Table {table.name}")
    before = _snapshot(table)
    table.x, table.y, table.width, table.height = geometry.x, geometry.y, geometry.width, geometry.height
    table.rotation = geometry.rotation
    session.add(table)
    await session.flush()
    await audit.record(
        session,
        "floor.table.place",
        actor_id=actor_id,
        subject=f"table:{table_id}",
        before=before,
        after=_snapshot(table),
    )
    await _changed(session, floor_id)
    return table


async def update_table(
    session: AsyncSession,
    floor_id: int,
    table_id: int,
    fields: TableFields,
    *,
    geometry: Geometry | None = None,
    actor_id: int | None,
) -> DiningTable:
    """Rename a table, change its shape or seats (and, if given, where it stands)."""
    floor = await _floor(session, floor_id, live=True)
    table = await _table(session, floor, table_id)
    if table.archived_at is not None:
        raise Conflict(f"Table {table.name} is archived; restore it to change it.")
    fields = await _check_table(session, floor, fields, table_id)
    geometry = placed(geometry or _geometry(table), floor, label=f"Table {fields.name}")
    if (geometry, fields.shape) != (_geometry(table), table.shape):
        await _refuse_overlap(session, floor, geometry, fields.shape, table_id=table_id, label=f"Table {fields.name}")
    before = _snapshot(table)
    table.name, table.shape, table.seats = fields.name, fields.shape, fields.seats
    table.x, table.y, table.width, table.height = geometry.x, geometry.y, geometry.width, geometry.height
    table.rotation = geometry.rotation
    session.add(table)
    await session.flush()
    after = _snapshot(table)
    if after != before:
        await audit.record(
            session, "floor.table.update", actor_id=actor_id, subject=f"table:{table_id}", before=before, after=after
        )
        await _changed(session, floor_id)
    return table


async def archive_table(session: AsyncSession, floor_id: int, table_id: int, *, actor_id: int | None) -> DiningTable:
    """Take a table off the plan; checks that were on it keep pointing to it."""
    floor = await _floor(session, floor_id)
    table = await _table(session, floor, table_id)
    if table.archived_at is not None:
        return table
    table.archived_at = utcnow()
    session.add(table)
    await session.flush()
    await emit(session, TableArchived(table_id, floor_id))
    await audit.record(
        session,
        "floor.table.archive",
        actor_id=actor_id,
        subject=f"table:{table_id}",
        before={"archived_at": None},
        after={"archived_at": _iso(table.archived_at), "name": table.name, "floor": floor.name},
    )
    await _changed(session, floor_id)
    return table


async def restore_table(session: AsyncSession, floor_id: int, table_id: int, *, actor_id: int | None) -> DiningTable:
    """Put an archived table back where it stood (its name must still be free on the floor)."""
    floor = await _floor(session, floor_id, live=True)
    table = await _table(session, floor, table_id)
    if table.archived_at is None:
        return table
    await _check_table(session, floor, TableFields(table.name, table.shape, table.seats), table_id)
    check_geometry(_geometry(table), floor, label=f"Table {table.name}")
    hit = await _overlapped(session, floor, _geometry(table), table.shape, table_id=table_id)
    if hit:
        stands, them = ("stands", "it") if len(hit) == 1 else ("stand", "them")
        raise Conflict(
            f"Table {table.name} stood where {_listed(hit)} {stands} now; "
            f"move {them} away, then restore table {table.name}."
        )
    before = {"archived_at": _iso(table.archived_at)}
    table.archived_at = None
    session.add(table)
    await session.flush()
    await audit.record(
        session,
        "floor.table.restore",
        actor_id=actor_id,
        subject=f"table:{table_id}",
        before=before,
        after={"archived_at": None, "name": table.name, "floor": floor.name},
    )
    await _changed(session, floor_id)
    return table


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
