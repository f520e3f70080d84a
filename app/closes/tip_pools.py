"""Tip pools: the venue's pooling rule, hours worked, and sharing a day's pool to the cent.

Each command runs in the caller's write transaction and refuses bad input with a message before it
changes anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.closes import calculations as calc
from app.closes import queries
from app.closes.guards import _require, _require_open_day
from app.closes.models import PoolMethod, StaffHours, TipPoolRule, TipShare
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.staff.models import Staff
from app.staff.permissions import Perm, Role


async def save_tip_rule(
    session: AsyncSession,
    *,
    name: str,
    method: PoolMethod | str,
    role_percents: Mapping[str, int],
    include_cash_tips: bool,
    actor: Staff,
) -> TipPoolRule:
    """Set the venue's tip pooling rule (the previous one is archived, so past days keep theirs)."""
    _require(actor, Perm.DAY_CLOSE, "set tip pooling")
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise InvalidInput("Give the rule a name of at most 60 characters.")
    try:
        method = PoolMethod(method)
    except ValueError:
        raise InvalidInput("Choose pooling by role percentage or by hours.") from None
    percents: dict[str, int] = {}
    if method is PoolMethod.ROLE_PERCENT:
        for role, percent in role_percents.items():
            try:
                Role(role)
            except ValueError:
                raise InvalidInput(f"{role} is not a role.") from None
            if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
                raise InvalidInput(f"The {role} share must be a whole percentage from 0 to 100.")
            if percent:
                percents[role] = percent
        if sum(percents.values()) != 100:
            raise InvalidInput(f"The role shares add up to {sum(percents.values())} %; they must add up to 100 %.")
    now = utcnow()
    for old in (await session.exec(select(TipPoolRule).where(col(TipPoolRule.archived_at).is_(None)))).all():
        old.archived_at = now
        old.active = False
        session.add(old)
    rule = TipPoolRule(
        name=name, method=method, role_percents=percents, include_cash_tips=include_cash_tips, created_by=actor.id or 0
    )
    session.add(rule)
    await session.flush()
    await audit.record(
        session,
        "closes.tip_rule",
        actor_id=actor.id,
        subject=f"tip_rule:{rule.id}",
        after={"method": method.value, "role_percents": percents, "include_cash_tips": include_cash_tips},
    )
    return rule


async def stop_pooling(session: AsyncSession, *, actor: Staff) -> None:
    """Turn tip pooling off: each server keeps their own card tips again."""
    _require(actor, Perm.DAY_CLOSE, "set tip pooling")
    now = utcnow()
    for old in (await session.exec(select(TipPoolRule).where(col(TipPoolRule.archived_at).is_(None)))).all():
        old.archived_at = now
        old.active = False
        session.add(old)
    await audit.record(session, "closes.tip_rule_off", actor_id=actor.id, subject="tip_rule")


async def record_hours(session: AsyncSession, *, staff_id: int, day: dt.date, minutes: int, actor: Staff) -> StaffHours:
    """Enter how long someone worked on a business day (for pooling by hours)."""
    _require(actor, Perm.DAY_CLOSE, "enter hours")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 <= minutes <= 24 * 60:
        raise InvalidInput("Hours worked must be between 0 and 24.")
    person = await session.get(Staff, staff_id)
    if person is None:
        raise NotFound("That person does not work here.")
    await _require_open_day(session, day)
    row = (
        await session.exec(select(StaffHours).where(StaffHours.staff_id == staff_id, StaffHours.business_day == day))
    ).first()
    before = row.minutes if row else None
    if row is None:
        row = StaffHours(staff_id=staff_id, business_day=day, minutes=minutes, entered_by=actor.id or 0)
    row.minutes = minutes
    row.entered_by = actor.id or 0
    row.entered_at = utcnow()
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        "closes.hours",
        actor_id=actor.id,
        subject=f"staff:{staff_id}",
        before={"minutes": before} if before is not None else None,
        after={"day": day.isoformat(), "minutes": minutes},
    )
    return row


async def distribute_tips(session: AsyncSession, *, day: dt.date, actor: Staff | None) -> list[TipShare]:
    """Share the day's pool by the active rule, to the cent; recomputed until the day closes."""
    if actor is not None:
        _require(actor, Perm.DAY_CLOSE, "share the tip pool")
    await _require_open_day(session, day)
    rule = await queries.active_rule(session)
    if rule is None:
        raise Conflict("No tip pooling rule is set; each server keeps their own tips.")
    pool = await queries.tip_pool(session, day, include_cash=rule.include_cash_tips)
    members = await queries.pool_members(session, day)
    try:
        if rule.method is PoolMethod.HOURS:
            shares = calc.split_by_hours(pool.total_cents, members)
        else:
            shares = calc.split_by_roles(pool.total_cents, rule.role_percents, members)
    except ValueError as exc:
        raise Conflict(f"The pool of {pool.total_cents / 100:.2f} cannot be shared: {exc}.") from None
    for old in (await session.exec(select(TipShare).where(TipShare.business_day == day))).all():
        await session.delete(old)
    await session.flush()
    result: list[TipShare] = []
    for member in members:
        share = TipShare(
            business_day=day,
            rule_id=rule.id or 0,
            staff_id=member.staff_id,
            role=member.role,
            minutes=member.minutes,
            share_cents=shares.get(member.staff_id, 0),
        )
        session.add(share)
        result.append(share)
    await session.flush()
    await audit.record(
        session,
        "closes.tip_pool",
        actor_id=actor.id if actor else None,
        subject=f"day:{day.isoformat()}",
        after={"pool_cents": pool.total_cents, "shares": {str(m.staff_id): shares.get(m.staff_id, 0) for m in members}},
    )
    return result
