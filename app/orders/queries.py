"""Read models for table service: the live floor, a check as the server sees it, the menu to ring in from."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Integer, and_, bindparam, case, column, func, or_
from sqlalchemy import table as sql_table
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from app.floor.models import DiningTable, Floor
from app.lib import revisions
from app.menu.models import Course
from app.orders.calculations import (
    CheckFacts,
    TableState,
    line_amount_cents,
    table_state,
)
from app.orders.menu_queries import entry_menu as entry_menu
from app.orders.menu_queries import modifier_questions as modifier_questions
from app.orders.models import (
    Check,
    CheckKind,
    CheckLine,
    CheckStatus,
    CoursePacing,
    FireKind,
    KitchenFire,
    LineModifier,
    LineState,
    PacingState,
)
from app.promotions.calculations import PromotedLine, Terms, promotion_amounts
from app.promotions.models import LinePromotion
from app.staff.models import Staff
from app.staff.permissions import Perm

# The reads every tablet makes on every order are built once, in functions marked @cache, with their values as
# bound parameters: SQLAlchemy finds a statement's compiled SQL by a key it derives by walking the statement, and
# for a statement built anew that walk costs more CPU than running it. A statement object built once keeps its key.

# ---------------------------------------------------------------------------------------------- floor


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
            last_fire[check.id or 0] = _aware(fired_at)
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
    showing = or_(
        col(Check.status) == CheckStatus.OPEN,
        and_(col(Check.status) == CheckStatus.CLOSED, col(Check.table_cleared_at).is_(None)),
    )
    return (
        query.add_columns(
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
        .outerjoin(Check, and_(col(Check.table_id) == col(DiningTable.id), showing))
        .outerjoin(Staff, col(Staff.id) == col(Check.server_id))
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
    first = (
        select(Floor.id)
        .where(col(Floor.archived_at).is_(None))
        .order_by(col(Floor.sort_order), col(Floor.id))
        .limit(1)
        .scalar_subquery()
    )
    shown = func.coalesce(bindparam("floor_id", type_=Integer()), first)
    tables_shown = and_(
        col(DiningTable.floor_id) == col(Floor.id), col(Floor.id) == shown, col(DiningTable.archived_at).is_(None)
    )
    return (
        _showing_with_counts(select(Floor, DiningTable, Check, Staff).outerjoin(DiningTable, tables_shown))
        .where(col(Floor.archived_at).is_(None))
        .order_by(col(Floor.sort_order), col(Floor.id), col(DiningTable.id), col(Check.opened_at), col(Check.id))
    )


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


# ---------------------------------------------------------------------------------------------- a check


async def check_label(session: AsyncSession, check: Check) -> str:
    """How a server names a check: 'table 12 (check #41)', 'the tab for Jones (check #42)'."""
    table = None
    if check.kind == CheckKind.TABLE and check.table_id is not None:
        table = await session.get(DiningTable, check.table_id)
    return _label(check, table)


def _label(check: Check, table: DiningTable | None) -> str:
    if check.kind == CheckKind.TABLE and check.table_id is not None:
        where = f"table {table.name}" if table else "a table"
    elif check.kind == CheckKind.TAB:
        where = f"the tab for {check.tab_name}"
    else:
        where = f"takeout for {check.tab_name}" if check.tab_name else "a takeout"
    return f"{where} (check #{check.number})"


@dataclass(frozen=True)
class LineView:
    """A line with its answers, its price, and whether the kitchen has it ready at the pass."""

    line: CheckLine
    modifiers: tuple[LineModifier, ...]
    amount_cents: int
    ready: bool = False
    promotion_cents: int = 0
    promotion_name: str | None = None

    @property
    def seat_label(self) -> str:
        """'S2', or 'Shared'."""
        return f"S{self.line.seat}" if self.line.seat else "Shared"


@dataclass(frozen=True)
class CourseView:
    """A course on a check: its lines and where it stands with the kitchen."""

    course: Course
    lines: list[LineView] = field(default_factory=list)
    pending: int = 0
    held: int = 0
    sent: int = 0
    ready: int = 0
    rush: bool = False
    first_fired_at: datetime | None = None
    last_fired_at: datetime | None = None
    # the course fires by itself (a pacing rule waiting), or None
    pacing: CoursePacing | None = None

    @property
    def all_ready(self) -> bool:
        """Whether everything sent of this course is ready at the pass."""
        return self.sent > 0 and self.ready == self.sent

    @property
    def status(self) -> str:
        """A word for the course header: 'held', 'to send', 'sent', 'sent +'."""
        if self.held:
            return "held"
        if self.pending:
            return "to send"
        if self.sent:
            return "sent"
        return "voided"


@dataclass(frozen=True)
class CheckView:
    """Everything the order-entry panel shows about one check."""

    check: Check
    label: str
    table: DiningTable | None
    server: Staff | None
    courses: list[CourseView]
    subtotal_cents: int
    pending: int
    held: int
    sent: int
    merged_into: Check | None = None

    @property
    def is_open(self) -> bool:
        """Whether anything can still change on it."""
        return self.check.status == CheckStatus.OPEN

    @property
    def seats(self) -> list[int]:
        """Seat numbers a line may take."""
        return list(range(1, self.check.covers + 1))


async def check_view(session: AsyncSession, check_id: int) -> CheckView | None:
    """A check with its lines grouped by course in meal order, or None if it does not exist.

    One read whatever the check holds: the check with its table and server, beside each of its lines with their
    modifiers and when their course was first and last fired. Inside a write transaction the rows come back as
    they stand there.
    """
    rows = (await session.exec(_check_with_lines(), params={"check_id": check_id})).all()
    return await _check_view(session, rows)


async def check_view_and_revision(
    session: AsyncSession, check_id: int, subject: str
) -> tuple[CheckView | None, int | None]:
    """`check_view`, and `subject`'s revision (app/lib/revisions.py) read in the same statement."""
    rows = (await session.exec(_check_with_lines(subject), params={"check_id": check_id})).all()
    if not rows:
        return None, None
    return await _check_view(session, [row[:-1] for row in rows]), rows[0][-1]


async def _check_view(session: AsyncSession, rows: Sequence[Any]) -> CheckView | None:
    if not rows:
        return None
    check, table, server = rows[0][:3]
    lines: dict[int, CheckLine] = {}
    modifiers: dict[int, list[LineModifier]] = defaultdict(list)
    fire_times: dict[Course, tuple[datetime, datetime]] = {}
    ready: set[int] = set()
    terms: dict[int, Terms] = {}
    for _check, _table, _server, line, modifier, first, last, kitchen_done, promoted_as in rows:
        if line is None:
            continue  # a check with nothing on it yet
        lines[line.id or 0] = line
        if promoted_as is not None:
            terms[line.id or 0] = promoted_as.terms
        if kitchen_done == 1 and line.state == LineState.SENT:
            ready.add(line.id or 0)
        if modifier is not None:
            modifiers[line.id or 0].append(modifier)
        if first is not None and last is not None:
            fire_times[line.course] = (_aware(first), _aware(last))
    grouped: dict[Course, list[LineView]] = defaultdict(list)
    promoted = _promotions_of(list(lines.values()), terms)
    for line in lines.values():
        amount = line_amount_cents(line.unit_price_cents, line.modifiers_cents, line.quantity)
        off, name = promoted.get(line.id or 0, (0, None))
        grouped[line.course].append(
            LineView(
                line,
                tuple(modifiers.get(line.id or 0, [])),
                amount,
                ready=(line.id or 0) in ready,
                promotion_cents=off,
                promotion_name=name,
            )
        )
    pacing = await waiting_pacing(session, check.id or 0) if check.paced else {}
    courses = []
    for course in sorted(grouped, key=lambda c: c.order):
        views = grouped[course]
        live = [v.line for v in views if v.line.state != LineState.VOIDED]
        times = fire_times.get(course)
        courses.append(
            CourseView(
                course=course,
                lines=views,
                pending=sum(1 for line in live if line.state == LineState.PENDING),
                held=sum(1 for line in live if line.state == LineState.HELD),
                sent=sum(1 for line in live if line.state == LineState.SENT),
                ready=sum(1 for v in views if v.ready),
                rush=any(line.rush for line in live),
                first_fired_at=times[0] if times else None,
                last_fired_at=times[1] if times else None,
                pacing=pacing.get(course),
            )
        )
    live_views = [v for c in courses for v in c.lines if v.line.state != LineState.VOIDED]
    return CheckView(
        check=check,
        label=_label(check, table),
        table=table,
        server=server,
        courses=courses,
        subtotal_cents=sum(v.amount_cents - v.promotion_cents for v in live_views),
        pending=sum(c.pending for c in courses),
        held=sum(c.held for c in courses),
        sent=sum(c.sent for c in courses),
        merged_into=await session.get(Check, check.merged_into_id) if check.merged_into_id else None,
    )


def _promotions_of(lines: Sequence[CheckLine], terms: dict[int, Terms]) -> dict[int, tuple[int, str]]:
    """What promotions take off the live lines, with the same maths as the bill (app/promotions/calculations.py)."""
    promoted = [line for line in lines if line.state != LineState.VOIDED and (line.id or 0) in terms]
    if not promoted:
        return {}
    amounts = promotion_amounts(
        [
            PromotedLine(line.unit_price_cents, line.quantity, terms[line.id or 0], line.origin_line_id or line.id)
            for line in promoted
        ]
    )
    return {
        line.id or 0: (cents, terms[line.id or 0].name) for line, cents in zip(promoted, amounts, strict=True) if cents
    }


async def waiting_pacing(session: AsyncSession, check_id: int) -> dict[Course, CoursePacing]:
    """The pacing rules of a check still waiting to fire their course, by course."""
    rows = await session.exec(
        select(CoursePacing).where(CoursePacing.check_id == check_id, CoursePacing.state == PacingState.WAITING)
    )
    return {row.course: row for row in rows.all()}


@cache
def _check_with_lines(revision: str | None = None) -> Any:
    """A check with its table and server, once per line (with its modifiers, when its course was fired, and
    whether the kitchen has it ready); with the `revision` subject's revision as the last column, if named."""
    query = (
        select(Check, DiningTable, Staff)
        .add_columns(CheckLine, LineModifier, _course_fired(func.min), _course_fired(func.max), _line_ready())
        .add_columns(LinePromotion)
        .outerjoin(DiningTable, col(DiningTable.id) == col(Check.table_id))
        .outerjoin(Staff, col(Staff.id) == col(Check.server_id))
        .outerjoin(CheckLine, col(CheckLine.check_id) == col(Check.id))
        .outerjoin(LineModifier, col(LineModifier.line_id) == col(CheckLine.id))
        # the promotion the line was rung in under (a line split off another carries the original's)
        .outerjoin(
            LinePromotion,
            col(LinePromotion.line_id) == func.coalesce(col(CheckLine.origin_line_id), col(CheckLine.id)),
        )
        .where(col(Check.id) == bindparam("check_id"))
        .order_by(col(CheckLine.id), col(LineModifier.id))
    )
    return query.add_columns(revisions.revision_of(revision)) if revision is not None else query


def _course_fired(aggregate: Any) -> Any:
    """When the course of the line in the enclosing query was fired (new food or an addition), by `aggregate`."""
    return (
        select(aggregate(KitchenFire.fired_at))
        .where(
            col(KitchenFire.check_id) == col(CheckLine.check_id),
            col(KitchenFire.course) == col(CheckLine.course),
            col(KitchenFire.kind).in_([FireKind.NEW, FireKind.ADDITION]),
        )
        .correlate(CheckLine)
        .scalar_subquery()
    )


# The kitchen's tickets, read by name: the kitchen depends on orders, so orders reads only the few columns it needs.
_TICKET = sql_table("kitchen_ticket", column("id"), column("state"), column("kind"))
_TICKET_LINE = sql_table("kitchen_ticket_line", column("ticket_id"), column("check_line_id"))


def _line_ready() -> Any:
    """Whether the line in the enclosing query is ready at the pass: 1 once every kitchen ticket that carries it
    (every station's, and expo's, which expo marks ready last) is bumped, 0 while one is open, None if unrouted."""
    return (
        select(func.min(case((_TICKET.c.state == "bumped", 1), else_=0)))
        .select_from(_TICKET_LINE.join(_TICKET, _TICKET.c.id == _TICKET_LINE.c.ticket_id))
        .where(_TICKET_LINE.c.check_line_id == col(CheckLine.id), _TICKET.c.kind != "void")
        .correlate(CheckLine)
        .scalar_subquery()
    )


async def open_checks(session: AsyncSession, *, exclude_id: int | None = None) -> list[tuple[Check, str]]:
    """Every open check with the words a server knows it by, for merge and move pickers."""
    query = select(Check).where(Check.status == CheckStatus.OPEN).order_by(col(Check.id))
    if exclude_id is not None:
        query = query.where(Check.id != exclude_id)
    return [(check, await check_label(session, check)) for check in (await session.exec(query)).all()]


async def servers(session: AsyncSession) -> list[Staff]:
    """Everyone who can own a check."""
    people = (await session.exec(select(Staff).where(col(Staff.archived_at).is_(None)).order_by(col(Staff.name)))).all()
    return [person for person in people if person.can(Perm.ORDERS_ENTER)]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
