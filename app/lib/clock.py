"""Time in Brigade: always timezone-aware UTC at rest and in code."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A time the database gave back without its column's type (an aggregate or a subquery's): naive means UTC,
    since every time is stored in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def ensure_utc(value: datetime) -> datetime:
    """The same instant in UTC; naive datetimes are refused because their zone is a guess."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: Brigade keeps every time zone-aware")
    return value.astimezone(UTC)
