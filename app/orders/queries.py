"""Read models for table service: the live floor, a check as the server sees it, the menu to ring in from."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import and_, case, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.floor.models import DiningTable
from app.menu.models import Course, MenuCategory, MenuItem, MenuItemModifierGroup, Modifier, ModifierGroup
from app.orders.calculations import (
    CheckFacts,
    ModifierOption,
    ModifierQuestion,
    TableState,
    line_amount_cents,
    table_state,
)
from app.orders.models import Check, CheckKind, CheckLine, CheckStatus, FireKind, KitchenFire, LineModifier, LineState
from app.staff.models import Staff
from app.staff.permissions import Perm

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

    @property
    def dom_id(self) -> str:
        """The element id every live update replaces."""
        return f"table-{self.table.id}"


async def table_views(
    session: AsyncSession, *, floor_id: int | None = None, table_ids: Sequence[int] | None = None
) -> list[TableView]:
    """Tables of one floor (or the given tables), each with its state derived from its checks."""
    query = select(DiningTable).where(col(DiningTable.archived_at).is_(None)).order_by(col(DiningTable.id))
    if floor_id is not None:
        query = query.where(DiningTable.floor_id == floor_id)
    if table_ids is not None:
        query = query.where(col(DiningTable.id).in_(list(table_ids)))
    tables = list((await session.exec(query)).all())
    if not tables:
        return []
    checks = (
        await session.exec(
            select(Check)
            .where(
                col(Check.table_id).in_([t.id for t in tables]),
                or_(
                    col(Check.status) == CheckStatus.OPEN,
                    and_(col(Check.status) == CheckStatus.CLOSED, col(Check.table_cleared_at).is_(None)),
                ),
            )
            .order_by(col(Check.opened_at))
        )
    ).all()
    check_ids = [c.id for c in checks]
    stats: dict[int, tuple[int, int, int]] = {}
    last_fire: dict[int, datetime] = {}
    staff: dict[int, Staff] = {}
    if check_ids:
        rows = await session.exec(
            select(
                CheckLine.check_id,
                func.count(),
                func.sum(case((col(CheckLine.state) == LineState.SENT, 1), else_=0)),
                func.sum(case((col(CheckLine.state) == LineState.HELD, 1), else_=0)),
            )
            .where(col(CheckLine.check_id).in_(check_ids), CheckLine.state != LineState.VOIDED)
            .group_by(col(CheckLine.check_id))
        )
        stats = {row[0]: (int(row[1]), int(row[2] or 0), int(row[3] or 0)) for row in rows.all()}
        fires = await session.exec(
            select(KitchenFire.check_id, func.max(KitchenFire.fired_at))
            .where(
                col(KitchenFire.check_id).in_(check_ids),
                col(KitchenFire.kind).in_([FireKind.NEW, FireKind.ADDITION]),
            )
            .group_by(col(KitchenFire.check_id))
        )
        last_fire = {row[0]: _aware(row[1]) for row in fires.all() if row[1] is not None}
        people = await session.exec(select(Staff).where(col(Staff.id).in_({c.server_id for c in checks})))
        staff = {person.id or 0: person for person in people.all()}
    by_table: dict[int, list[Check]] = defaultdict(list)
    for check in checks:
        by_table[check.table_id or 0].append(check)
    views: list[TableView] = []
    for table in tables:
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
                covers=sum(c.covers for c in open_checks),
                server_ids=tuple(servers),
                server_initials=" ".join(staff[s].initials for s in servers if s in staff),
                server_names=", ".join(staff[s].name for s in servers if s in staff),
                seated_at=min((c.opened_at for c in open_checks), default=None),
                open_check_ids=tuple(c.id or 0 for c in open_checks),
                paid_check_ids=tuple(c.id or 0 for c in table_checks if c.status != CheckStatus.OPEN),
                has_held=any(stats.get(c.id or 0, (0, 0, 0))[2] for c in open_checks),
            )
        )
    return views


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
    rows = await session.exec(
        select(Check, Staff)
        .join(Staff, col(Staff.id) == col(Check.server_id))
        .where(Check.status == CheckStatus.OPEN, col(Check.kind).in_([CheckKind.TAB, CheckKind.TAKEOUT]))
        .order_by(col(Check.opened_at))
    )
    pairs = rows.all()
    counts = await _line_counts(session, [c.id or 0 for c, _ in pairs])
    return [CheckSummary(check, person.name, counts.get(check.id or 0, 0)) for check, person in pairs]


async def _line_counts(session: AsyncSession, check_ids: list[int]) -> dict[int, int]:
    if not check_ids:
        return {}
    rows = await session.exec(
        select(CheckLine.check_id, func.count())
        .where(col(CheckLine.check_id).in_(check_ids), CheckLine.state != LineState.VOIDED)
        .group_by(col(CheckLine.check_id))
    )
    return {row[0]: int(row[1]) for row in rows.all()}


# ---------------------------------------------------------------------------------------------- a check


async def check_label(session: AsyncSession, check: Check) -> str:
    """How a server names a check: 'table 12 (check #41)', 'the tab for Jones (check #42)'."""
    if check.kind == CheckKind.TABLE and check.table_id is not None:
        table = await session.get(DiningTable, check.table_id)
        where = f"table {table.name}" if table else "a table"
    elif check.kind == CheckKind.TAB:
        where = f"the tab for {check.tab_name}"
    else:
        where = f"takeout for {check.tab_name}" if check.tab_name else "a takeout"
    return f"{where} (check #{check.number})"


@dataclass(frozen=True)
class LineView:
    """A line with its answers and its price."""

    line: CheckLine
    modifiers: tuple[LineModifier, ...]
    amount_cents: int

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
    rush: bool = False
    first_fired_at: datetime | None = None
    last_fired_at: datetime | None = None

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
    """A check with its lines grouped by course in meal order, or None if it does not exist."""
    check = await session.get(Check, check_id)
    if check is None:
        return None
    table = await session.get(DiningTable, check.table_id) if check.table_id else None
    server = await session.get(Staff, check.server_id)
    lines = list(
        (await session.exec(select(CheckLine).where(CheckLine.check_id == check.id).order_by(col(CheckLine.id)))).all()
    )
    modifiers: dict[int, list[LineModifier]] = defaultdict(list)
    if lines:
        for modifier in (
            await session.exec(
                select(LineModifier)
                .where(col(LineModifier.line_id).in_([line.id for line in lines]))
                .order_by(col(LineModifier.id))
            )
        ).all():
            modifiers[modifier.line_id].append(modifier)
    fire_times: dict[Course, list[datetime]] = defaultdict(list)
    for fire in (
        await session.exec(
            select(KitchenFire).where(
                KitchenFire.check_id == check.id, col(KitchenFire.kind).in_([FireKind.NEW, FireKind.ADDITION])
            )
        )
    ).all():
        if fire.course is not None:
            fire_times[fire.course].append(fire.fired_at)
    grouped: dict[Course, list[LineView]] = defaultdict(list)
    for line in lines:
        amount = line_amount_cents(line.unit_price_cents, line.modifiers_cents, line.quantity)
        grouped[line.course].append(LineView(line, tuple(modifiers.get(line.id or 0, [])), amount))
    courses = []
    for course in sorted(grouped, key=lambda c: c.order):
        views = grouped[course]
        live = [v.line for v in views if v.line.state != LineState.VOIDED]
        times = sorted(fire_times.get(course, []))
        courses.append(
            CourseView(
                course=course,
                lines=views,
                pending=sum(1 for line in live if line.state == LineState.PENDING),
                held=sum(1 for line in live if line.state == LineState.HELD),
                sent=sum(1 for line in live if line.state == LineState.SENT),
                rush=any(line.rush for line in live),
                first_fired_at=times[0] if times else None,
                last_fired_at=times[-1] if times else None,
            )
        )
    live_views = [v for c in courses for v in c.lines if v.line.state != LineState.VOIDED]
    return CheckView(
        check=check,
        label=await check_label(session, check),
        table=table,
        server=server,
        courses=courses,
        subtotal_cents=sum(v.amount_cents for v in live_views),
        pending=sum(c.pending for c in courses),
        held=sum(c.held for c in courses),
        sent=sum(c.sent for c in courses),
        merged_into=await session.get(Check, check.merged_into_id) if check.merged_into_id else None,
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


# ---------------------------------------------------------------------------------------------- menu


@dataclass(frozen=True)
class ItemButton:
    """A menu item on the order-entry grid."""

    item: MenuItem
    questions: int
    forced: bool
    only_single_forced: bool


@dataclass(frozen=True)
class MenuSection:
    """A category tab and its items."""

    category: MenuCategory
    items: list[ItemButton]


async def entry_menu(session: AsyncSession) -> list[MenuSection]:
    """The menu as order entry shows it: live categories, their items (86'd ones too, marked), in order."""
    categories = (
        await session.exec(
            select(MenuCategory)
            .where(col(MenuCategory.archived_at).is_(None))
            .order_by(col(MenuCategory.sort_order), col(MenuCategory.id))
        )
    ).all()
    items = (
        await session.exec(
            select(MenuItem)
            .where(col(MenuItem.archived_at).is_(None))
            .order_by(col(MenuItem.sort_order), col(MenuItem.id))
        )
    ).all()
    links = (
        await session.exec(
            select(MenuItemModifierGroup.item_id, ModifierGroup.min_choices, ModifierGroup.max_choices)
            .join(ModifierGroup, col(ModifierGroup.id) == col(MenuItemModifierGroup.group_id))
            .where(col(ModifierGroup.archived_at).is_(None))
        )
    ).all()
    groups: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for item_id, low, high in links:
        groups[item_id].append((low, high))
    by_category: dict[int, list[ItemButton]] = defaultdict(list)
    for item in items:
        asked = groups.get(item.id or 0, [])
        by_category[item.category_id].append(
            ItemButton(
                item=item,
                questions=len(asked),
                forced=any(low > 0 for low, _ in asked),
                only_single_forced=bool(asked) and all(low == high == 1 for low, high in asked),
            )
        )
    return [MenuSection(c, by_category[c.id or 0]) for c in categories if by_category.get(c.id or 0)]


async def modifier_questions(session: AsyncSession, item_id: int) -> list[ModifierQuestion]:
    """The modifier groups an item asks, in order, with their live options."""
    rows = (
        await session.exec(
            select(ModifierGroup)
            .join(MenuItemModifierGroup, col(MenuItemModifierGroup.group_id) == col(ModifierGroup.id))
            .where(MenuItemModifierGroup.item_id == item_id, col(ModifierGroup.archived_at).is_(None))
            .order_by(col(MenuItemModifierGroup.sort_order), col(MenuItemModifierGroup.id))
        )
    ).all()
    if not rows:
        return []
    options: dict[int, list[ModifierOption]] = defaultdict(list)
    for modifier in (
        await session.exec(
            select(Modifier)
            .where(col(Modifier.group_id).in_([g.id for g in rows]), col(Modifier.archived_at).is_(None))
            .order_by(col(Modifier.sort_order), col(Modifier.id))
        )
    ).all():
        options[modifier.group_id].append(ModifierOption(modifier.id or 0, modifier.name, modifier.price_delta_cents))
    return [
        ModifierQuestion(g.id or 0, g.name, g.min_choices, g.max_choices, tuple(options.get(g.id or 0, [])))
        for g in rows
    ]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
