"""Table-service test fixtures: the demo menu and floor by name, seating tables, ringing items in."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from sqlmodel import col, select

from app.floor.models import DiningTable
from app.lib.audit import AuditEntry
from app.lib.outbox import OutboxMessage
from app.menu.models import MenuItem, MenuItemModifierGroup, Modifier
from app.orders.models import Check, CheckLine, FireLine, KitchenFire


def key() -> str:
    """A fresh idempotency key, as a form carries."""
    return uuid.uuid4().hex


class Restaurant:
    """The demo restaurant as tests see it: ids by name, rows as they are now."""

    def __init__(self, runtime: Any) -> None:
        self.db = runtime.db

    async def table_id(self, name: str) -> int:
        async with self.db.read() as session:
            table = (await session.exec(select(DiningTable).where(DiningTable.name == name))).one()
        return table.id or 0

    async def item_id(self, sku: str) -> int:
        async with self.db.read() as session:
            item = (await session.exec(select(MenuItem).where(MenuItem.sku == sku))).one()
        return item.id or 0

    async def modifier_ids(self, sku: str, names: Sequence[str]) -> list[int]:
        """The ids of the named options among the groups `sku` asks."""
        async with self.db.read() as session:
            item_id = await self.item_id(sku)
            group_ids = (
                await session.exec(
                    select(MenuItemModifierGroup.group_id).where(MenuItemModifierGroup.item_id == item_id)
                )
            ).all()
            options = (await session.exec(select(Modifier).where(col(Modifier.group_id).in_(group_ids)))).all()
        by_name = {option.name: option.id or 0 for option in options}
        return [by_name[name] for name in names]

    async def check(self, check_id: int) -> Check:
        async with self.db.read() as session:
            check = await session.get(Check, check_id)
        assert check is not None
        return check

    async def open_checks(self) -> list[Check]:
        async with self.db.read() as session:
            return list((await session.exec(select(Check).where(Check.status == "open"))).all())

    async def version(self, check_id: int) -> int:
        return (await self.check(check_id)).version

    async def lines(self, check_id: int | None = None) -> list[CheckLine]:
        async with self.db.read() as session:
            query = select(CheckLine).order_by(col(CheckLine.id))
            if check_id is not None:
                query = query.where(CheckLine.check_id == check_id)
            return list((await session.exec(query)).all())

    async def fires(self, check_id: int | None = None) -> list[KitchenFire]:
        async with self.db.read() as session:
            query = select(KitchenFire).order_by(col(KitchenFire.id))
            if check_id is not None:
                query = query.where(KitchenFire.check_id == check_id)
            return list((await session.exec(query)).all())

    async def fire_lines(self, fire_id: int) -> list[FireLine]:
        async with self.db.read() as session:
            return list((await session.exec(select(FireLine).where(FireLine.fire_id == fire_id))).all())

    async def outbox(self, topic: str = "kitchen.fire") -> list[OutboxMessage]:
        async with self.db.read() as session:
            query = select(OutboxMessage).where(OutboxMessage.topic == topic).order_by(col(OutboxMessage.id))
            return list((await session.exec(query)).all())

    async def audit(self, action: str) -> list[AuditEntry]:
        async with self.db.read() as session:
            query = select(AuditEntry).where(AuditEntry.action == action).order_by(col(AuditEntry.id))
            return list((await session.exec(query)).all())

    async def open_table(self, device: Any, name: str = "12", covers: int = 4) -> int:
        """Seat table `name` from `device`; the new check's id."""
        response = await device.post(
            "/checks",
            {
                "kind": "table",
                "table_id": str(await self.table_id(name)),
                "covers": str(covers),
                "idempotency_key": key(),
            },
        )
        assert response.status_code == 200, response.text
        return int(response.headers["hx-redirect"].rsplit("/", 1)[1])

    async def ring_in(
        self,
        device: Any,
        check_id: int,
        sku: str,
        *,
        options: Sequence[str] = (),
        seat: int | str = "shared",
        course: str = "auto",
        quantity: int | str = 1,
        note: str = "",
        hold: bool = False,
        version: int | None = None,
        expect: int = 200,
    ) -> Any:
        """Ring `sku` in on the check, as the item button or the options sheet posts it."""
        data: dict[str, Any] = {
            "menu_item_id": str(await self.item_id(sku)),
            "seat": str(seat),
            "course": course,
            "quantity": str(quantity),
            "note": note,
            "version": str(version if version is not None else await self.version(check_id)),
            "idempotency_key": key(),
        }
        if options:
            data["modifier_id"] = [str(i) for i in await self.modifier_ids(sku, options)]
        if hold:
            data["hold"] = "1"
        response = await device.post(f"/checks/{check_id}/lines", data)
        assert response.status_code == expect, response.text
        return response

    async def post(
        self, device: Any, check_id: int, path: str, data: dict[str, Any] | None = None, **kwargs: Any
    ) -> Any:
        """POST to /checks/<id>/<path> with the current version and a fresh key unless given."""
        body = {"version": str(await self.version(check_id)), "idempotency_key": key(), **(data or {})}
        return await device.post(f"/checks/{check_id}/{path}", body, **kwargs)


@pytest.fixture
async def restaurant(runtime: Any, demo: None) -> Restaurant:
    """The demo restaurant, for arranging and reading back."""
    return Restaurant(runtime)
