"""Read models for guests: search by phone, name or email, and one guest's page."""

from __future__ import annotations

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from app.guests.models import Guest

SEARCH_LIMIT = 20
MAX_PAGE = 100
# Fewer digits than this match too many numbers to be a phone search; they are read as part of a name.
PHONE_SEARCH_MIN_DIGITS = 3


# A number's last nine digits are the same however it was written: "+44 20 7946 0018", "020 7946 0018".
PHONE_KEY_DIGITS = 9


def digits_of(text: str) -> str:
    """Only the digits of `text`."""
    return "".join(c for c in text if c.isdigit())


def phone_key(text: str) -> str:
    """What a phone number is stored and searched by: its last nine digits, so a country code or a trunk 0 is moot."""
    return digits_of(text)[-PHONE_KEY_DIGITS:]


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matching(q: str) -> SelectOfScalar[Guest]:
    query = select(Guest).where(col(Guest.erased_at).is_(None))
    q = q.strip()
    if not q:
        return query
    digits = digits_of(q)
    if len(digits) >= PHONE_SEARCH_MIN_DIGITS and len(digits) * 2 >= len(q.replace(" ", "")):
        # Mostly digits: a phone number, however it was typed.
        return query.where(col(Guest.phone_digits).like(_like(phone_key(digits)), escape="\\"))
    pattern = _like(q)
    return query.where(
        or_(
            func.lower(col(Guest.name)).like(pattern, escape="\\"),
            func.lower(col(Guest.email)).like(pattern, escape="\\"),
        )
    )


async def search_guests(session: AsyncSession, q: str, *, limit: int = SEARCH_LIMIT, offset: int = 0) -> list[Guest]:
    """Guests on file (never erased ones) whose phone, name or email holds `q`, by name; all of them when blank."""
    limit = max(1, min(limit, MAX_PAGE))
    query = _matching(q).order_by(func.lower(col(Guest.name)), col(Guest.id)).limit(limit).offset(max(0, offset))
    return list((await session.exec(query)).all())


async def count_guests(session: AsyncSession, q: str) -> int:
    """How many guests `search_guests` would find across all pages."""
    query = _matching(q).with_only_columns(func.count()).order_by(None)
    return int((await session.exec(query)).one())  # type: ignore[call-overload]
