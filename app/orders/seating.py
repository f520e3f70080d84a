"""Seating commands: open a check, set its covers, transfer, merge, move lines between checks, clear the table.

Transfers, merges and moves never write a KitchenFire; the lines keep what the kitchen has been told.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Table, and_, bindparam, func, insert, or_
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.floor.models import DiningTable
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.lib.events import emit
from app.lib.sql import is_postgres
from app.orders import live
from app.orders.calculations import (
    MAX_COVERS,
    TAB_NAME_MAX_LENGTH,
)
from app.orders.models import (
    Check,
    CheckKind,
    CheckLine,
    CheckStatus,
    LineState,
)
from app.orders.queries import check_label
from app.orders.services import (
    CheckTotalLowered,
    _approval,
    _clean_text,
    _editable_check,
    _require_current,
    _require_editor,
    _require_open,
    _sentence,
    bump_version,
    get_check_for_update,
)
from app.staff.models import Staff
from app.staff.permissions import Perm

# ---------------------------------------------------------------------------------------------- checks


TABLE_BOOKED = "orders.table_booked"
"""Where the book (which sits above orders) registers a test of whether a booking could hold the table of the
enclosing query now: a column of the statement that locks a table for seating, so a table no booking names costs
seating no read of the book."""


async def open_check(
    session: AsyncSession,
    *,
    table_id: int | None,
    covers: int,
    server: Staff,
    kind: CheckKind | str,
    tab_name: str | None = None,
    actor: Staff | None = None,
    split_from_id: int | None = None,
    before_seating: Callable[[DiningTable, bool], Awaitable[None]] | None = None,
) -> Check:
    """Seat a table, open a bar tab by name, or start a takeout; one open check per table unless split.

    `before_seating` may refuse the table once it is locked (a table held for a booked party, say); it is told
    whether any booking could hold the table (always, when no book is wired: see `TABLE_BOOKED`).
    """
    try:
        kind = CheckKind(kind)
    except ValueError:
        raise InvalidInput(f"Unknown kind of check {kind!r}: a table, a tab or a takeout.") from None
    _require_covers(covers)
    if server.archived_at is not None or not server.can(Perm.ORDERS_ENTER):
        raise InvalidInput(f"{server.name} does not take orders, so cannot own a check.")
    name = _clean_text(tab_name, label="The tab name", max_length=TAB_NAME_MAX_LENGTH) if tab_name else None
    if kind == CheckKind.TABLE:
        if table_id is None:
            raise InvalidInput("Choose a table to seat.")
        table, standing, booked = await _lock_table_with_checks(session, table_id)
        if before_seating is not None:
            await before_seating(table, booked)
        existing = [c for c in standing if c.status == CheckStatus.OPEN]
        if split_from_id is None and existing:
            owner = await session.get(Staff, existing[0].server_id)
            raise Conflict(
                f"Table {table.name} is already seated (check #{existing[0].number}, "
                f"{owner.name if owner else 'another server'}). Open it from the floor."
            )
        _mark_cleared(session, standing)
    else:
        if table_id is not None:
            raise InvalidInput("A tab or a takeout has no table; seat the table instead.")
        if kind == CheckKind.TAB:
            if not name:
                raise InvalidInput("A bar tab needs the guest's name.")
            clash = (
                await session.exec(
                    select(Check.id).where(
                        Check.kind == CheckKind.TAB, Check.status == CheckStatus.OPEN, Check.tab_name == name
                    )
                )
            ).first()
            if clash is not None:
                raise Conflict(f"A tab for {name} is already open; open that one, or add an initial to the name.")
    await session.flush()  # the tables marked cleared go first, as they did when the check was flushed with them
    opened = {
        "kind": kind,
        "table_id": table_id if kind == CheckKind.TABLE else None,
        "tab_name": name,
        "covers": covers,
        "server_id": server.id or 0,
        "opened_by": (actor or server).id or 0,
        "opened_at": utcnow(),
        "split_from_id": split_from_id,
    }
    row = (await session.exec(_open_numbered(is_postgres(session)), params=opened)).one()
    check = Check(**row._mapping)
    make_transient_to_detached(check)
    session.add(check)
    live.checks_written(session, [check])
    return check


_CHECKS: Table = Check.__table__  # type: ignore[attr-defined]
_OPENED = ("kind", "table_id", "tab_name", "covers", "server_id", "opened_by", "opened_at", "split_from_id")


@cache
def _open_numbered(postgres: bool) -> Any:
    """A new check numbered with its own row id, in one statement: the id is drawn first (PostgreSQL's sequence;
    SQLite's next rowid, its one writer holding the file) and written as both. The id is unique across processes
    without a counter row to lock."""
    drawn: Any
    if postgres:
        drawn = func.nextval(func.pg_get_serial_sequence(_CHECKS.name, "id"))
    else:
        drawn = select(func.coalesce(func.max(_CHECKS.c.id), 0) + 1).scalar_subquery()
    next_id = select(drawn.label("n")).subquery()
    values = [bindparam(name, type_=_CHECKS.c[name].type) for name in _OPENED]
    return (
        insert(_CHECKS)
        .from_select(
            [_CHECKS.c.id, _CHECKS.c.number, *(_CHECKS.c[name] for name in _OPENED)],
            select(next_id.c.n, next_id.c.n, *values),
        )
        .returning(*_CHECKS.c)
    )


async def set_covers(
    session: AsyncSession,
    *,
    check_id: int,
    covers: int,
    actor: Staff,
    expected_version: int | None,
    approver: Staff | None = None,
) -> Check:
    """Change how many guests a check serves; seats in use cannot disappear."""
    check = await _editable_check(session, check_id, actor, expected_version, approver)
    _require_covers(covers)
    highest = (
        await session.exec(
            select(CheckLine.seat).where(
                CheckLine.check_id == check.id, CheckLine.state != LineState.VOIDED, col(CheckLine.seat).is_not(None)
            )
        )
    ).all()
    top = max((seat for seat in highest if seat is not None), default=0)
    if covers < top:
        raise InvalidInput(
            f"Seat {top} has items; move them before going down to {covers} cover{'s' if covers != 1 else ''}."
        )
    check.covers = covers
    session.add(check)
    return check


async def transfer_check(
    session: AsyncSession,
    *,
    check_id: int,
    actor: Staff,
    expected_version: int | None,
    to_table_id: int | None = None,
    to_server_id: int | None = None,
    approver: Staff | None = None,
) -> Check:
    """Move a check to another table and/or hand it to another server; the kitchen hears nothing."""
    if to_table_id is None and to_server_id is None:
        raise InvalidInput("Choose a table or a server to transfer the check to.")
    check = await get_check_for_update(session, check_id, expected_version)
    _require_open(check)
    may_transfer = actor.id == check.server_id or actor.can(Perm.CHECKS_TRANSFER)
    approver_id = None
    if not may_transfer:
        approver_id = await _approval(session, check, actor, approver, Perm.CHECKS_TRANSFER, "transfer it")
    await bump_version(session, check, expected_version)
    before = {"table_id": check.table_id, "server_id": check.server_id, "kind": check.kind.value}
    if to_table_id is not None:
        if to_table_id == check.table_id:
            raise InvalidInput("The check is already on that table.")
        table, standing, _booked = await _lock_table_with_checks(session, to_table_id, ask_book=False)
        others = [c for c in standing if c.status == CheckStatus.OPEN and c.id != check.id]
        if others:
            raise Conflict(
                f"Table {table.name} already has an open check (#{others[0].number}). Merge the checks instead."
            )
        _mark_cleared(session, standing)
        check.table_id = to_table_id
        check.kind = CheckKind.TABLE
    if to_server_id is not None:
        server = await session.get(Staff, to_server_id)
        if server is None or server.archived_at is not None:
            raise NotFound("That server is not on the staff list.")
        if not server.can(Perm.ORDERS_ENTER):
            raise InvalidInput(f"{server.name} does not take orders, so cannot own a check.")
        if server.id == check.server_id:
            raise InvalidInput(f"The check is already {server.name}'s.")
        check.server_id = server.id or 0
    session.add(check)
    await audit.record(
        session,
        "check.transfer",
        actor_id=actor.id,
        approver_id=approver_id,
        subject=f"check:{check.id}",
        before=before,
        after={"table_id": check.table_id, "server_id": check.server_id, "kind": check.kind.value},
    )
    return check


async def merge_checks(
    session: AsyncSession,
    *,
    into_check_id: int,
    from_check_id: int,
    actor: Staff,
    into_version: int | None,
    from_version: int | None = None,
    approver: Staff | None = None,
) -> Check:
    """Put every line of one check onto another (tables pushed together); the kitchen hears nothing."""
    if into_check_id == from_check_id:
        raise InvalidInput("A check cannot be merged with itself.")
    into, source = await _lock_two(session, into_check_id, from_check_id)
    await _require_current(session, into, into_version)
    await _require_current(session, source, from_version)
    for check in (into, source):
        _require_open(check)
    approver_id = await _require_editor(session, into, actor, approver)
    approver_id = await _require_editor(session, source, actor, approver) or approver_id
    await bump_version(session, into, into_version)
    await bump_version(session, source, from_version)
    lines = (await session.exec(select(CheckLine).where(CheckLine.check_id == source.id))).all()
    for line in lines:
        line.check_id = into.id or 0
        session.add(line)
    into.covers = min(MAX_COVERS, into.covers + source.covers)
    source.status = CheckStatus.MERGED
    source.merged_into_id = into.id
    source.closed_at = utcnow()
    session.add(into)
    session.add(source)
    # money already taken on the source would be left on a check that no longer has anything on it
    await emit(session, CheckTotalLowered(check_id=source.id or 0))
    await audit.record(
        session,
        "check.merge",
        actor_id=actor.id,
        approver_id=approver_id,
        subject=f"check:{into.id}",
        before={"from_check_id": source.id, "from_table_id": source.table_id},
        after={"into_check_id": into.id, "line_ids": sorted(line.id or 0 for line in lines), "covers": into.covers},
    )
    return into


async def move_lines(
    session: AsyncSession,
    *,
    line_ids: Sequence[int],
    from_check_id: int,
    to_check_id: int,
    actor: Staff,
    approver: Staff | None = None,
    from_version: int | None = None,
    to_version: int | None = None,
    reason: str | None = None,
    audit_action: str = "check.move_lines",
) -> list[CheckLine]:
    """Move lines, whole, from one open check to another; sent lines stay sent and the kitchen hears nothing."""
    ids = list(line_ids)
    if not ids:
        raise InvalidInput("Choose at least one item to move.")
    if len(set(ids)) != len(ids):
        raise InvalidInput("The same item was chosen twice.")
    if from_check_id == to_check_id:
        raise InvalidInput("Choose another check to move the items to.")
    source, target = await _lock_two(session, from_check_id, to_check_id)
    await _require_current(session, source, from_version)
    await _require_current(session, target, to_version)
    for check in (source, target):
        _require_open(check)
    approver_id = await _require_editor(session, source, actor, approver)
    approver_id = await _require_editor(session, target, actor, approver) or approver_id
    lines = list((await session.exec(select(CheckLine).where(col(CheckLine.id).in_(ids)))).all())
    found = {line.id: line for line in lines}
    for line_id in ids:
        line = found.get(line_id)
        if line is None or line.check_id != source.id:
            raise InvalidInput(f"Item {line_id} is not on check #{source.number}; reload the check.")
        if line.state == LineState.VOIDED:
            raise InvalidInput(f"{line.name} is voided; voided items stay where they were rung in.")
        if line.seat is not None and line.seat > target.covers:
            line.seat = None
    await bump_version(session, source, from_version)
    await bump_version(session, target, to_version)
    for line in lines:
        line.check_id = target.id or 0
        session.add(line)
    # the lines leave the source check: it may not drop below what was already paid on it
    await emit(session, CheckTotalLowered(check_id=source.id or 0))
    await audit.record(
        session,
        audit_action,
        actor_id=actor.id,
        approver_id=approver_id,
        subject=f"check:{source.id}",
        reason=reason,
        before={"check_id": source.id},
        after={"check_id": target.id, "line_ids": sorted(ids)},
    )
    return lines


async def mark_kitchen_ready(session: AsyncSession, check_id: int) -> Check:
    """The kitchen has everything fired so far ready at the pass; the server's floor shows the table as ready."""
    check = await get_check_for_update(session, check_id)
    check.kitchen_ready_at = utcnow()
    session.add(check)
    return check


async def clear_table(session: AsyncSession, check_id: int, actor: Staff) -> Check:
    """The paid table is bussed: it goes from 'paid / needs clearing' to free."""
    check = await get_check_for_update(session, check_id)
    if check.status == CheckStatus.OPEN:
        raise Conflict(f"{_sentence(await check_label(session, check))} is still open; settle it first.")
    if check.table_id is None:
        raise InvalidInput("This check has no table to clear.")
    await _clear_paid_checks(session, check.table_id)
    return check


async def _lock_table_with_checks(
    session: AsyncSession, table_id: int, *, ask_book: bool = True
) -> tuple[DiningTable, list[Check], bool]:
    """A live table, locked (row lock on PostgreSQL), with the checks it shows: open ones, and paid ones not yet
    marked clear, oldest first; and, when `ask_book`, whether a booking could hold it now (True when no book says).
    One read."""
    booked_test: Callable[[], Any] | None = session.info.get(TABLE_BOOKED) if ask_book else None
    query = _table_with_checks(booked_test, locked=is_postgres(session))
    rows = (await session.exec(query, params={"table_id": table_id})).all()
    table = rows[0][0] if rows else None
    if table is None or table.archived_at is not None:
        raise NotFound(f"There is no table {table_id} on the floor plan; reload the floor.")
    booked = bool(rows[0][2]) if booked_test is not None else True
    return table, [row[1] for row in rows if row[1] is not None], booked


async def _lock_two(session: AsyncSession, first_id: int, second_id: int) -> tuple[Check, Check]:
    # Always lock in id order so two tablets merging the same pair cannot deadlock.
    locked = {check_id: await get_check_for_update(session, check_id) for check_id in sorted((first_id, second_id))}
    return locked[first_id], locked[second_id]


@cache
def _table_with_checks(booked_test: Callable[[], Any] | None, *, locked: bool) -> Any:
    """The table and its standing checks, with the book's test of the table as a third column (built once per test:
    see app/orders/queries.py on why statements are kept)."""
    query: Any = (
        select(DiningTable, Check)
        .outerjoin(
            Check,
            and_(
                col(Check.table_id) == col(DiningTable.id),
                or_(
                    col(Check.status) == CheckStatus.OPEN,
                    and_(col(Check.status) == CheckStatus.CLOSED, col(Check.table_cleared_at).is_(None)),
                ),
            ),
        )
        .where(col(DiningTable.id) == bindparam("table_id"))
        .order_by(col(Check.id))
    )
    if booked_test is not None:
        query = query.add_columns(booked_test())
    return query.with_for_update(of=DiningTable) if locked else query


def _mark_cleared(session: AsyncSession, standing: Sequence[Check]) -> None:
    # Seating a table that was paid but not marked clear means it has been bussed.
    now = utcnow()
    for check in standing:
        if check.status == CheckStatus.CLOSED and check.table_cleared_at is None:
            check.table_cleared_at = now
            session.add(check)


async def _clear_paid_checks(session: AsyncSession, table_id: int) -> None:
    # Seating a table that was paid but not marked clear means it has been bussed.
    paid = await session.exec(
        select(Check).where(
            Check.table_id == table_id, Check.status == CheckStatus.CLOSED, col(Check.table_cleared_at).is_(None)
        )
    )
    now = utcnow()
    for check in paid.all():
        check.table_cleared_at = now
        session.add(check)


def _require_covers(covers: int) -> None:
    if isinstance(covers, bool) or not isinstance(covers, int) or not 1 <= covers <= MAX_COVERS:
        raise InvalidInput(f"Covers must be between 1 and {MAX_COVERS}.")
