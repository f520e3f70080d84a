"""Ringing in: add a line (snapshot of name, price, tax and station, portions taken), change it, repeat it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from sqlalchemy import Boolean, Integer, String, bindparam, case, func, insert, literal, or_
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from app.lib.clock import utcnow
from app.lib.db import UTCDateTime
from app.lib.errors import Conflict, DomainError, NotFound
from app.lib.events import emit
from app.lib.sql import rows_as
from app.menu.models import Course, MenuCategory, MenuItem, TaxRate
from app.orders import live, menu_queries
from app.orders.calculations import (
    NOTE_MAX_LENGTH,
    validate_choices,
)
from app.orders.models import (
    Check,
    CheckLine,
    LineModifier,
    LineState,
)
from app.orders.services import (
    UNSENT,
    CheckTotalLowered,
    PortionsReturned,
    PortionsTaken,
    _clean_text,
    _editable_check,
    _line_on,
    _require_quantity,
    _require_seat,
)
from app.promotions import services as promotions
from app.staff.models import Staff

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
    plain = await _ring_in_plain(session, check, request, actor)
    if plain is not None:
        return plain
    asked = {
        "item_id": request.menu_item_id,
        "check_id": check.id,
        "course": request.course.value if request.course else None,
    }
    found = (await session.exec(_item_to_ring_in(), params=asked)).first()
    item, category, tax, joins_held, promotable, asks = (
        found if found is not None else (None, None, None, False, False, False)
    )
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
    # Most dishes ask nothing: their questions are read only when the item's row says it has some.
    questions = await menu_queries.modifier_questions(session, item.id or 0) if asks else []
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


async def _ring_in_plain(session: AsyncSession, check: Check, request: LineRequest, actor: Staff) -> CheckLine | None:
    """Most rings-in, in one statement: a dish on sale that asks nothing, counts no portions and no promotion names,
    copied from the menu into the line as `_ring_in` would. None when the dish or the request is anything else (or
    is refused): `_ring_in` reads the item then, and says why."""
    if request.modifier_ids:
        return None
    try:
        _require_quantity(request.quantity)
        _require_seat(check, request.seat)
        note = _clean_text(request.note, label="The note", max_length=NOTE_MAX_LENGTH)
    except DomainError:
        return None
    values = {
        "item_id": request.menu_item_id,
        "check_id": check.id,
        "course": request.course.value if request.course else None,
        "hold": request.hold,
        "quantity": request.quantity,
        "seat": request.seat,
        "note": note or None,
        "added_by": actor.id,
        "added_at": utcnow(),
    }
    row = (await session.exec(_plain_ring_in(), params=values)).first()
    if row is None:
        return None
    live.checks_written(session, [check])
    line: CheckLine = row[0]
    return line


@cache
def _plain_ring_in() -> Select[CheckLine]:
    """INSERT … SELECT of one line from its menu item, category and tax rate (see `_ring_in_plain`)."""
    course = _course()
    state = case(
        (or_(bindparam("hold", type_=Boolean()), _course_held()), literal(LineState.HELD.value)),
        else_=literal(LineState.PENDING.value),
    )
    source = (
        core_select(
            bindparam("check_id", type_=Integer()),
            col(MenuItem.id),
            col(MenuItem.sku),
            col(MenuItem.name),
            col(MenuCategory.id),
            col(MenuItem.price_cents),
            literal(0),
            bindparam("quantity", type_=Integer()),
            literal(1),
            col(TaxRate.id),
            col(TaxRate.rate_bp),
            func.coalesce(MenuItem.station_id, MenuCategory.station_id),
            col(MenuItem.prep_minutes),
            bindparam("seat", type_=Integer()),
            course,
            bindparam("note", type_=String()),
            state,
            literal(False, Boolean()),
            bindparam("added_by", type_=Integer()),
            bindparam("added_at", type_=UTCDateTime()),
        )
        .join(MenuCategory, col(MenuCategory.id) == col(MenuItem.category_id))
        .join(TaxRate, col(TaxRate.id) == col(MenuCategory.tax_rate_id))
        .where(
            col(MenuItem.id) == bindparam("item_id"),
            col(MenuItem.archived_at).is_(None),
            col(MenuCategory.archived_at).is_(None),
            col(MenuItem.eighty_sixed_at).is_(None),
            col(MenuItem.portions_left).is_(None),
            ~menu_queries.asks_questions(),
            ~promotions.may_apply(),
        )
    )
    columns = [
        "check_id",
        "menu_item_id",
        "sku",
        "name",
        "category_id",
        "unit_price_cents",
        "modifiers_cents",
        "quantity_num",
        "quantity_den",
        "tax_rate_id",
        "tax_rate_bp",
        "station_id",
        "prep_minutes",
        "seat",
        "course",
        "note",
        "state",
        "rush",
        "added_by",
        "added_at",
    ]
    inserted = insert(CheckLine).from_select(columns, source).returning(CheckLine)
    return rows_as(CheckLine, inserted)


def _course() -> Any:
    """The course a ring-in goes to: the one asked for (`course`), else its category's."""
    return func.coalesce(bindparam("course", type_=String()), MenuCategory.course)


def _course_held() -> Any:
    """Whether that course is held on the check (`check_id`): a line rung into it waits with it."""
    return (
        select(CheckLine.id)
        .where(
            col(CheckLine.check_id) == bindparam("check_id"),
            col(CheckLine.course) == _course(),
            col(CheckLine.state) == LineState.HELD,
        )
        .correlate(MenuCategory)
        .exists()
    )


def _portions_refusal(left: int, name: str) -> str:
    return f"Only {left} {name} left. Nothing was added." if left > 0 else f"No {name} left. Nothing was added."


@cache
def _item_to_ring_in() -> Select[MenuItem, MenuCategory, TaxRate | None, bool, bool, bool]:
    """An item with its category and tax rate, whether its course is held on the check, whether a promotion may
    apply and whether it asks questions (built once: see app/orders/queries.py). The course is the one asked for,
    else the category's; a held course keeps what joins it.
    """
    query = (
        select(MenuItem, MenuCategory, TaxRate, _course_held())
        .add_columns(promotions.may_apply())  # whether a live promotion names the item or its category
        .add_columns(menu_queries.asks_questions())
        .join(MenuCategory, col(MenuCategory.id) == col(MenuItem.category_id))
        .outerjoin(TaxRate, col(TaxRate.id) == col(MenuCategory.tax_rate_id))
        .where(col(MenuItem.id) == bindparam("item_id"))
    )
    return cast("Select[MenuItem, MenuCategory, TaxRate | None, bool, bool, bool]", query)


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
