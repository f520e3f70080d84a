"""Staff sessions: the logged-in person behind a cookie on each request, touching it, and logging out."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NewType

from sqlalchemy import bindparam, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib.clock import utcnow
from app.staff.models import Device, Staff, StaffSession

TokenHash = NewType("TokenHash", str)
"""A cookie or API token's digest: what the database keeps and looks sessions up by (a raw token finds nothing)."""


def hash_token(token: str) -> TokenHash:
    """Tokens are stored as digests, so a copy of the database cannot log anyone in."""
    return TokenHash(hashlib.sha256(token.encode()).hexdigest())


async def end_session(session: AsyncSession, token: str | None) -> None:
    """Log out (or lock) the session behind a cookie token, if any."""
    if not token:
        return
    row = (await session.exec(select(StaffSession).where(StaffSession.token_hash == hash_token(token)))).first()
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        session.add(row)


@dataclass(frozen=True)
class ActiveSession:
    """A live login and its person."""

    session_id: int
    staff: Staff
    device_id: int | None
    last_seen_at: datetime
    created_at: datetime


async def active_session(
    session: AsyncSession,
    token_hash: TokenHash,
    *,
    idle: timedelta,
    max_age: timedelta,
    now: datetime | None = None,
) -> ActiveSession | None:
    """The live session behind a cookie token's digest (`hash_token`); idle or too old means none (the device shows
    the PIN pad)."""
    now = now or utcnow()
    row = (await session.exec(_SESSION_AND_STAFF, params={"token_hash": token_hash})).first()
    if row is None:
        return None
    staff_session, staff = row
    if staff_session.ended_at is not None or staff.archived_at is not None:
        return None
    if now - staff_session.last_seen_at > idle or now - staff_session.created_at > max_age:
        return None
    return ActiveSession(
        staff_session.id or 0, staff, staff_session.device_id, staff_session.last_seen_at, staff_session.created_at
    )


# Every request reads it: built once, since SQLAlchemy derives a new statement's cache key at more cost than it runs.
_SESSION_AND_STAFF = (
    select(StaffSession, Staff)
    .join(Staff, col(Staff.id) == col(StaffSession.staff_id))
    .where(col(StaffSession.token_hash) == bindparam("token_hash"))
)


async def touch_session(
    session: AsyncSession,
    session_id: int,
    now: datetime | None = None,
    *,
    device_id: int | None = None,
    address: str | None = None,
) -> None:
    """Record activity so the idle lock counts from now, and when and where its device was last seen."""
    now = now or utcnow()
    row = await session.get(StaffSession, session_id)
    if row is not None and row.ended_at is None:
        row.last_seen_at = now
        session.add(row)
    if device_id is not None:
        await session.exec(
            update(Device).where(col(Device.id) == device_id).values(last_seen_at=now, last_address=address)
        )
