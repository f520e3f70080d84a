"""What differs between the two databases Brigade runs on, asked in one place."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession


def is_postgres(session: AsyncSession) -> bool:
    """Whether the session talks to PostgreSQL: rows are locked with FOR UPDATE and its own SQL is used.

    On SQLite there is nothing to lock: writers are serialised already (BEGIN IMMEDIATE and a write queue).
    """
    return session.bind is not None and session.bind.dialect.name == "postgresql"
