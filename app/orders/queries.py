"""Read models for table service: the live floor, a check as the server sees it, the menu to ring in from."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, case, column, func
from sqlalchemy import table as sql_table
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.floor.models import DiningTable
from app.lib import revisions
from app.lib.clock import as_utc
from app.menu.models import Course
from app.orders.calculations import (
    line_amount_cents,
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
            fire_times[line.course] = (as_utc(first), as_utc(last))
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
