"""Course pacing: a held course that fires by itself, when the course before it is ready at the pass, some minutes
after that course was fired, or timed so that its slowest dish is ready as the guests finish the course before.

A rule waits on a `CoursePacing` row. Its moment becomes known when the course before fires (`course_fired`) or is
ready at the pass (`course_ready`, told by the kitchen); then a timer is set: an outbox row available at that
moment, for that revision of the rule. The timer survives restarts (a process that was down fires what fell due,
once: the outbox claims each row once, and firing claims the rule with its state). The kitchen leads: a course a
server fires by hand, holds again or voids is never fired by pacing, and nothing is fired twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import DomainError, InvalidInput, NotFound
from app.lib.outbox import OutboxMessage, RetryLater, enqueue
from app.menu.models import Course
from app.orders import queries
from app.orders.models import Check, CoursePacing, LineState, PacingState, PacingTrigger
from app.staff.models import Staff

log = logging.getLogger(__name__)

PACE_TOPIC = "orders.pace"
MAX_MINUTES = 180
# The courses pacing follows: drinks go when they are poured, not in the meal's rhythm.
MEAL = (Course.STARTERS, Course.MAINS, Course.DESSERT)


async def pace_course(
    session: AsyncSession,
    *,
    check_id: int,
    course: Course,
    trigger: PacingTrigger,
    minutes: int,
    actor: Staff,
    expected_version: int | None,
    approver: Staff | None = None,
) -> CoursePacing:
    """Hold a course's unsent items and fire them by `trigger`; a rule already waiting on the course is replaced."""
    from app.orders import firing

    if not 0 <= minutes <= MAX_MINUTES:
        raise InvalidInput(f"Minutes must be between 0 and {MAX_MINUTES}; nothing was changed.")
    if minutes == 0 and trigger is PacingTrigger.AFTER_FIRE:
        raise InvalidInput("Say how many minutes after the course before to fire; nothing was changed.")
    if minutes == 0 and trigger is PacingTrigger.TIMED:
        raise InvalidInput("Say how many minutes the guests take over the course before; nothing was changed.")
    await firing.hold_course(
        session, check_id=check_id, course=course, actor=actor, expected_version=expected_version, approver=approver
    )
    view = await _view_of(session, check_id)
    after = previous_course(view, course)
    if after is None:
        # the transaction rolls back, hold included
        raise InvalidInput(f"{course.label} have no course before them to follow; fire them when you are ready.")
    rule = CoursePacing(
        check_id=check_id, course=course, after_course=after, trigger=trigger, minutes=minutes, set_by=actor.id or 0
    )
    session.add(rule)
    view.check.paced = True
    session.add(view.check)
    await session.flush()
    await _reschedule(session, rule, view)
    await audit.record(
        session,
        "course.paced",
        actor_id=actor.id,
        subject=f"check:{check_id}",
        after={"course": course.value, "rule": rule.rule, "due_at": _iso(rule.due_at)},
    )
    return rule


async def push_back(
    session: AsyncSession,
    *,
    check_id: int,
    course: Course,
    minutes: int,
    actor: Staff,
    expected_version: int | None,
    approver: Staff | None = None,
) -> CoursePacing:
    """Fire a paced course `minutes` later than its rule says."""
    from app.orders import services

    if not 1 <= minutes <= MAX_MINUTES:
        raise InvalidInput(f"Push it back by 1 to {MAX_MINUTES} minutes.")
    check = await services.editable_check(session, check_id, actor, expected_version, approver)
    rule = (await queries.waiting_pacing(session, check_id)).get(course) if check.paced else None
    if rule is None:
        raise InvalidInput(f"{course.label} are not paced; nothing was pushed back.")
    rule.pushed_minutes += minutes
    view = await queries.check_view(session, check_id)
    assert view is not None
    await _reschedule(session, rule, view)
    await audit.record(
        session,
        "course.pushed_back",
        actor_id=actor.id,
        subject=f"check:{check_id}",
        after={"course": course.value, "minutes": minutes, "due_at": _iso(rule.due_at)},
    )
    return rule


def previous_course(view: queries.CheckView, course: Course) -> Course | None:
    """The course of the meal before `course` that the check has something in, or None."""
    if course not in MEAL:
        return None
    earlier = [c.course for c in view.courses if c.course in MEAL and c.course.order < course.order and _live(c)]
    return earlier[-1] if earlier else None


def due_time(rule: CoursePacing, view: queries.CheckView, *, ready_at: datetime | None = None) -> datetime | None:
    """When `rule` fires its course, as far as the check tells now; None until the course before has gone out.

    `ready_at` is when the course before was found ready at the pass (the kitchen says so as it happens).
    """
    courses = {c.course: c for c in view.courses}
    before = courses.get(rule.after_course)
    own = courses.get(rule.course)
    if before is None or before.sent == 0 or before.pending or before.held:
        return None
    if ready_at is None and before.all_ready:
        ready_at = utcnow()
    fired_at = before.last_fired_at
    push = timedelta(minutes=rule.pushed_minutes)
    if rule.trigger is PacingTrigger.BUMPED:
        return ready_at + timedelta(minutes=rule.minutes) + push if ready_at else None
    if fired_at is None:
        return None
    if rule.trigger is PacingTrigger.AFTER_FIRE:
        return fired_at + timedelta(minutes=rule.minutes) + push
    # ready as the course before is cleared: it is eaten `minutes` after it is ready, and ours takes its slowest
    # dish's prep time to be ready
    ready = ready_at or fired_at + timedelta(minutes=_slowest(before))
    return ready + timedelta(minutes=rule.minutes - (_slowest(own) if own else 0)) + push


async def course_fired(session: AsyncSession, check: Check, courses: set[Course], by: Staff) -> None:
    """A check's courses went to the kitchen: their own rules are done, and rules that follow them learn when to
    fire. Called by firing, only for a paced check."""
    rules = list((await queries.waiting_pacing(session, check.id or 0)).values())
    view = None
    now = utcnow()
    for rule in rules:
        if rule.course in courses:
            rule.state, rule.ended_at = PacingState.FIRED, now
            rule.outcome = rule.outcome or f"fired by {by.name} before its time"
            session.add(rule)
        elif rule.after_course in courses and rule.trigger is not PacingTrigger.BUMPED:
            view = view or await _view_of(session, check.id or 0)
            await _reschedule(session, rule, view)
    await _still_paced(session, check, rules)


async def course_held(session: AsyncSession, check: Check, course: Course, by: Staff) -> None:
    """A server held a course again: pacing lets go of it (a new rule may be set). Only for a paced check."""
    rules = list((await queries.waiting_pacing(session, check.id or 0)).values())
    for rule in rules:
        if rule.course == course:
            rule.state, rule.ended_at = PacingState.CANCELLED, utcnow()
            rule.outcome = f"held again by {by.name}"
            session.add(rule)
    await _still_paced(session, check, rules)


async def course_ready(session: AsyncSession, check_id: int, course: Course) -> None:
    """The kitchen has everything of a check's course ready at the pass: rules waiting on it fire from now."""
    rules = (
        await session.exec(
            select(CoursePacing).where(
                CoursePacing.check_id == check_id,
                CoursePacing.after_course == course,
                CoursePacing.state == PacingState.WAITING,
                col(CoursePacing.trigger).in_([PacingTrigger.BUMPED, PacingTrigger.TIMED]),
            )
        )
    ).all()
    if not rules:
        return
    view = await _view_of(session, check_id)
    now = utcnow()
    for rule in rules:
        await _reschedule(session, rule, view, ready_at=now)


async def deliver_pace(session: AsyncSession, message: OutboxMessage) -> None:
    """The outbox deliverer for "orders.pace": fire the course of a rule that fell due, once, as its server."""
    from app.orders import firing, services

    rule_id, revision, check_id = (message.payload.get(k) for k in ("pacing_id", "revision", "check_id"))
    if not (isinstance(rule_id, int) and isinstance(revision, int) and isinstance(check_id, int)):
        raise InvalidInput(f"{PACE_TOPIC} message {message.id} is malformed")
    # the check first, as every change to a check does (a server holding the course again waits, or we wait)
    check = await services.get_check_for_update(session, check_id)
    rule = await session.get(CoursePacing, rule_id, populate_existing=True)
    if rule is None or rule.state is not PacingState.WAITING or rule.revision != revision:
        return  # fired, held again, or moved since this timer was set
    now = utcnow()
    if rule.due_at is not None and rule.due_at > now + timedelta(seconds=1):
        raise RetryLater("not due yet", delay=(rule.due_at - now).total_seconds())
    claimed = await session.exec(
        update(CoursePacing)
        .where(
            col(CoursePacing.id) == rule_id,
            col(CoursePacing.state) == PacingState.WAITING,
            col(CoursePacing.revision) == revision,
        )
        .values(state=PacingState.FIRED, ended_at=now, outcome="fired by pacing")
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return
    await session.refresh(rule)
    server = await session.get(Staff, check.server_id)
    if server is None:
        raise NotFound(f"The server of check {check_id} does not exist.")
    try:
        async with session.begin_nested():
            fires = await firing.fire_course(
                session, check_id=check_id, course=rule.course, actor=server, expected_version=None
            )
    except DomainError as refused:
        rule.state, rule.outcome = PacingState.SKIPPED, f"not fired: {refused}"[:200]
        session.add(rule)
        log.info("pacing %s of check %s did not fire: %s", rule_id, check_id, refused)
    else:
        rule.fire_id = fires[0].id if fires else None
        session.add(rule)
        await audit.record(
            session,
            "course.fired_by_pacing",
            actor_id=None,
            subject=f"check:{check_id}",
            after={"course": rule.course.value, "rule": rule.rule, "due_at": _iso(rule.due_at)},
        )
    await _still_paced(session, check)


async def _reschedule(
    session: AsyncSession, rule: CoursePacing, view: queries.CheckView, *, ready_at: datetime | None = None
) -> None:
    due = due_time(rule, view, ready_at=ready_at)
    if due == rule.due_at:
        session.add(rule)
        return
    rule.due_at = due
    rule.revision += 1
    session.add(rule)
    await session.flush()
    if due is not None:
        await enqueue(
            session,
            PACE_TOPIC,
            {"pacing_id": rule.id, "revision": rule.revision, "check_id": rule.check_id},
            dedupe_key=f"{PACE_TOPIC}:{rule.id}:{rule.revision}",
            available_at=due,
        )


async def _still_paced(session: AsyncSession, check: Check, rules: list[CoursePacing] | None = None) -> None:
    if rules is None:
        rules = list((await queries.waiting_pacing(session, check.id or 0)).values())
    paced = any(rule.state is PacingState.WAITING for rule in rules)
    if check.paced != paced:
        check.paced = paced
        session.add(check)


async def _view_of(session: AsyncSession, check_id: int) -> queries.CheckView:
    await session.flush()
    view = await queries.check_view(session, check_id)
    if view is None:
        raise NotFound(f"Check {check_id} does not exist.")
    return view


def _slowest(course: queries.CourseView) -> int:
    return max((v.line.prep_minutes for v in course.lines if v.line.state != LineState.VOIDED), default=0)


def _live(course: queries.CourseView) -> bool:
    return bool(course.pending or course.held or course.sent)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
