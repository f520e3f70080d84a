"""Small readers the manager-page tests share: rows, counts and audit entries straight from the database."""

from __future__ import annotations

import html
from typing import Any, TypeVar

from sqlalchemy import func
from sqlmodel import SQLModel, col, select

from app.lib.audit import AuditEntry
from app.orders.models import Check
from app.orders.seating import open_check
from app.staff.models import Staff

Row = TypeVar("Row", bound=SQLModel)


async def count(runtime: Any, model: type[SQLModel], *where: Any) -> int:
    """How many rows of `model` match."""
    async with runtime.db.read() as session:
        return int((await session.exec(select(func.count()).select_from(model).where(*where))).one())


async def get(runtime: Any, model: type[Row], record_id: int) -> Row:
    """One row, freshly read."""
    async with runtime.db.read() as session:
        row = await session.get(model, record_id)
    assert row is not None, f"no {model.__name__} {record_id}"
    return row


async def find(runtime: Any, model: type[Row], *where: Any) -> Row:
    """The one row matching `where`."""
    async with runtime.db.read() as session:
        row = (await session.exec(select(model).where(*where))).first()
    assert row is not None, f"no {model.__name__} where {where}"
    return row


async def audit_entries(runtime: Any, action: str) -> list[AuditEntry]:
    """Audit entries with this action, oldest first."""
    async with runtime.db.read() as session:
        rows = await session.exec(select(AuditEntry).where(AuditEntry.action == action).order_by(col(AuditEntry.id)))
        return list(rows.all())


async def audit_total(runtime: Any) -> int:
    """How many audit entries exist."""
    return await count(runtime, AuditEntry)


def text(response: Any) -> str:
    """The response body with HTML entities turned back into characters."""
    return html.unescape(response.text)


def refused(response: Any, status: int, message: str) -> None:
    """The response refused the request with `status` and says `message` in the page's flash."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers.get("hx-retarget") == "#flash", "refusals are shown in the page's flash"
    assert message in text(response), text(response)[:500]


async def seat(runtime: Any, table_id: int, *, server: str = "Lena Brooks", covers: int = 2) -> Check:
    """Open a check on a table for a server, as her tablet does; returns the check."""
    async with runtime.db.write() as session:
        person = (await session.exec(select(Staff).where(Staff.name == server))).one()
        return await open_check(session, table_id=table_id, covers=covers, server=person, kind="table")
