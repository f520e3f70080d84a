"""Ringing in, changing, repeating and voiding lines; sending and course actions."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.params import FromPath
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import web
from app.lib.errors import NotFound
from app.orders import dialogs, firing, pacing, voids
from app.orders import lines as order_lines
from app.orders.calculations import NOTE_MAX_LENGTH, VOID_REASON_MAX_LENGTH
from app.orders.controller_helpers import (
    _course,
    _flag,
    _once,
    _pacing_trigger,
    _required_int,
    _seat,
    _updated,
    _version,
    _zone,
)
from app.staff.models import Staff
from app.staff.permissions import Perm


@post("/checks/{check_id:int}/lines", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def add_line(request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int]) -> Response[Any]:
    """Ring in an item with its choices, quantity, seat, course and note."""
    fields = await web.form_data(request)
    line = order_lines.LineRequest(
        menu_item_id=_required_int(fields, "menu_item_id", label="The item"),
        quantity=web.field_int(fields, "quantity", label="Quantity", default=1),
        seat=_seat(fields),
        course=_course(fields.get("course")),
        note=web.field_text(fields, "note", label="The note", max_length=NOTE_MAX_LENGTH, required=False),
        modifier_ids=tuple(
            web.field_int({"choice": value}, "choice", label="A choice", minimum=1, maximum=2**31 - 1)
            for value in dialogs.chosen_values(fields)
        ),
        hold=_flag(fields, "hold"),
    )
    version = _version(fields)

    async def work(session: AsyncSession, actor: Staff, approver: Staff | None) -> Response[Any]:
        added = await order_lines.add_line(
            session, check_id=check_id, request=line, actor=actor, expected_version=version, approver=approver
        )
        return await _updated(request, session, check_id, f"{added.name} added.", quiet=True)

    return await _once(request, db, fields, work, check_id=check_id)


@post("/checks/{check_id:int}/lines/{line_id:int}", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def update_line(
    request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int], line_id: FromPath[int]
) -> Response[Any]:
    """Change an unsent line: quantity, seat, course, note, hold, rush."""
    fields = await web.form_data(request)
    seat_given = "seat" in fields
    seat = _seat(fields) if seat_given else None
    change = order_lines.LineChange(
        quantity=web.field_int(fields, "quantity", label="Quantity") if "quantity" in fields else None,
        seat=seat,
        shared=seat_given and seat is None,
        course=_course(fields.get("course")) if fields.get("course") else None,
        note=web.field_text(fields, "note", label="The note", max_length=NOTE_MAX_LENGTH, required=False)
        if "note" in fields
        else None,
        held=_flag(fields, "hold") if "hold" in fields else None,
        rush=_flag(fields, "rush") if "rush" in fields else None,
    )
    version = _version(fields)

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

    return await _once(request, db, fields, work, check_id=check_id)


@post("/checks/{check_id:int}/lines/{line_id:int}/repeat", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def repeat_line(
    request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int], line_id: FromPath[int]
) -> Response[Any]:
    """Ring the same item in again, with the same choices."""
    fields = await web.form_data(request)
    version = _version(fields)

    async def work(session: AsyncSession, actor: Staff, approver: Staff | None) -> Response[Any]:
        line = await order_lines.repeat_line(
            session, check_id=check_id, line_id=line_id, actor=actor, expected_version=version, approver=approver
        )
        return await _updated(request, session, check_id, f"Another {line.name} added.")

    return await _once(request, db, fields, work, check_id=check_id)


@post("/checks/{check_id:int}/lines/{line_id:int}/void", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def void_line(
    request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int], line_id: FromPath[int]
) -> Response[Any]:
    """Remove an unsent line, or void a sent one with a reason (and a manager's PIN where the role needs it)."""
    fields = await web.form_data(request)
    reason = web.field_text(fields, "reason", label="The reason", max_length=VOID_REASON_MAX_LENGTH, required=False)
    quantity = web.field_int(fields, "quantity", label="Void quantity") if fields.get("quantity") else None
    version = _version(fields)

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

    return await _once(request, db, fields, work, check_id=check_id)


@post("/checks/{check_id:int}/send", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def send(request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int]) -> Response[Any]:
    """Send every unheld course to the kitchen."""
    fields = await web.form_data(request)
    version = _version(fields)

    async def work(session: AsyncSession, actor: Staff, approver: Staff | None) -> Response[Any]:
        fires = await firing.send(session, check_id=check_id, actor=actor, expected_version=version, approver=approver)
        names = ", ".join(f.course.label for f in fires if f.course)
        return await _updated(request, session, check_id, f"Sent to the kitchen: {names}.")

    return await _once(request, db, fields, work, check_id=check_id)


@post("/checks/{check_id:int}/courses/{course:str}/{action:str}", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def course_action(
    request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int], course: FromPath[str], action: FromPath[str]
) -> Response[Any]:
    """Hold, fire or rush one course; pace it (fire it by itself later), or push its pacing back."""
    fields = await web.form_data(request)
    chosen = _course(course)
    if chosen is None or action not in {"hold", "fire", "rush", "pace", "later"}:
        raise NotFound("No such course action.")
    version = _version(fields)
    trigger = _pacing_trigger(fields) if action == "pace" else None
    minutes = web.field_int(fields, "minutes", label="Minutes", minimum=0, maximum=pacing.MAX_MINUTES, default=0)

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

    return await _once(request, db, fields, work, check_id=check_id)
