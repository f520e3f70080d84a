"""Telling the kitchen: send, hold, fire and rush a course.

Whatever reaches the kitchen is a KitchenFire with its FireLines and an outbox row, written in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib.clock import utcnow
from app.lib.errors import InvalidInput
from app.lib.outbox import enqueue
from app.menu.models import Course
from app.orders import pacing
from app.orders.calculations import (
    FirePlan,
    plan_course_fire,
    plan_send,
)
from app.orders.models import (
    Check,
    CheckLine,
    FireKind,
    FireLine,
    KitchenFire,
    LineState,
)
from app.orders.services import (
    _FIRE_LINES,
    KITCHEN_FIRE_TOPIC,
    UNSENT,
    _check_lines,
    _editable_check,
    _fired_courses,
    _unsent,
    _unsent_line_rows,
)
from app.staff.models import Staff

_TELL_LINES = insert(_FIRE_LINES)
"""What the kitchen is told about each line fired, all lines in one statement: built once."""

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
        await session.exec(_TELL_LINES, params=told)
    await session.flush()
    return fires


async def _announce(session: AsyncSession, fire: KitchenFire) -> None:
    await session.flush()
    await enqueue(session, KITCHEN_FIRE_TOPIC, {"fire_id": fire.id}, dedupe_key=f"{KITCHEN_FIRE_TOPIC}:{fire.id}")
