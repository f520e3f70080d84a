"""Guest fixtures: staff by role, an open table, and a guest on file."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from app.floor.models import DiningTable
from app.orders.models import Check, CheckKind
from app.orders.seating import open_check
from app.staff.models import Staff
from app.staff.permissions import Role


class Front:
    """The demo restaurant's people and tables, for arranging guest tests through the services."""

    def __init__(self, runtime: Any) -> None:
        self.db = runtime.db

    async def staff(self, role: Role) -> Staff:
        async with self.db.read() as session:
            return (await session.exec(select(Staff).where(Staff.role == role).order_by(Staff.id))).first()  # type: ignore[arg-type, return-value]

    async def seat(self, table: str = "12", covers: int = 2) -> Check:
        server = await self.staff(Role.SERVER)
        async with self.db.write() as session:
            table_id = (await session.exec(select(DiningTable.id).where(DiningTable.name == table))).one()
            return await open_check(session, table_id=table_id, covers=covers, server=server, kind=CheckKind.TABLE)

    async def check(self, check_id: int) -> Check:
        async with self.db.read() as session:
            check = await session.get(Check, check_id)
        assert check is not None
        return check


@pytest.fixture
async def front(runtime: Any, demo: None) -> Front:
    return Front(runtime)
