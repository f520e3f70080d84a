"""Checks arranged through the order services, as a server would ring them in on a tablet."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from app.checks.models import Tender
from app.checks.queries import CheckMoney, check_money, load_check
from app.floor.models import DiningTable
from app.menu.models import MenuItem
from app.orders import firing, seating
from app.orders import lines as order_lines
from app.orders.models import Check
from app.staff.models import Staff

# Seat by seat: what a four-top orders, plus a bottle of wine for the table.
FOUR_TOP = [(1, "PA-CAR"), (1, "BR-CID"), (2, "PA-RIS"), (2, "SD-LEM"), (3, "ST-TAR"), (4, "PA-LIN"), (4, "SD-TEA")]
BOTTLE = "WN-RBT"


@dataclass
class Arranged:
    """A check as rung in: its id, the lines by sku, the server and the table."""

    check_id: int
    line_ids: dict[str, int]
    bottle_id: int | None
    server: Staff
    table_id: int | None


async def staff(runtime: Any, name: str) -> Staff:
    async with runtime.db.read() as session:
        return (await session.exec(select(Staff).where(Staff.name == name))).one()


async def tenders(runtime: Any) -> dict[str, int]:
    async with runtime.db.read() as session:
        return {t.name: t.id or 0 for t in (await session.exec(select(Tender))).all()}


async def table_id(runtime: Any, name: str) -> int:
    async with runtime.db.read() as session:
        table = (await session.exec(select(DiningTable).where(DiningTable.name == name))).first()
        assert table is not None
        return table.id or 0


async def ring_in(
    runtime: Any,
    *,
    items: list[tuple[int | None, str]],
    covers: int = 4,
    table: str = "5",
    server_name: str = "Lena Brooks",
    bottle: bool = False,
    send: bool = True,
) -> Arranged:
    """Seat a table and ring in items (seat, sku); send them to the kitchen like a server would."""
    server = await staff(runtime, server_name)
    table_pk = await table_id(runtime, table)
    line_ids: dict[str, int] = {}
    async with runtime.db.write() as session:
        menu = {item.sku: item for item in (await session.exec(select(MenuItem))).all()}
        check = await seating.open_check(session, table_id=table_pk, covers=covers, server=server, kind="table")
        bottle_id = None
        wanted = [*items, (None, BOTTLE)] if bottle else items
        for seat, sku in wanted:
            line = await order_lines.add_line(
                session,
                check_id=check.id or 0,
                request=order_lines.LineRequest(menu_item_id=menu[sku].id or 0, seat=seat),
                actor=server,
                expected_version=None,
            )
            line_ids[sku if sku not in line_ids else f"{sku}#{len(line_ids)}"] = line.id or 0
            if bottle and sku == BOTTLE:
                bottle_id = line.id
        if send:
            await firing.send(session, check_id=check.id or 0, actor=server, expected_version=None)
        return Arranged(check.id or 0, line_ids, bottle_id, server, table_pk)


async def check_row(runtime: Any, check_id: int) -> Check:
    async with runtime.db.read() as session:
        check = await session.get(Check, check_id)
        assert check is not None
        return check


async def open_checks_on(runtime: Any, table_pk: int) -> list[Check]:
    async with runtime.db.read() as session:
        return list(
            (
                await session.exec(
                    select(Check).where(Check.table_id == table_pk, Check.status == "open").order_by(col(Check.id))
                )
            ).all()
        )


def key() -> str:
    """A fresh idempotency key, as each form carries."""
    return uuid.uuid4().hex


async def post(device: Any, runtime: Any, check_id: int, path: str, data: dict[str, Any] | None = None) -> Any:
    """POST a settle or split form for the check with its current version and a fresh key unless given."""
    body = {"version": str((await check_row(runtime, check_id)).version), "idempotency_key": key(), **(data or {})}
    return await device.post(f"/checks/{check_id}/{path}", body)


async def money(runtime: Any, check_id: int) -> CheckMoney:
    """The check's money as the settle page computes it."""
    async with runtime.db.read() as session:
        return await check_money(session, await load_check(session, check_id))


async def rows(runtime: Any, model: Any, *where: Any) -> list[Any]:
    """Every row of a table (matching `where`), oldest first."""
    async with runtime.db.read() as session:
        query = select(model).where(*where) if where else select(model)
        return list((await session.exec(query.order_by(model.id))).all())


def flash(response: Any) -> str:
    """The message a refused request shows in the page."""
    return str(response.text)
