"""Read models for the floor: each table as the floor shows it, the plan kept per floor revision, the open tabs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Integer, and_, bindparam, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from app.floor.models import FLOOR_REVISION, DiningTable, Floor
from app.lib import revisions
from app.lib.clock import as_utc
from app.orders.calculations import CheckFacts, TableState, table_state
from app.orders.models import Check, CheckKind, CheckLine, CheckStatus, FireKind, KitchenFire, LineState
from app.staff.models import Staff

# The reads every tablet makes are built once, in functions marked @cache, with their values as bound parameters
# (see app/orders/queries.py).


@dataclass(frozen=True)
class TableView:
    """One table as the floor shows it: state, covers, who serves it, since when."""

    table: DiningTable
    state: TableState
    covers: int = 0
    server_ids: tuple[int, ...] = ()
    server_initials: str = ""
    server_names: str = ""
    seated_at: datetime | None = None
    open_check_ids: tuple[int, ...] = ()
    paid_check_ids: tuple[int, ...] = ()
    has_held: bool = False
    guest_names: str = ""

    @property
    def dom_id(self) -> str:
        """The element id every live update replaces."""
        return f"table-{self.table.id}"


async def table_views(
    session: AsyncSession, *, floor_id: int | None = None, table_ids: Sequence[int] | None = None
) -> list[TableView]:
    """Tables of one floor (or the given tables), each with its state derived from its checks.

    One read: each table with the checks it shows (open, or paid and not yet cleared), their servers, and
    per check its live line counts and its last kitchen fire, counted by the database.
    """
    params: dict[str, Any] = {}
    if floor_id is not None:
        params["floor_id"] = floor_id
    if table_ids is not None:
        params["table_ids"] = list(table_ids)
    query = _tables_with_checks(floor_id is not None, table_ids is not None)
    return _table_views((await session.exec(query, params=params)).all())


async def floor_plan(session: AsyncSession, floor_id: int | None) -> tuple[list[Floor], list[TableView]]:
    """The live floors in their order, and the tables of the one asked for (else the first) as `table_views` draws
    them. One read: each floor once, the tables of the one shown beside it."""
    rows = (await session.exec(_floor_plan(), params={"floor_id": floor_id})).all()
    floors = list({floor.id: floor for floor, *_ in rows}.values())
    return floors, _table_views(row[1:] for row in rows if row[1] is not None)


def _table_views(rows: Iterable[Sequence[Any]]) -> list[TableView]:
    """Each table of `rows` (table, check, server, live lines, sent, held, last fired) with its state."""
    tables: dict[int, DiningTable] = {}
    by_table: dict[int, list[Check]] = defaultdict(list)
    stats: dict[int, tuple[int, int, int]] = {}
    last_fire: dict[int, datetime] = {}
    staff: dict[int, Staff] = {}
    for table, check, server, lines, sent, held, fired_at in rows:
        tables[table.id or 0] = table
        if check is None:
            continue
        by_table[table.id or 0].append(check)
        stats[check.id or 0] = (int(lines or 0), int(sent or 0), int(held or 0))
        if fired_at is not None:
            last_fire[check.id or 0] = as_utc(fired_at)
        if server is not None:
            staff[server.id or 0] = server
    views: list[TableView] = []
    for table in tables.values():
        table_checks = by_table.get(table.id or 0, [])
        facts = [
            CheckFacts(
                is_open=c.status == CheckStatus.OPEN,
                line_count=stats.get(c.id or 0, (0, 0, 0))[0],
                sent_count=stats.get(c.id or 0, (0, 0, 0))[1],
                last_fire_at=last_fire.get(c.id or 0),
                kitchen_ready_at=c.kitchen_ready_at,
                guest_check_printed_at=c.guest_check_printed_at,
            )
            for c in table_checks
        ]
        open_checks = [c for c in table_checks if c.status == CheckStatus.OPEN]
        servers = list(dict.fromkeys(c.server_id for c in open_checks))
        views.append(
            TableView(
                table=table,
                state=table_state(facts),
                # Guests of a split check already paid are still at the table until it is cleared.
                covers=sum(c.covers for c in table_checks) if open_checks else 0,
                server_ids=tuple(servers),
                server_initials=" ".join(staff[s].initials for s in servers if s in staff),
                server_names=", ".join(staff[s].name for s in servers if s in staff),
                seated_at=min((c.opened_at for c in open_checks), default=None),
                open_check_ids=tuple(c.id or 0 for c in open_checks),
                paid_check_ids=tuple(c.id or 0 for c in table_checks if c.status != CheckStatus.OPEN),
                has_held=any(stats.get(c.id or 0, (0, 0, 0))[2] for c in open_checks),
                guest_names=", ".join(c.guest_name for c in open_checks if c.guest_name),
            )
        )
    return views


def _showing_with_counts(query: Any) -> Any:
    """`query` (of tables, their checks and servers) joined to the checks each table shows and their servers, with
    each check's live line counts and last fire."""
    return (
        query.add_columns(*_check_counts())
        # "+ 0": the checks a table shows are found by their status (few are open or uncleared), not by the table,
        # whose index would read its whole history of closed checks.
        .outerjoin(Check, and_(col(Check.table_id) + 0 == col(DiningTable.id), _showing()))
        .outerjoin(Staff, col(Staff.id) == col(Check.server_id))
    )


def _showing() -> Any:
    """Whether a table shows the check: open, or paid and the table not yet cleared."""
    return or_(
        col(Check.status) == CheckStatus.OPEN,
        and_(col(Check.status) == CheckStatus.CLOSED, col(Check.table_cleared_at).is_(None)),
    )


def _check_counts() -> tuple[Any, ...]:
    """The live lines of the check in the enclosing query, its sent and held ones, and when it was last fired."""
    return (
        _line_count(),
        _line_count(col(CheckLine.state) == LineState.SENT),
        _line_count(col(CheckLine.state) == LineState.HELD),
        select(func.max(KitchenFire.fired_at))
        .where(
            col(KitchenFire.check_id) == col(Check.id),
            col(KitchenFire.kind).in_([FireKind.NEW, FireKind.ADDITION]),
        )
        .correlate(Check)
        .scalar_subquery(),
    )


@cache
def _tables_with_checks(by_floor: bool, by_tables: bool) -> Any:
    """The floor's one read, for one floor and/or given tables; built once per shape."""
    query = (
        _showing_with_counts(select(DiningTable, Check, Staff))
        .where(col(DiningTable.archived_at).is_(None))
        .order_by(col(DiningTable.id), col(Check.opened_at), col(Check.id))
    )
    if by_floor:
        query = query.where(col(DiningTable.floor_id) == bindparam("floor_id"))
    if by_tables:
        query = query.where(col(DiningTable.id).in_(bindparam("table_ids", expanding=True)))
    return query


@cache
def _floor_plan() -> Any:
    """Every live floor, beside each table of the floor shown (the one asked for, else the first) with its checks."""
    tables_shown = and_(
        col(DiningTable.floor_id) == col(Floor.id),
        col(Floor.id) == _shown_floor(),
        col(DiningTable.archived_at).is_(None),
    )
    return (
        _showing_with_counts(select(Floor, DiningTable, Check, Staff).outerjoin(DiningTable, tables_shown))
        .where(col(Floor.archived_at).is_(None))
        .order_by(col(Floor.sort_order), col(Floor.id), col(DiningTable.id), col(Check.opened_at), col(Check.id))
    )


def _shown_floor() -> Any:
    """The floor a page shows: the one asked for (`floor_id`), else the first live one."""
    first = (
        select(Floor.id)
        .where(col(Floor.archived_at).is_(None))
        .order_by(col(Floor.sort_order), col(Floor.id))
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(bindparam("floor_id", type_=Integer()), first)


def _line_count(*where: Any) -> Any:
    """The live (not voided) lines of the check in the enclosing query, and of those the ones matching `where`."""
    return (
        select(func.count())
        .where(col(CheckLine.check_id) == col(Check.id), col(CheckLine.state) != LineState.VOIDED, *where)
        .correlate(Check)
        .scalar_subquery()
    )


async def floor_of_tables(session: AsyncSession, table_ids: Sequence[int]) -> dict[int, int]:
    """Which floor each table stands on."""
    if not table_ids:
        return {}
    rows = await session.exec(
        select(DiningTable.id, DiningTable.floor_id).where(col(DiningTable.id).in_(list(table_ids)))
    )
    return {row[0] or 0: row[1] for row in rows.all()}


async def tables_of_checks(session: AsyncSession, check_ids: Sequence[int]) -> set[int]:
    """The tables the given checks stand on now."""
    if not check_ids:
        return set()
    rows = await session.exec(
        select(Check.table_id).where(col(Check.id).in_(list(check_ids)), col(Check.table_id).is_not(None))
    )
    return {table_id for table_id in rows.all() if table_id is not None}


@dataclass(frozen=True)
class CheckSummary:
    """An open check listed off the plan: a bar tab or a takeout."""

    check: Check
    server_name: str
    line_count: int


async def open_tabs(session: AsyncSession) -> list[CheckSummary]:
    """Open bar tabs and takeouts, oldest first."""
    rows = await session.exec(_open_tabs())
    return [CheckSummary(check, person.name, int(lines or 0)) for check, person, lines in rows.all()]


@cache
def _open_tabs() -> Select[Check, Staff, Any]:
    """Open tabs and takeouts with their servers and live line counts."""
    return (
        select(Check, Staff, _line_count())
        .join(Staff, col(Staff.id) == col(Check.server_id))
        .where(Check.status == CheckStatus.OPEN, col(Check.kind).in_([CheckKind.TAB, CheckKind.TAKEOUT]))
        .order_by(col(Check.opened_at))
    )


# ---------------------------------------------------------------------------------------------- the floor page


@dataclass(frozen=True)
class FloorPlan:
    """The live floors in their order and the live tables of each, as a process keeps them per floor revision."""

    floors: list[Floor]
    tables: dict[int, list[DiningTable]]
    drawn: dict[Any, Any] = field(default_factory=dict)
    """What the page drew from the plan alone (a free table), kept with it."""


@dataclass(frozen=True)
class FloorPage:
    """What the floor page shows: the live floors, the tables of the one shown, the open tabs and takeouts, and the
    plan they were drawn from when it is kept (None when it was read as it stands)."""

    floors: list[Floor]
    tables: list[TableView]
    tabs: list[CheckSummary]
    plan: FloorPlan | None


async def floor_page(session: AsyncSession, kept: revisions.Kept[FloorPlan], floor_id: int | None) -> FloorPage:
    """The floor page's read: the live floors, the tables of the one asked for (else the first) as `table_views`
    draws them, and the open tabs and takeouts.

    One statement while `kept` holds the plan at the floor's revision: every check the floor shows (at a table, or
    a tab or takeout), with the revision beside them; the plan is read again only when the revision moved.
    """
    rows = (await session.exec(_showing_checks(), params={"floor_id": floor_id})).all()
    if not rows:  # the floor plan was never counted: read everything as it stands
        floors, tables = await floor_plan(session, floor_id)
        return FloorPage(floors, tables, await open_tabs(session), None)
    revision = rows[0][0]
    plan = kept.at(revision) or kept.keep(revision, await _plan(session))
    at_tables: dict[int, list[Sequence[Any]]] = defaultdict(list)
    tabs: list[CheckSummary] = []
    for _revision, check, server, lines, sent, held, fired_at in rows:
        if check is None:
            continue  # nothing open anywhere
        if check.table_id is None:
            tabs.append(CheckSummary(check, server.name if server is not None else "", int(lines or 0)))
        else:
            at_tables[check.table_id].append((check, server, lines, sent, held, fired_at))
    # The floor shown, as `_shown_floor` picks it: the one asked for, else the first (none of an unknown id).
    shown = floor_id if floor_id is not None else (plan.floors[0].id if plan.floors else None)
    table_rows: list[Sequence[Any]] = []
    for table in plan.tables.get(shown or 0, []):
        checks = at_tables.get(table.id or 0) or [(None,) * 6]
        table_rows.extend((table, *check_row) for check_row in checks)
    return FloorPage(plan.floors, _table_views(table_rows), tabs, plan)


async def _plan(session: AsyncSession) -> FloorPlan:
    rows = (await session.exec(_floors_and_tables())).all()
    floors = list({floor.id: floor for floor, _ in rows}.values())
    tables: dict[int, list[DiningTable]] = {floor.id or 0: [] for floor in floors}
    for floor, table in rows:
        if table is not None:
            tables[floor.id or 0].append(table)
    return FloorPlan(floors, tables)


@cache
def _floors_and_tables() -> Any:
    """Every live floor in order, once per live table on it (once alone when it has none)."""
    return (
        select(Floor, DiningTable)
        .outerjoin(
            DiningTable,
            and_(col(DiningTable.floor_id) == col(Floor.id), col(DiningTable.archived_at).is_(None)),
        )
        .where(col(Floor.archived_at).is_(None))
        .order_by(col(Floor.sort_order), col(Floor.id), col(DiningTable.id))
    )


@cache
def _showing_checks() -> Any:
    """The floor's revision, beside every check the floor shows: the open ones and the paid ones not yet cleared at
    the tables of the floor shown (`floor_id`, else the first), and open tabs and takeouts; with servers, live line
    counts and last fire. One row with no check when there is none; no row at all when the plan was never counted."""
    tables_shown = select(DiningTable.id).where(col(DiningTable.floor_id) == _shown_floor()).scalar_subquery()
    at_table = and_(col(Check.table_id).in_(tables_shown), _showing())
    off_plan = and_(col(Check.status) == CheckStatus.OPEN, col(Check.kind).in_([CheckKind.TAB, CheckKind.TAKEOUT]))
    return (
        select(col(revisions.CacheRevision.revision), Check, Staff)
        .add_columns(*_check_counts())
        .select_from(revisions.CacheRevision)
        .outerjoin(Check, or_(at_table, off_plan))
        .outerjoin(Staff, col(Staff.id) == col(Check.server_id))
        .where(col(revisions.CacheRevision.subject) == FLOOR_REVISION)
        .order_by(col(Check.opened_at), col(Check.id))
    )
