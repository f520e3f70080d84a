"""Reservation fixtures: the demo floor by name, the book open all day, times in the restaurant's zone."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from app.floor.models import DiningTable
from app.reservations import host_settings, queries, services
from app.reservations.calculations import DEFAULT_TURN_TIMES, GRID
from app.staff.models import Staff
from app.staff.permissions import Role


def key() -> str:
    """A fresh idempotency key, as a form carries."""
    return uuid.uuid4().hex


class Host:
    """The demo restaurant as the book sees it: people, tables by name, and times on the booking grid."""

    def __init__(self, runtime: Any) -> None:
        self.db = runtime.db
        self.zone = ZoneInfo(runtime.settings.timezone)

    async def staff(self, role: Role) -> Staff:
        async with self.db.read() as session:
            found = (await session.exec(select(Staff).where(Staff.role == role).order_by(Staff.id))).first()  # type: ignore[arg-type]
        assert found is not None
        return found

    async def table_id(self, name: str) -> int:
        async with self.db.read() as session:
            return (await session.exec(select(DiningTable.id).where(DiningTable.name == name))).one() or 0

    async def plan(self, device: Any, table: str = "1") -> Any:
        """The live plan of the floor `table` stands on, as a tablet fetches it when its live link opens."""
        async with self.db.read() as session:
            floor_id = (await session.exec(select(DiningTable.floor_id).where(DiningTable.name == table))).one()
        return await device.get(f"/floor/tables?floor={floor_id}")

    def soon(self, quarters: int = 1) -> datetime:
        """A booking time `quarters` quarter hours after the current one (0: the current quarter, already begun)."""
        now = datetime.now(self.zone)
        current = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
        return current + GRID * quarters

    def tomorrow(self, hour: int, minute: int = 0) -> datetime:
        day = datetime.now(self.zone).date() + timedelta(days=1)
        return datetime.combine(day, time(hour, minute), tzinfo=self.zone)

    async def only_combinations(self, *keep: tuple[str, str]) -> None:
        """Archive the demo's combinations of tables but those in `keep` (pairs of table names)."""
        manager = await self.staff(Role.MANAGER)
        async with self.db.write() as session:
            for combination in await queries.combinations(session):
                if tuple(combination.name.split("+")) not in keep:
                    await host_settings.archive_combination(session, combination.id, actor=manager)

    async def book(self, when: datetime, party: int = 2, name: str = "Ines Duarte", **extra: Any) -> Any:
        host = await self.staff(Role.HOST)
        async with self.db.write() as session:
            return await services.book(
                session, services.Booking(party_size=party, starts_at=when, name=name, **extra), actor=host
            )


@pytest.fixture
async def host_book(runtime: Any, demo: None) -> Host:
    """The book open around the clock (so tests may book the next quarter hour at any hour of the day)."""
    book = Host(runtime)
    manager = await book.staff(Role.MANAGER)
    async with runtime.db.write() as session:
        await host_settings.save_settings(
            session,
            host_settings.BookSettings(
                slot_minutes=15,
                first_seating=time(0, 0),
                last_seating=time(23, 45),
                hold_minutes=60,
                max_party_size=12,
                max_covers_per_slot=0,
                turn_times=DEFAULT_TURN_TIMES,
            ),
            actor=manager,
        )
    return book


@pytest.fixture
async def host(device_factory: Any, demo: None) -> Any:
    """Ada, the host, on the tablet at the door (PIN 5555)."""
    from tests.conftest import log_in

    return await log_in(await device_factory(), "5555")
