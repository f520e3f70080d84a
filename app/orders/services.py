"""Table service commands: seat, ring in, hold and fire, void, transfer, merge, move; each one transaction.

Every command takes the caller's session (one write transaction), checks the check's version when the caller
says which version it saw, and refuses bad input with a message for the person before changing anything.
Whatever reaches the kitchen is a KitchenFire with its FireLines and an outbox row, written in the same
transaction; transfers, merges and moves never write one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, ClassVar, cast

from sqlalchemy import String, Table, and_, bindparam, func, insert, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from app.floor.models import DiningTable
from app.lib import audit
from app.lib.cards import mask_card_numbers
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, ManagerApprovalRequired, NotFound, StaleVersion
from app.lib.events import DomainEvent, emit
from app.lib.outbox import enqueue
from app.menu.models import Course, MenuCategory, MenuItem, TaxRate
from app.orders import pacing, queries
from app.orders.calculations import (
    MAX_COVERS,
    MAX_QUANTITY,
    NOTE_MAX_LENGTH,
    TAB_NAME_MAX_LENGTH,
    VOID_REASON_MAX_LENGTH,
    FirePlan,
    UnsentLine,
    plan_course_fire,
    plan_send,
    validate_choices,
)
from app.orders.models import (
    Check,
    CheckKind,
    CheckLine,
    CheckStatus,
    FireKind,
    FireLine,
    KitchenFire,
    LineModifier,
    LineState,
)
from app.orders.queries import check_label
from app.promotions import services as promotions
from app.staff.models import Staff
from app.staff.permissions import Perm

KITCHEN_FIRE_TOPIC = "kitchen.fire"
UNSENT = (LineState.PENDING, LineState.HELD)
_FIRE_LINES: Table = FireLine.__table__  # type: ignore[attr-defined]
# One more change to a check, the row locked and read back; built once (see app/orders/queries.py).
_COUNT_CHANGE = (
    update(Check)
    .where(col(Check.id) == bindparam("check_id"))
    .values(version=col(Check.version) + 1)
    .returning(Check)
    .execution_options(populate_existing=True, synchronize_session=False)
)


@dataclass(frozen=True)
class CheckTotalLowered(DomainEvent):
    """A void or a smaller quantity took value off a check. Subscribers may refuse (raise), e.g. when paid."""

    name: ClassVar[str] = "orders.check_total_lowered"
    check_id: int


@dataclass(frozen=True)
class PortionsTaken(DomainEvent):
    """A line of a dish made with counted stock was rung in or grew by `quantity`. Subscribers may refuse (raise)."""

    name: ClassVar[str] = "orders.portions_taken"
    line_id: int
    menu_item_id: int
    item_name: str
    quantity: int


@dataclass(frozen=True)
class PortionsReturned(DomainEvent):
    """Lines of these dishes were voided or made smaller: the stock they held is free again."""

    name: ClassVar[str] = "orders.portions_returned"
    menu_item_ids: tuple[int, ...]


# ---------------------------------------------------------------------------------------------- checks


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
) -> Check:
    """Seat a table, open a bar tab by name, or start a takeout; one open check per table unless split."""
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
        table = await _lock_table(session, table_id)
        standing = await _checks_on_table(session, table_id)
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
    now = utcnow()
    check = Check(
        number=0,
        kind=kind,
        table_id=table_id if kind == CheckKind.TABLE else None,
        tab_name=name,
        covers=covers,
        server_id=server.id or 0,
        opened_by=(actor or server).id or 0,
        opened_at=now,
        split_from_id=split_from_id,
    )
    session.add(check)
    await session.flush()
    # The row id is unique across processes without a counter row to lock.
    check.number = check.id or 0
    session.add(check)
    await session.flush()
    return check


async def get_check_for_update(session: AsyncSession, check_id: int, expected_version: int | None = None) -> Check:
    """The check, locked against other writers until this transaction ends (row lock on PostgreSQL).

    A tablet's change made from a stale copy is refused here, before anything else is judged: what it asked
    for was decided on a check that no longer stands (a line it voids may since have been sent, say).
    """
    query = select(Check).where(Check.id == check_id).execution_options(populate_existing=True)
    if _locks_rows(session):
        query = query.with_for_update()
    check = (await session.exec(query)).first()
    if check is None:
        raise NotFound(f"Check {check_id} does not exist.")
    await _require_current(session, check, expected_version)
    return check


async def _require_current(session: AsyncSession, check: Check, expected_version: int | None) -> None:
    await _refuse_stale(session, check, expected_version, seen=check.version)


async def _refuse_stale(session: AsyncSession, check: Check, expected_version: int | None, *, seen: int) -> None:
    """Refuse a change asked for on version `expected_version` of a check that stands at version `seen`."""
    if expected_version is not None and seen != expected_version:
        raise StaleVersion(
            f"{_sentence(await check_label(session, check))} was changed on another tablet. "
            "Here it is as it stands now; nothing was changed — check it and try again.",
            detail={"check_id": check.id, "version": seen},
        )


async def bump_version(session: AsyncSession, check: Check, expected_version: int | None) -> None:
    """Refuse a change made from a stale copy of the check; otherwise count one more change."""
    await _require_current(session, check, expected_version)
    check.version += 1
    session.add(check)


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
        table = await _lock_table(session, to_table_id)
        standing = await _checks_on_table(session, to_table_id)
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


# ---------------------------------------------------------------------------------------------- lines


@dataclass(frozen=True)
class LineRequest:
    """An item as the server rings it in."""

    menu_item_id: int
    quantity: int = 1
    seat: int | None = None
    course: Course | None = None
    note: str = ""
    modifier_ids: tuple[int, ...] = ()
    hold: bool = False


async def add_line(
    session: AsyncSession,
    *,
    check_id: int,
    request: LineRequest,
    actor: Staff,
    expected_version: int | None,
    approver: Staff | None = None,
) -> CheckLine:
    """Ring in one item with its answers, snapshotting name, price, tax rate and station as they are now."""
    check = await _editable_check(session, check_id, actor, expected_version, approver)
    return await _ring_in(session, check, request, actor)


async def _ring_in(session: AsyncSession, check: Check, request: LineRequest, actor: Staff) -> CheckLine:
    asked = {
        "item_id": request.menu_item_id,
        "check_id": check.id,
        "course": request.course.value if request.course else None,
    }
    found = (await session.exec(_item_to_ring_in(), params=asked)).first()
    item, category, tax, joins_held, promotable = found if found is not None else (None, None, None, False, False)
    if item is None or item.archived_at is not None or category is None or category.archived_at is not None:
        raise NotFound("That item is not on the menu; pick it again from the menu.")
    if item.is_86d:
        raise Conflict(
            f"{item.name} is 86'd: {item.eighty_six_reason or 'the kitchen has run out'}. Nothing was added."
        )
    _require_quantity(request.quantity)
    if item.portions_left is not None and request.quantity > item.portions_left:
        raise Conflict(_portions_refusal(item.portions_left, item.name))
    _require_seat(check, request.seat)
    note = _clean_text(request.note, label="The note", max_length=NOTE_MAX_LENGTH)
    questions = await queries.modifier_questions(session, item.id or 0)
    chosen = validate_choices(questions, list(request.modifier_ids))
    if tax is None:
        raise Conflict(f"{category.name} has no tax rate; a manager must fix the menu.")
    course = request.course or category.course
    held = request.hold or bool(joins_held)
    line = CheckLine(
        check_id=check.id or 0,
        menu_item_id=item.id or 0,
        sku=item.sku,
        name=item.name,
        category_id=category.id or 0,
        unit_price_cents=item.price_cents,
        modifiers_cents=sum(c.option.price_delta_cents for c in chosen),
        quantity_num=request.quantity,
        quantity_den=1,
        tax_rate_id=tax.id or 0,
        tax_rate_bp=tax.rate_bp,
        station_id=item.station_id or category.station_id,
        prep_minutes=item.prep_minutes,
        seat=request.seat,
        course=course,
        note=note or None,
        state=LineState.HELD if held else LineState.PENDING,
        added_by=actor.id or 0,
        added_at=utcnow(),
    )
    session.add(line)
    await session.flush()
    if promotable:
        # The promotion running now, if any, is kept on the line: a rule that ends later does not reprice it.
        await promotions.snapshot_for_line(
            session,
            line_id=line.id or 0,
            menu_item_id=item.id or 0,
            category_id=category.id or 0,
            unit_price=item.price_cents,
            at=line.added_at,
        )
    for choice in chosen:
        session.add(
            LineModifier(
                line_id=line.id or 0,
                modifier_id=choice.option.id,
                group_name=choice.question.name,
                name=choice.option.name,
                price_delta_cents=choice.option.price_delta_cents,
                station_id=choice.option.station_id,
            )
        )
    await session.flush()
    if item.portions_left is not None or any(c.option.counts_stock for c in chosen):
        # Only a dish or a choice made with counted stock pays for the check against what is left.
        await emit(session, PortionsTaken(line.id or 0, item.id or 0, item.name, request.quantity))
    return line


def _portions_refusal(left: int, name: str) -> str:
    return f"Only {left} {name} left. Nothing was added." if left > 0 else f"No {name} left. Nothing was added."


@cache
def _item_to_ring_in() -> Select[MenuItem, MenuCategory, TaxRate | None, bool, bool]:
    """An item with its category and tax rate, and whether its course is held on the check (built once: see
    app/orders/queries.py). The course is the one asked for, else the category's; a held course keeps what joins it.
    """
    course_held = (
        select(CheckLine.id)
        .where(
            col(CheckLine.check_id) == bindparam("check_id"),
            col(CheckLine.course) == func.coalesce(bindparam("course", type_=String()), MenuCategory.course),
            col(CheckLine.state) == LineState.HELD,
        )
        .correlate(MenuCategory)
        .exists()
    )
    query = (
        select(MenuItem, MenuCategory, TaxRate, course_held)
        .add_columns(promotions.may_apply())  # whether a live promotion names the item or its category
        .join(MenuCategory, col(MenuCategory.id) == col(MenuItem.category_id))
        .outerjoin(TaxRate, col(TaxRate.id) == col(MenuCategory.tax_rate_id))
        .where(col(MenuItem.id) == bindparam("item_id"))
    )
    return cast("Select[MenuItem, MenuCategory, TaxRate | None, bool, bool]", query)


@dataclass(frozen=True)
class LineChange:
    """What the server changed on an unsent line; None leaves a field as it is."""

    quantity: int | None = None
    seat: int | None = None
    shared: bool = False
    course: Course | None = None
    note: str | None = None
    held: bool | None = None
    rush: bool | None = None


async def update_line(
    session: AsyncSession,
    *,
    check_id: int,
    line_id: int,
    change: LineChange,
    actor: Staff,
    expected_version: int | None,
    approver: Staff | None = None,
) -> CheckLine:
    """Change an unsent line; lines the kitchen has seen can only be voided."""
    check = await _editable_check(session, check_id, actor, expected_version, approver)
    line = await _line_on(session, check, line_id)
    if line.state not in UNSENT:
        raise Conflict(
            f"{line.name} was already sent to the kitchen; it cannot be changed, only voided."
            if line.state == LineState.SENT
            else f"{line.name} is voided."
        )
    lowered = change.quantity is not None and change.quantity < line.quantity
    grown = change.quantity - line.quantity if change.quantity is not None and change.quantity > line.quantity else 0
    if change.quantity is not None:
        _require_quantity(change.quantity)
        line.quantity_num, line.quantity_den = change.quantity, 1
    if change.shared:
        line.seat = None
    elif change.seat is not None:
        _require_seat(check, change.seat)
        line.seat = change.seat
    if change.course is not None:
        line.course = change.course
    if change.note is not None:
        line.note = _clean_text(change.note, label="The note", max_length=NOTE_MAX_LENGTH) or None
    if change.held is not None:
        line.state = LineState.HELD if change.held else LineState.PENDING
    if change.rush is not None:
        line.rush = change.rush
    session.add(line)
    if lowered:
        await emit(session, CheckTotalLowered(check_id=check.id or 0))
        await emit(session, PortionsReturned((line.menu_item_id,)))
    if grown:
        await emit(session, PortionsTaken(line.id or 0, line.menu_item_id, line.name, int(grown)))
    return line


async def repeat_line(
    session: AsyncSession,
    *,
    check_id: int,
    line_id: int,
    actor: Staff,
    expected_version: int | None,
    approver: Staff | None = None,
) -> CheckLine:
    """Ring the same item in again (another round), with its answers, seat, course and note, at today's price."""
    check = await _editable_check(session, check_id, actor, expected_version, approver)
    line = await _line_on(session, check, line_id)
    modifier_ids = (await session.exec(select(LineModifier.modifier_id).where(LineModifier.line_id == line.id))).all()
    request = LineRequest(
        menu_item_id=line.menu_item_id,
        quantity=line.quantity_num if line.quantity_den == 1 else 1,
        seat=line.seat if line.seat is None or line.seat <= check.covers else None,
        course=line.course,
        note=line.note or "",
        modifier_ids=tuple(modifier_ids),
    )
    return await _ring_in(session, check, request, actor)


@dataclass(frozen=True)
class VoidResult:
    """What a void did: the line (what is left of it) and the kitchen message, if the kitchen had it."""

    line: CheckLine
    fire: KitchenFire | None


async def void_line(
    session: AsyncSession,
    *,
    check_id: int,
    line_id: int,
    actor: Staff,
    expected_version: int | None,
    reason: str = "",
    quantity: int | None = None,
    approver: Staff | None = None,
) -> VoidResult:
    """Take a line off the check: unsent lines simply go; sent ones need a reason and reach the kitchen as a void.

    A server without the permission needs a manager's PIN for a void after send, in the same flow.
    """
    check = await get_check_for_update(session, check_id, expected_version)
    _require_open(check)
    editor_approver = await _require_editor(session, check, actor, approver)
    line = await _line_on(session, check, line_id)
    if line.state == LineState.VOIDED:
        raise Conflict(f"{line.name} is already voided.")
    now = utcnow()
    whole = line.quantity_num if line.quantity_den == 1 else None
    if quantity is not None and (whole is None or not 1 <= quantity <= whole):
        limit = f"between 1 and {whole}" if whole else "the whole line"
        raise InvalidInput(f"Void quantity must be {limit}.")
    if line.state in UNSENT:
        await bump_version(session, check, expected_version)
        before = _line_snapshot(line)
        removed = await _void_part(session, line, quantity)
        await emit(session, CheckTotalLowered(check_id=check.id or 0))
        await emit(session, PortionsReturned((line.menu_item_id,)))
        removed.voided_at, removed.voided_by = now, actor.id
        removed.void_reason = (
            _clean_text(reason, label="The reason", max_length=VOID_REASON_MAX_LENGTH) or "removed before sending"
        )
        session.add(removed)
        await audit.record(
            session,
            "line.remove",
            actor_id=actor.id,
            approver_id=editor_approver,
            subject=f"check:{check.id}",
            reason=removed.void_reason,
            before=before,
            after={"removed_quantity": removed.quantity_num, "removed_line_id": removed.id},
        )
        return VoidResult(line, None)
    reason = _clean_text(reason, label="The reason", max_length=VOID_REASON_MAX_LENGTH)
    if not reason:
        raise InvalidInput(f"{line.name} was sent to the kitchen: give a reason for the void.")
    approver_id = editor_approver
    if not actor.can(Perm.VOID_AFTER_SEND):
        approver_id = await _approval(
            session, check, actor, approver, Perm.VOID_AFTER_SEND, f"void {line.name} after send"
        )
    await bump_version(session, check, expected_version)
    before = _line_snapshot(line)
    voided = await _void_part(session, line, quantity)
    await emit(session, CheckTotalLowered(check_id=check.id or 0))
    await emit(session, PortionsReturned((line.menu_item_id,)))
    voided_qty = voided.quantity_num
    voided.voided_at, voided.voided_by, voided.void_approved_by, voided.void_reason = now, actor.id, approver_id, reason
    session.add(voided)
    fire = KitchenFire(
        check_id=check.id or 0, kind=FireKind.VOID, course=line.course, fired_at=now, fired_by=actor.id or 0
    )
    session.add(fire)
    await session.flush()
    # The kitchen knows the original line; the fire says how much of it to stop making.
    session.add(
        FireLine(fire_id=fire.id or 0, line_id=line.id or 0, quantity_num=voided_qty, quantity_den=line.quantity_den)
    )
    await _announce(session, fire)
    await audit.record(
        session,
        "line.void_after_send",
        actor_id=actor.id,
        approver_id=approver_id,
        subject=f"check:{check.id}",
        reason=reason,
        before=before,
        after={"voided_quantity": voided_qty, "fire_id": fire.id, "voided_line_id": voided.id},
    )
    return VoidResult(line, fire)


async def _void_part(session: AsyncSession, line: CheckLine, quantity: int | None) -> CheckLine:
    """The voided line: `line` itself, or for part of it a voided copy while `line` keeps the rest."""
    if quantity is None or line.quantity_den != 1 or quantity >= line.quantity_num:
        line.state = LineState.VOIDED
        session.add(line)
        return line
    line.quantity_num -= quantity
    session.add(line)
    copy = await _split_off(session, line, quantity)
    copy.state = LineState.VOIDED
    session.add(copy)
    return copy


async def _split_off(session: AsyncSession, line: CheckLine, quantity: int) -> CheckLine:
    """A copy of `line` for `quantity` of it, with its modifiers, pointing back at where it came from."""
    data = line.model_dump(exclude={"id"})
    copy = CheckLine(**{**data, "quantity_num": quantity, "quantity_den": 1, "origin_line_id": line.id})
    session.add(copy)
    await session.flush()
    for modifier in (await session.exec(select(LineModifier).where(LineModifier.line_id == line.id))).all():
        session.add(LineModifier(**{**modifier.model_dump(exclude={"id"}), "line_id": copy.id or 0}))
    return copy


# ---------------------------------------------------------------------------------------------- hold and fire


async def send(
    session: AsyncSession, *, check_id: int, actor: Staff, expected_version: int | None, approver: Staff | None = None
) -> list[KitchenFire]:
    """'Send': fire every unheld line, one kitchen message per course; held courses wait."""
    check = await _editable_check(session, check_id, actor, expected_version, approver)
    lines = await _check_lines(session, check)
    unsent = _unsent(lines)
    plans = plan_send(unsent, _fired_courses(lines))
    if not plans:
        held = sorted({line.course for line in unsent}, key=lambda c: c.order)
        if held:
            names = ", ".join(c.label for c in held)
            raise InvalidInput(
                f"Nothing to send: {names} {'is' if len(held) == 1 else 'are'} on hold. Fire it instead."
            )
        raise InvalidInput("Nothing to send: every item is already with the kitchen.")
    return await _fire(session, check, plans, actor, lines)


async def fire_course(
    session: AsyncSession,
    *,
    check_id: int,
    course: Course,
    actor: Staff,
    expected_version: int | None,
    approver: Staff | None = None,
) -> list[KitchenFire]:
    """'Fire <course>': send a course's lines now, held or not."""
    check = await _editable_check(session, check_id, actor, expected_version, approver)
    lines = await _check_lines(session, check)
    plans = plan_course_fire(_unsent(lines), course, _fired_courses(lines))
    if not plans:
        raise InvalidInput(f"Nothing to fire in {course.label}: no {course.label.lower()} are waiting.")
    return await _fire(session, check, plans, actor, lines)


async def hold_course(
    session: AsyncSession,
    *,
    check_id: int,
    course: Course,
    actor: Staff,
    expected_version: int | None,
    approver: Staff | None = None,
) -> int:
    """Keep a course's unsent lines back until it is fired; items added to it later wait too."""
    check = await _editable_check(session, check_id, actor, expected_version, approver)
    pending = [line for line in await _unsent_line_rows(session, check) if line.course == course]
    if not pending:
        raise InvalidInput(f"Nothing to hold in {course.label}: no unsent {course.label.lower()}.")
    for line in pending:
        line.state = LineState.HELD
        session.add(line)
    if check.paced:
        await pacing.course_held(session, check, course, actor)
    return len(pending)


async def rush_course(
    session: AsyncSession,
    *,
    check_id: int,
    course: Course,
    actor: Staff,
    expected_version: int | None,
    approver: Staff | None = None,
) -> KitchenFire | None:
    """'Rush': tell the kitchen to hurry a course it has; unsent lines of the course go out marked rush."""
    check = await _editable_check(session, check_id, actor, expected_version, approver)
    lines = (
        await session.exec(
            select(CheckLine).where(
                CheckLine.check_id == check.id, CheckLine.course == course, CheckLine.state != LineState.VOIDED
            )
        )
    ).all()
    unsent = [line for line in lines if line.state in UNSENT and not line.rush]
    sent = [line for line in lines if line.state == LineState.SENT and not line.rush]
    if not unsent and not sent:
        raise InvalidInput(f"Nothing to rush in {course.label}.")
    for line in unsent:
        line.rush = True
        session.add(line)
    if not sent:
        return None
    now = utcnow()
    fire = KitchenFire(check_id=check.id or 0, kind=FireKind.RUSH, course=course, fired_at=now, fired_by=actor.id or 0)
    session.add(fire)
    await session.flush()
    for line in sent:
        line.rush = True
        session.add(line)
        session.add(
            FireLine(
                fire_id=fire.id or 0,
                line_id=line.id or 0,
                quantity_num=line.quantity_num,
                quantity_den=line.quantity_den,
            )
        )
    await _announce(session, fire)
    return fire


async def _fire(
    session: AsyncSession, check: Check, plans: Sequence[FirePlan], actor: Staff, check_lines: Sequence[CheckLine]
) -> list[KitchenFire]:
    now = utcnow()
    fires: list[KitchenFire] = []
    lines = {line.id: line for line in check_lines}
    told: list[dict[str, int]] = []
    for plan in plans:
        fire = KitchenFire(
            check_id=check.id or 0,
            kind=FireKind.ADDITION if plan.addition else FireKind.NEW,
            course=plan.course,
            fired_at=now,
            fired_by=actor.id or 0,
        )
        session.add(fire)
        await session.flush()
        for line_id in plan.line_ids:
            line = lines[line_id]
            line.state, line.sent_at, line.fire_id = LineState.SENT, now, fire.id
            session.add(line)
            told.append(
                {
                    "fire_id": fire.id or 0,
                    "line_id": line_id,
                    "quantity_num": line.quantity_num,
                    "quantity_den": line.quantity_den,
                }
            )
        await _announce(session, fire)
        fires.append(fire)
    if check.paced:
        await pacing.course_fired(session, check, {plan.course for plan in plans}, actor)
    if told:
        # What the kitchen is told about each line: one statement for all, since nothing reads the rows back here.
        await session.exec(insert(_FIRE_LINES), params=told)
    await session.flush()
    return fires


async def _announce(session: AsyncSession, fire: KitchenFire) -> None:
    await session.flush()
    await enqueue(session, KITCHEN_FIRE_TOPIC, {"fire_id": fire.id}, dedupe_key=f"{KITCHEN_FIRE_TOPIC}:{fire.id}")


# ---------------------------------------------------------------------------------------------- internals


def _locks_rows(session: AsyncSession) -> bool:
    # SQLite serialises writers with BEGIN IMMEDIATE; PostgreSQL needs the row lock.
    return session.bind is not None and session.bind.dialect.name != "sqlite"


async def _lock_table(session: AsyncSession, table_id: int) -> DiningTable:
    query = select(DiningTable).where(DiningTable.id == table_id)
    if _locks_rows(session):
        query = query.with_for_update()
    table = (await session.exec(query)).first()
    if table is None or table.archived_at is not None:
        raise NotFound(f"There is no table {table_id} on the floor plan; reload the floor.")
    return table


async def _lock_two(session: AsyncSession, first_id: int, second_id: int) -> tuple[Check, Check]:
    # Always lock in id order so two tablets merging the same pair cannot deadlock.
    locked = {check_id: await get_check_for_update(session, check_id) for check_id in sorted((first_id, second_id))}
    return locked[first_id], locked[second_id]


_CHECKS_ON_TABLE = (
    select(Check)
    .where(
        col(Check.table_id) == bindparam("table_id"),
        or_(
            col(Check.status) == CheckStatus.OPEN,
            and_(col(Check.status) == CheckStatus.CLOSED, col(Check.table_cleared_at).is_(None)),
        ),
    )
    .order_by(col(Check.id))
)


async def _checks_on_table(session: AsyncSession, table_id: int) -> list[Check]:
    """The checks a table shows: open ones, and paid ones not yet marked clear; oldest first."""
    return list((await session.exec(_CHECKS_ON_TABLE, params={"table_id": table_id})).all())


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


def _require_open(check: Check) -> None:
    if check.status == CheckStatus.MERGED:
        raise Conflict(f"Check #{check.number} was merged into another check; nothing was changed.")
    if check.status != CheckStatus.OPEN:
        raise Conflict(f"Check #{check.number} is {check.status.value}; nothing was changed.")


async def editable_check(
    session: AsyncSession, check_id: int, actor: Staff, expected_version: int | None, approver: Staff | None
) -> Check:
    """The check, locked and counted as changed, once it is open, current and `actor` (or `approver`) may change
    it."""
    return await _editable_check(session, check_id, actor, expected_version, approver)


async def _editable_check(
    session: AsyncSession, check_id: int, actor: Staff, expected_version: int | None, approver: Staff | None
) -> Check:
    # Locking the row and counting the change are one statement (the UPDATE takes the row lock on PostgreSQL, as
    # FOR UPDATE would); whatever is refused below raises, and the rollback takes the count back with it.
    check: Check | None = (await session.exec(_COUNT_CHANGE, params={"check_id": check_id})).scalars().first()
    if check is None:
        raise NotFound(f"Check {check_id} does not exist.")
    await _refuse_stale(session, check, expected_version, seen=check.version - 1)
    _require_open(check)
    await _require_editor(session, check, actor, approver)
    return check


async def _require_editor(session: AsyncSession, check: Check, actor: Staff, approver: Staff | None) -> int | None:
    """Only the owning server, or someone with the permission, changes a check; the approver's id if one was needed."""
    if actor.id == check.server_id or actor.can(Perm.CHECKS_EDIT_ANY):
        return None
    return await _approval(session, check, actor, approver, Perm.CHECKS_EDIT_ANY, "change it")


async def _approval(
    session: AsyncSession, check: Check, actor: Staff, approver: Staff | None, perm: Perm, doing: str
) -> int:
    owner = await session.get(Staff, check.server_id)
    label = await check_label(session, check)
    if approver is None:
        whose = f"{_sentence(label)} is {owner.name}'s. " if owner and perm == Perm.CHECKS_EDIT_ANY else ""
        raise ManagerApprovalRequired(
            f"{whose}A manager's PIN is needed to {doing}.", detail={"permission": perm.value, "check_id": check.id}
        )
    if not approver.can(perm):
        raise ManagerApprovalRequired(
            f"{approver.name} cannot approve this; a manager's PIN is needed to {doing}.",
            detail={"permission": perm.value, "check_id": check.id},
        )
    await audit.record(
        session,
        "check.override",
        actor_id=actor.id,
        approver_id=approver.id,
        subject=f"check:{check.id}",
        reason=f"approved with PIN: {perm.value}",
    )
    return approver.id or 0


async def _line_on(session: AsyncSession, check: Check, line_id: int) -> CheckLine:
    line = await session.get(CheckLine, line_id)
    if line is None or line.check_id != check.id:
        raise NotFound(f"That item is not on check #{check.number} (any more); reload the check.")
    return line


async def _unsent_line_rows(session: AsyncSession, check: Check) -> list[CheckLine]:
    result = await session.exec(
        select(CheckLine)
        .where(CheckLine.check_id == check.id, col(CheckLine.state).in_(UNSENT))
        .order_by(col(CheckLine.id))
    )
    return list(result.all())


_CHECK_LINES = select(CheckLine).where(col(CheckLine.check_id) == bindparam("check_id")).order_by(col(CheckLine.id))


async def _check_lines(session: AsyncSession, check: Check) -> list[CheckLine]:
    return list((await session.exec(_CHECK_LINES, params={"check_id": check.id})).all())


def _unsent(lines: Sequence[CheckLine]) -> list[UnsentLine]:
    return [
        UnsentLine(line.id or 0, line.course, line.state == LineState.HELD) for line in lines if line.state in UNSENT
    ]


def _fired_courses(lines: Sequence[CheckLine]) -> set[Course]:
    return {line.course for line in lines if line.sent_at is not None}


def _require_covers(covers: int) -> None:
    if isinstance(covers, bool) or not isinstance(covers, int) or not 1 <= covers <= MAX_COVERS:
        raise InvalidInput(f"Covers must be between 1 and {MAX_COVERS}.")


def _require_quantity(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(f"Quantity must be between 1 and {MAX_QUANTITY}.")


def _require_seat(check: Check, seat: int | None) -> None:
    if seat is None:
        return
    if isinstance(seat, bool) or not isinstance(seat, int) or seat < 1:
        raise InvalidInput("A seat is a number from 1, or 'shared'.")
    if seat > check.covers:
        raise InvalidInput(
            f"There is no seat {seat}: the check has {check.covers} cover{'s' if check.covers != 1 else ''}. "
            "Add a cover first."
        )


def _clean_text(value: str | None, *, label: str, max_length: int) -> str:
    text = (value or "").strip()
    if len(text) > max_length:
        raise InvalidInput(f"{label} is {len(text)} characters; the limit is {max_length}.")
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise InvalidInput(f"{label} contains control characters.")
    # A card number read out by a guest never reaches the check, the kitchen or the printer.
    return mask_card_numbers(text)


def _line_snapshot(line: CheckLine) -> dict[str, Any]:
    return {
        "line_id": line.id,
        "name": line.name,
        "quantity": f"{line.quantity_num}/{line.quantity_den}" if line.quantity_den != 1 else line.quantity_num,
        "unit_total_cents": line.unit_total_cents,
        "state": line.state.value,
        "seat": line.seat,
        "course": line.course.value,
        "sent_at": _iso(line.sent_at),
    }


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
