"""Ringing in, changing, repeating and voiding lines; sending and course actions."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, post
from litestar.params import FromPath
from msgspec import Meta
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import web
from app.lib.db import Turn
from app.lib.errors import InvalidInput, NotFound
from app.lib.manage import FORM
from app.orders import firing, pacing, voids
from app.orders import lines as order_lines
from app.orders.controller_helpers import (
    CheckChange,
    ItemForm,
    LineChangeForm,
    VoidForm,
    _course,
    _once,
    _pacing_trigger,
    _updated,
    _zone,
    item_choices,
    order_post,
)
from app.staff.models import Staff
from app.staff.permissions import Perm


class CourseForm(CheckChange, kw_only=True):
    """A course action; pacing it says when it fires (`trigger`) and after how many minutes."""

    trigger: str = ""
    minutes: Annotated[int, Meta(title="Minutes", ge=0, le=pacing.MAX_MINUTES)] = 0


@post(
    "/checks/{check_id:int}/lines",
    permission=Perm.ORDERS_ENTER,
    include_in_schema=False,
    before_request=item_choices,
)
async def add_line(
    request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int], data: Annotated[ItemForm, FORM]
) -> Response[Any]:
    """Ring in an item with its choices, quantity, seat, course and note."""
    line, version = data.line, data.expected_version

    async def work(session: AsyncSession, actor: Staff, approver: Staff | None) -> Response[Any]:
        added = await order_lines.add_line(
            session, check_id=check_id, request=line, actor=actor, expected_version=version, approver=approver
        )
        return await _updated(request, session, check_id, f"{added.name} added.", quiet=True)

    return await _once(request, db, data, work, check_id=check_id)


@order_post("/checks/{check_id:int}/lines/{line_id:int}", permission=Perm.ORDERS_ENTER, keep_blanks=True)
async def update_line(
    request: Request[Any, Any, Any],
    db: web.Db,
    check_id: FromPath[int],
    line_id: FromPath[int],
    data: Annotated[LineChangeForm, FORM],
) -> Response[Any]:
    """Change an unsent line: quantity, seat, course, note, hold, rush."""
    change, version = data.change, data.expected_version

    async def work(session: AsyncSession, actor: Staff, approver: Staff | None) -> Response[Any]:
        line = await order_lines.update_line(
            session,
            check_id=check_id,
            line_id=line_id,
            change=change,
            actor=actor,
            expected_version=version,
            approver=approver,
        )
        return await _updated(request, session, check_id, f"{line.name} changed.")

    return await _once(request, db, data, work, check_id=check_id)


@order_post("/checks/{check_id:int}/lines/{line_id:int}/repeat", permission=Perm.ORDERS_ENTER)
async def repeat_line(
    request: Request[Any, Any, Any],
    db: web.Db,
    check_id: FromPath[int],
    line_id: FromPath[int],
    data: Annotated[CheckChange, FORM],
) -> Response[Any]:
    """Ring the same item in again, with the same choices."""
    version = data.expected_version

    async def work(session: AsyncSession, actor: Staff, approver: Staff | None) -> Response[Any]:
        line = await order_lines.repeat_line(
            session, check_id=check_id, line_id=line_id, actor=actor, expected_version=version, approver=approver
        )
        return await _updated(request, session, check_id, f"Another {line.name} added.")

    return await _once(request, db, data, work, check_id=check_id)


@order_post("/checks/{check_id:int}/lines/{line_id:int}/void", permission=Perm.ORDERS_ENTER)
async def void_line(
    request: Request[Any, Any, Any],
    db: web.Db,
    check_id: FromPath[int],
    line_id: FromPath[int],
    data: Annotated[VoidForm, FORM],
) -> Response[Any]:
    """Remove an unsent line, or void a sent one with a reason (and a manager's PIN where the role needs it)."""
    reason, quantity, version = data.reason, data.how_many, data.expected_version

    async def work(session: AsyncSession, actor: Staff, approver: Staff | None) -> Response[Any]:
        result = await voids.void_line(
            session,
            check_id=check_id,
            line_id=line_id,
            actor=actor,
            expected_version=version,
            reason=reason,
            quantity=quantity,
            approver=approver,
        )
        message = f"{result.line.name} voided; the kitchen is told." if result.fire else f"{result.line.name} removed."
        return await _updated(request, session, check_id, message)

    return await _once(request, db, data, work, check_id=check_id, turn=Turn.KITCHEN)


@order_post("/checks/{check_id:int}/send", permission=Perm.ORDERS_ENTER)
async def send(
    request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int], data: Annotated[CheckChange, FORM]
) -> Response[Any]:
    """Send every unheld course to the kitchen."""
    version = data.expected_version

    async def work(session: AsyncSession, actor: Staff, approver: Staff | None) -> Response[Any]:
        fires = await firing.send(session, check_id=check_id, actor=actor, expected_version=version, approver=approver)
        names = ", ".join(f.course.label for f in fires if f.course)
        return await _updated(request, session, check_id, f"Sent to the kitchen: {names}.")

    return await _once(request, db, data, work, check_id=check_id, turn=Turn.KITCHEN)


@order_post("/checks/{check_id:int}/courses/{course:str}/{action:str}", permission=Perm.ORDERS_ENTER)
async def course_action(
    request: Request[Any, Any, Any],
    db: web.Db,
    check_id: FromPath[int],
    course: FromPath[str],
    action: FromPath[str],
    data: Annotated[CourseForm, FORM],
) -> Response[Any]:
    """Hold, fire or rush one course; pace it (fire it by itself later), or push its pacing back."""
    try:
        chosen = _course(course)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    if chosen is None or action not in {"hold", "fire", "rush", "pace", "later"}:
        raise NotFound("No such course action.")
    version = data.expected_version
    trigger = _pacing_trigger(data.trigger) if action == "pace" else None
    minutes = data.minutes

    async def work(session: AsyncSession, actor: Staff, approver: Staff | None) -> Response[Any]:
        common: dict[str, Any] = {
            "check_id": check_id,
            "course": chosen,
            "actor": actor,
            "expected_version": version,
            "approver": approver,
        }
        if action == "hold":
            count = await firing.hold_course(session, **common)
            message = f"{chosen.label} held ({count} item{'s' if count != 1 else ''}); fire when ready."
        elif action == "fire":
            await firing.fire_course(session, **common)
            message = f"{chosen.label} fired."
        elif action == "pace":
            assert trigger is not None
            rule = await pacing.pace_course(session, trigger=trigger, minutes=minutes, **common)
            when = f" (about {web.local_time(rule.due_at, _zone(request))})" if rule.due_at else ""
            message = f"{chosen.label} will fire {rule.rule}{when}."
        elif action == "later":
            rule = await pacing.push_back(session, minutes=minutes, **common)
            message = f"{chosen.label} pushed back {minutes} min."
        else:
            fire = await firing.rush_course(session, **common)
            message = f"{chosen.label}: rush sent to the kitchen." if fire else f"{chosen.label} will go out as rush."
        return await _updated(request, session, check_id, message)

    turn = Turn.KITCHEN if action in {"fire", "rush"} else Turn.REQUEST
    return await _once(request, db, data, work, check_id=check_id, turn=turn)
