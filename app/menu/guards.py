"""What every menu command leans on: the row it changes (locked), a live kitchen station, the audit entry,
and archiving or restoring without deleting anything history points to.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import column, table
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import audit
from app.lib.errors import InvalidInput, NotFound
from app.lib.events import emit
from app.lib.sql import is_postgres
from app.menu.events import MenuChanged

# Stations belong to the kitchen package, which depends on the menu; reading the few columns the
# menu needs from the table itself keeps that dependency pointing one way.
STATION = table("station", column("id"), column("name"), column("sort_order"), column("archived_at"))

Row = TypeVar("Row", bound=SQLModel)


class _Archivable(Protocol):
    id: int | None
    name: str
    archived_at: datetime | None


Archivable = TypeVar("Archivable", bound=_Archivable)


async def row_to_change(session: AsyncSession, model: type[Row], record_id: int, *, what: str) -> Row:
    """A row by id, locked against concurrent edits on PostgreSQL (SQLite writes are serial already)."""
    query = select(model).where(model.id == record_id)  # type: ignore[attr-defined]
    if is_postgres(session):
        query = query.with_for_update()
    row = (await session.exec(query)).first()
    if row is None:
        raise NotFound(f"No such {what}.")
    return row


def snapshot(row: SQLModel, **extra: Any) -> dict[str, Any]:
    data = row.model_dump(mode="json")
    data.update(extra)
    return data


async def station_name(session: AsyncSession, station_id: int | None, *, label: str = "Station") -> str | None:
    """The name of a live kitchen station, or a refusal when the id is unknown or archived."""
    if station_id is None:
        return None
    row = (
        await session.exec(select(STATION.c.name).where(STATION.c.id == station_id, STATION.c.archived_at.is_(None)))
    ).first()
    if row is None:
        raise InvalidInput(f"{label}: unknown or archived kitchen station.")
    return str(row)


async def record_change(
    session: AsyncSession,
    action: str,
    subject: str,
    actor_id: int | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    await audit.record(session, action, actor_id=actor_id, subject=subject, before=before, after=after, reason=reason)


async def set_archived(
    session: AsyncSession,
    row: Archivable,
    action: str,
    kind: str,
    archived_at: datetime | None,
    actor_id: int | None,
) -> Archivable:
    current = row.archived_at
    if (current is None) == (archived_at is None):
        return row
    row.archived_at = archived_at
    session.add(row)
    await session.flush()
    record_id = row.id or 0
    verb = "archive" if archived_at is not None else "restore"
    await record_change(
        session,
        f"{action}.{verb}",
        f"{kind}:{record_id}",
        actor_id,
        before={"archived_at": iso(current)},
        after={"archived_at": iso(archived_at), "name": row.name},
    )
    await emit(session, MenuChanged(kind, record_id))
    return row


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def listing(names: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(f"“{n}”" for n in names[:limit])
    more = len(names) - limit
    return f"{shown} and {more} more" if more > 0 else shown
