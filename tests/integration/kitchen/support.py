"""Arranging kitchen scenes: checks with lines fired the way the orders code fires them, and live servers."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from litestar import Litestar
from sqlmodel import col, select
from websockets.asyncio.client import ClientConnection, connect

from app.floor.models import DiningTable
from app.kitchen.models import KitchenTicket, KitchenTicketLine, Station
from app.lib import outbox
from app.menu.models import MenuCategory, MenuItem, Modifier
from app.orders.models import Check, CheckLine, FireKind, FireLine, KitchenFire, LineModifier, LineState
from app.staff.models import Staff
from tests.support.devices import pin_login
from tests.support.servers import free_port


@dataclass
class Order:
    """One item to fire: its SKU, how many, and what the server noted."""

    sku: str
    quantity: int = 1
    seat: int | None = None
    note: str | None = None
    modifiers: Sequence[str] = ()


@dataclass
class Scene:
    """A check on the demo floor and the fires sent for it."""

    check_id: int
    line_ids: dict[str, int] = field(default_factory=dict)
    fire_ids: list[int] = field(default_factory=list)


async def station_id(runtime: Any, name: str) -> int:
    async with runtime.db.read() as session:
        station = (await session.exec(select(Station).where(Station.name == name))).one()
    return station.id or 0


async def open_check(runtime: Any, *, table: str = "12", server: str = "Lena Brooks", covers: int = 4) -> Scene:
    """Seat a demo table for a server, as the orders code records it."""
    async with runtime.db.write() as session:
        staff = (await session.exec(select(Staff).where(Staff.name == server))).one()
        dining = (await session.exec(select(DiningTable).where(DiningTable.name == table))).one()
        check = Check(number=0, table_id=dining.id, covers=covers, server_id=staff.id or 0, opened_by=staff.id or 0)
        session.add(check)
        await session.flush()
        check.number = 1000 + (check.id or 0)
        session.add(check)
    return Scene(check_id=check.id or 0)


async def fire(
    runtime: Any,
    scene: Scene,
    orders: Sequence[Order],
    *,
    kind: FireKind = FireKind.NEW,
    course: str | None = None,
) -> int:
    """Ring in and fire lines in one transaction with the 'kitchen.fire' outbox row; returns the fire id."""
    async with runtime.db.write() as session:
        check = await session.get(Check, scene.check_id)
        assert check is not None
        fire_row = KitchenFire(check_id=scene.check_id, kind=kind, course=course, fired_by=check.server_id)
        session.add(fire_row)
        await session.flush()
        for order in orders:
            item = (await session.exec(select(MenuItem).where(MenuItem.sku == order.sku))).one()
            category = await session.get(MenuCategory, item.category_id)
            assert category is not None
            line = CheckLine(
                check_id=scene.check_id,
                menu_item_id=item.id or 0,
                sku=item.sku,
                name=item.name,
                category_id=category.id or 0,
                unit_price_cents=item.price_cents,
                quantity_num=order.quantity,
                tax_rate_id=category.tax_rate_id,
                tax_rate_bp=900,
                station_id=item.station_id or category.station_id,
                seat=order.seat,
                course=category.course,
                note=order.note,
                state=LineState.SENT,
                fire_id=fire_row.id,
                added_by=check.server_id,
            )
            session.add(line)
            await session.flush()
            for name in order.modifiers:
                modifier = (await session.exec(select(Modifier).where(Modifier.name == name))).first()
                assert modifier is not None, name
                session.add(
                    LineModifier(
                        line_id=line.id or 0,
                        modifier_id=modifier.id or 0,
                        group_name="",
                        name=modifier.name,
                        station_id=modifier.station_id,
                    )
                )
            session.add(FireLine(fire_id=fire_row.id or 0, line_id=line.id or 0, quantity_num=order.quantity))
            scene.line_ids[order.sku] = line.id or 0
        await outbox.enqueue(
            session, "kitchen.fire", {"fire_id": fire_row.id}, dedupe_key=f"kitchen.fire:{fire_row.id}"
        )
    scene.fire_ids.append(fire_row.id or 0)
    return fire_row.id or 0


async def fire_about(
    runtime: Any, scene: Scene, skus: dict[str, int], *, kind: FireKind, void_line: bool = False
) -> int:
    """A void or rush of lines the kitchen already has: {sku: quantity}."""
    async with runtime.db.write() as session:
        check = await session.get(Check, scene.check_id)
        assert check is not None
        fire_row = KitchenFire(check_id=scene.check_id, kind=kind, fired_by=check.server_id)
        session.add(fire_row)
        await session.flush()
        for sku, quantity in skus.items():
            line = await session.get(CheckLine, scene.line_ids[sku])
            assert line is not None
            if void_line:
                line.state = LineState.VOIDED
                session.add(line)
            session.add(FireLine(fire_id=fire_row.id or 0, line_id=line.id or 0, quantity_num=quantity))
        await outbox.enqueue(
            session, "kitchen.fire", {"fire_id": fire_row.id}, dedupe_key=f"kitchen.fire:{fire_row.id}"
        )
    scene.fire_ids.append(fire_row.id or 0)
    return fire_row.id or 0


async def tickets_of(runtime: Any, fire_id: int) -> list[tuple[KitchenTicket, str, list[KitchenTicketLine]]]:
    """The tickets a fire made: (ticket, station name, lines), in station order."""
    async with runtime.db.read() as session:
        tickets = (
            await session.exec(
                select(KitchenTicket).where(KitchenTicket.fire_id == fire_id).order_by(col(KitchenTicket.id))
            )
        ).all()
        result = []
        for ticket in tickets:
            station = await session.get(Station, ticket.station_id)
            lines = (
                await session.exec(
                    select(KitchenTicketLine)
                    .where(KitchenTicketLine.ticket_id == ticket.id)
                    .order_by(col(KitchenTicketLine.position))
                )
            ).all()
            result.append((ticket, station.name if station else "?", list(lines)))
    return result


async def routed(
    runtime: Any, fire_id: int, within: float = 10.0
) -> list[tuple[KitchenTicket, str, list[KitchenTicketLine]]]:
    """The fire's tickets once they exist (the app's own dispatcher may be the one delivering it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        await runtime.dispatcher.drain()
        tickets = await tickets_of(runtime, fire_id)
        if tickets:
            return tickets
        assert loop.time() < deadline, f"fire {fire_id} was not routed"
        await asyncio.sleep(0.05)


# Live servers ------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def serve(app: Litestar) -> AsyncIterator[str]:
    """The app on a real loopback port in this event loop (lifespan included); yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="on", log_level="warning", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=15)


async def log_in(base_url: str, pin: str) -> httpx.AsyncClient:
    """A device logged in with `pin` against a real server."""
    client = httpx.AsyncClient(base_url=base_url, timeout=10)
    client.headers["x-csrftoken"] = await pin_login(client, pin)
    return client


def cookie_header(client: httpx.AsyncClient) -> str:
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


@contextlib.asynccontextmanager
async def board_socket(
    base_url: str, client: httpx.AsyncClient, station: int, *, origin: str | None = None
) -> AsyncIterator[ClientConnection]:
    """A kitchen screen's websocket for one station."""
    url = base_url.replace("http://", "ws://") + f"/kds/ws/{station}"
    headers = {"Cookie": cookie_header(client)}
    async with connect(url, additional_headers=headers, origin=origin or base_url, open_timeout=5) as ws:  # type: ignore[arg-type]
        yield ws


async def next_message(ws: ClientConnection, kind: str | None = None, within: float = 5.0) -> dict[str, Any]:
    """The next message (of `kind`, skipping heartbeats and others) within `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError(f"no {kind or 'message'} within {within}s")
        raw = await asyncio.wait_for(ws.recv(), remaining)
        message: dict[str, Any] = json.loads(raw)
        if kind is None or message.get("type") == kind:
            return message


async def drain_messages(ws: ClientConnection, quiet: float = 0.4) -> list[dict[str, Any]]:
    """Every message until the socket is quiet for `quiet` seconds (heartbeats left out)."""
    messages = []
    while True:
        try:
            raw = await asyncio.wait_for(ws.recv(), quiet)
        except TimeoutError:
            return messages
        message = json.loads(raw)
        if message.get("type") != "heartbeat":
            messages.append(message)
