"""Locking and unlocking a day's books."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.models import LockedDay
from app.accounting.services import REASON_MAX, _guard_day, _require_date
from app.lib import audit
from app.lib.errors import Conflict
from app.lib.inputs import clean_text


async def lock_day(
    session: AsyncSession, day: dt.date, *, actor_id: int | None = None, reason: str | None = None
) -> LockedDay:
    """Close the books for `day`: later postings on it are refused. Locking twice is harmless."""
    day = _require_date(day, "Day")
    reason = clean_text(reason, label="Reason", max_length=REASON_MAX, required=False) or None
    await _guard_day(session, day, exclusive=True)
    existing = (await session.exec(select(LockedDay).where(LockedDay.day == day))).first()
    if existing is not None:
        return existing
    locked = LockedDay(day=day, actor_id=actor_id, reason=reason)
    session.add(locked)
    await session.flush()
    await audit.record(
        session, "accounting.day.lock", actor_id=actor_id, subject=f"ledger_day:{day.isoformat()}", reason=reason
    )
    return locked


async def unlock_day(session: AsyncSession, day: dt.date, *, reason: str, actor_id: int | None = None) -> None:
    """Reopen a locked day's books (audited, with a reason); refused when the day is not locked."""
    day = _require_date(day, "Day")
    reason = clean_text(reason, label="Reason", max_length=REASON_MAX)
    await _guard_day(session, day, exclusive=True)
    existing = (await session.exec(select(LockedDay).where(LockedDay.day == day))).first()
    if existing is None:
        raise Conflict(f"The books for {day.isoformat()} are not locked.")
    await session.delete(existing)
    await session.flush()
    await audit.record(
        session,
        "accounting.day.unlock",
        actor_id=actor_id,
        subject=f"ledger_day:{day.isoformat()}",
        reason=reason,
        before={"locked_at": existing.locked_at.isoformat(), "actor_id": existing.actor_id},
    )
