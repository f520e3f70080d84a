"""Hostile text typed where staff type text comes out inert: escaped on the POS and KDS, literal on paper.

Payloads go into item notes, a modifier's name, table names (the manager's floor editor), a bar tab's name
and a takeout's name; then the floor, the check pages, the KDS board, its websocket cards and the printed
kitchen tickets are read back. Printer control bytes typed into a note are refused at the door, and any that
reach the printer through a name are stripped before they can become a command.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from litestar import Litestar
from sqlmodel import col, select
from websockets.asyncio.client import connect

from app.floor.models import DiningTable
from app.kitchen.models import Printer, PrintJob, Station
from app.menu.models import MenuItem, Modifier, ModifierGroup
from app.orders.models import Check, CheckLine
from app.staff import services as staff_services
from printers.documents import KitchenTicketDoc, TicketLineDoc
from printers.layouts import render_kitchen_ticket
from printers.queue import job_bytes
from tests.support.escpos_decoder import decode

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
TEMPLATE = "{{7*7}}"
SVG = '"><svg onload=a()>'  # table names are at most 20 characters
RAW_TAGS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg onload=a()>")
ESCAPED = {
    SCRIPT: "&lt;script&gt;alert(1)&lt;/script&gt;",
    IMG: "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;",
    SVG: "&#34;&gt;&lt;svg onload=a()&gt;",
    TEMPLATE: TEMPLATE,
}
CONTROL_NOTES = ("cut here\x1dV\x00", "\x1b@reset", "bell\x07")


def key() -> str:
    return uuid.uuid4().hex


def assert_inert(html: str, *payloads: str, where: str) -> None:
    """No payload's markup is live in `html`, each shows escaped, and `{{7*7}}` was never evaluated."""
    for tag in RAW_TAGS:
        assert tag not in html, f"{where}: raw {tag!r}"
    for payload in payloads:
        assert ESCAPED[payload] in html, f"{where}: {payload!r} is not shown escaped"


async def one(runtime: Any, query: Any) -> Any:
    async with runtime.db.read() as session:
        return (await session.exec(query)).one()


async def ring_in(device: Any, runtime: Any, check_id: int, form: dict[str, Any]) -> httpx.Response:
    version = (await one(runtime, select(Check).where(Check.id == check_id))).version
    return await device.post(f"/checks/{check_id}/lines", {**form, "version": str(version), "idempotency_key": key()})


async def send(device: Any, runtime: Any, check_id: int) -> None:
    version = (await one(runtime, select(Check).where(Check.id == check_id))).version
    response = await device.post(f"/checks/{check_id}/send", {"version": str(version), "idempotency_key": key()})
    assert response.status_code == 200, response.text


async def open_check(device: Any, form: dict[str, str]) -> int:
    response = await device.post("/checks", {**form, "idempotency_key": key()})
    assert response.status_code == 200, response.text
    return int(response.headers["hx-redirect"].rsplit("/", 1)[1])


@pytest.fixture
async def served(app: Litestar, live: Any) -> AsyncIterator[str]:
    """The running app behind uvicorn on a free port, for the kitchen screen's websocket."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started, "the server did not start"
    yield f"127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    server.should_exit = True
    await task


async def test_hostile_names_and_notes_stay_text_on_pos_kds_and_paper(
    served: str, server: Any, manager: Any, cook: Any, runtime: Any
) -> None:
    # The manager names two tables and a modifier with markup.
    five = await one(runtime, select(DiningTable).where(DiningTable.name == "5"))
    for name in (SVG, TEMPLATE):
        added = await manager.post(
            f"/manage/floors/{five.floor_id}/tables", {"name": name, "shape": "square", "seats": "4"}
        )
        assert added.status_code == 200, added.text
        assert_inert(added.text, name, where="floor editor")
    editor = await manager.get(f"/manage/floors/{five.floor_id}/editor")
    assert_inert(editor.text, SVG, TEMPLATE, where="floor editor page")
    extras = await one(runtime, select(ModifierGroup).where(ModifierGroup.name == "Burger extras"))
    added = await manager.post(f"/manage/modifiers/{extras.id}/modifiers", {"name": IMG, "price_delta": "0"})
    assert added.status_code == 200, added.text
    assert_inert((await manager.get("/manage/modifiers")).text, IMG, where="modifiers page")

    # A server seats the table called <svg…>, rings in notes and the hostile modifier, and opens a tab and a takeout.
    table = await one(runtime, select(DiningTable).where(DiningTable.name == SVG))
    check_id = await open_check(server, {"kind": "table", "table_id": str(table.id), "covers": "2"})
    items = {i.sku: i.id for i in await _all(runtime, select(MenuItem))}
    for note in (SCRIPT, IMG, TEMPLATE):
        response = await ring_in(server, runtime, check_id, {"menu_item_id": str(items["PA-CAR"]), "note": note})
        assert response.status_code == 200, response.text
        assert_inert(response.text, note, where="check panel after ringing in")
    hostile = await one(runtime, select(Modifier).where(Modifier.name == IMG))
    forced = [
        (await _all(runtime, select(Modifier).where(Modifier.group_id == group.id).order_by(col(Modifier.id))))[0]
        for group in await _all(
            runtime, select(ModifierGroup).where(col(ModifierGroup.name).in_(["Temperature", "Side"]))
        )
    ]
    burger = {"menu_item_id": str(items["GR-BUR"]), "modifier_id": [str(m.id) for m in [*forced, hostile]]}
    response = await ring_in(server, runtime, check_id, burger)
    assert response.status_code == 200, response.text
    await send(server, runtime, check_id)
    tab_id = await open_check(server, {"kind": "tab", "tab_name": IMG, "covers": "1"})
    takeout_id = await open_check(server, {"kind": "takeout", "tab_name": SCRIPT, "covers": "1"})
    response = await ring_in(server, runtime, tab_id, {"menu_item_id": str(items["PA-RIS"]), "note": TEMPLATE})
    assert response.status_code == 200, response.text

    # The kitchen screen is open on the grill before the tab's food is fired.
    grill = await one(runtime, select(Station).where(Station.name == "Grill"))
    cookies = "; ".join(f"{name}={value}" for name, value in cook.client.cookies.items())
    async with connect(
        f"ws://{served}/kds/ws/{grill.id}", additional_headers={"Cookie": cookies}, origin=f"http://{served}"
    ) as screen:
        board = await _message(screen, "board")
        assert_inert(board["html"], SCRIPT, IMG, TEMPLATE, SVG, where="KDS board over the websocket")
        await send(server, runtime, tab_id)
        card = await _message(screen, "card", containing="Risotto")
        assert_inert(card["html"], IMG, TEMPLATE, where="KDS card over the websocket")

    pages = {
        "floor": await server.get("/floor"),
        "check": await server.get(f"/checks/{check_id}"),
        "check panel": await server.get(f"/checks/{check_id}/panel", htmx=True),
        "settle": await server.get(f"/checks/{check_id}/settle"),
        "tab": await server.get(f"/checks/{tab_id}"),
        "takeout": await server.get(f"/checks/{takeout_id}"),
        "kds board": await cook.get(f"/kds/{grill.id}"),
    }
    expected = {
        "floor": (SVG, TEMPLATE, IMG),
        "check": (SVG, SCRIPT, IMG, TEMPLATE),
        "check panel": (SVG, SCRIPT, IMG, TEMPLATE),
        "settle": (SVG, IMG),
        "tab": (IMG, TEMPLATE),
        "takeout": (SCRIPT,),
        "kds board": (SVG, SCRIPT, IMG, TEMPLATE),
    }
    for where, page in pages.items():
        assert page.status_code == 200, f"{where}: {page.status_code}"
        assert_inert(page.text, *expected[where], where=where)

    # On paper (two kitchen tickets and the guest check) the same characters print literally.
    guest_check = await server.post(f"/checks/{check_id}/settle/print", {"idempotency_key": key()})
    assert guest_check.status_code == 200, guest_check.text
    assert_inert(guest_check.text, SVG, IMG, where="settle page after printing")
    printed = await _printed(runtime, count=3)
    for payload in (SCRIPT, IMG, TEMPLATE, SVG):
        assert _squeezed(payload) in printed, f"{payload!r} is not printed as typed:\n{printed}"


async def test_printer_control_bytes_typed_into_a_note_are_refused_and_change_nothing(
    server: Any, runtime: Any
) -> None:
    table = await one(runtime, select(DiningTable).where(DiningTable.name == "5"))
    check_id = await open_check(server, {"kind": "table", "table_id": str(table.id), "covers": "2"})
    dish = await one(runtime, select(MenuItem).where(MenuItem.sku == "PA-CAR"))
    for note in CONTROL_NOTES:
        response = await ring_in(server, runtime, check_id, {"menu_item_id": str(dish.id), "note": note})
        assert response.status_code == 422, response.text
        assert "control characters" in response.text
        tab = await server.post("/checks", {"kind": "tab", "tab_name": note, "covers": "1", "idempotency_key": key()})
        assert tab.status_code == 422, tab.text
    assert await _all(runtime, select(CheckLine).where(CheckLine.check_id == check_id)) == []
    assert len(await _all(runtime, select(Check))) == 1


async def test_printer_control_bytes_in_a_menu_name_are_refused_at_the_door(
    app: Litestar, runtime: Any, demo: None
) -> None:
    async with runtime.db.write() as session:
        token = await staff_services.create_api_token(session, name="ERP", scopes="read,write")
    dish = await one(runtime, select(MenuItem).where(MenuItem.sku == "PA-CAR"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as erp:
        renamed = await erp.patch(
            f"/api/v1/menu/items/{dish.id}",
            json={"name": "Carbonara\x1b@\x1dV\x00 big"},
            headers={"authorization": f"Bearer {token}"},
        )
    assert renamed.status_code == 422, renamed.text
    assert "control characters" in renamed.text
    assert (await one(runtime, select(MenuItem).where(MenuItem.id == dish.id))).name == dish.name


def test_control_bytes_that_reach_a_ticket_are_stripped_before_they_become_printer_commands() -> None:
    hostile = "\x1b@\x1dV\x00\x1bp\x00\x19\xfa\x07\x9b"
    doc = KitchenTicketDoc(
        station=f"Grill{hostile}",
        table_label=f"Table {SCRIPT}{hostile}",
        check_number=f"7{hostile}",
        server_name=f"Lena{hostile}",
        course_name=f"Mains{hostile}",
        fire_time=dt.datetime(2025, 5, 1, 19, 30, tzinfo=dt.UTC),
        lines=(
            TicketLineDoc(
                quantity="1",
                name=f"Carbonara{hostile}",
                seat=f"2{hostile}",
                modifiers=(f"no bacon{hostile}", IMG),
                note=f"allergy{hostile} {TEMPLATE}",
            ),
        ),
    )
    data = render_kitchen_ticket(doc)
    # The layout's own commands: one reset at the top, one cut at the end, no drawer kick; the text adds none.
    assert data.startswith(b"\x1b@")
    assert data.count(b"\x1b@") == 1
    assert data.count(b"\x1dV") == 1
    assert b"\x1bp" not in data
    assert b"\x07" not in data
    # Every byte reads as a command the layout sends (the decoder refuses any other), and none acts twice.
    decoded = decode(data)
    assert decoded.kinds().count("init") == 1
    assert decoded.kinds().count("cut") == 1
    assert not {"drawer_kick", "drawer_pulse", "status_query"} & set(decoded.kinds())
    printed = _squeezed(decoded.text)
    for visible in ("Carbonara", "nobacon", "allergy", _squeezed(SCRIPT), _squeezed(IMG), TEMPLATE, "Lena"):
        assert visible in printed, f"{visible!r} is missing from:\n{decoded.text}"


async def _all(runtime: Any, query: Any) -> list[Any]:
    async with runtime.db.read() as session:
        return list((await session.exec(query)).all())


async def _message(screen: Any, kind: str, *, containing: str = "") -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(screen.recv(), timeout=10))
        if message.get("type") == kind and containing in str(message.get("html", "")):
            return message


async def _jobs(runtime: Any, *, count: int) -> list[PrintJob]:
    for _ in range(200):
        jobs = await _all(runtime, select(PrintJob).order_by(col(PrintJob.id)))
        if len(jobs) >= count:
            return jobs
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} print jobs after 10 s")


def _squeezed(text: str) -> str:
    # Paper wraps long lines (splitting long words), so compare without whitespace.
    return re.sub(r"\s+", "", text)


async def _printed(runtime: Any, *, count: int) -> str:
    """Every job printed so far, decoded from the ESC/POS bytes the worker sends, without whitespace."""
    jobs = await _jobs(runtime, count=count)
    printers = {printer.id: printer for printer in await _all(runtime, select(Printer))}
    sent = [job_bytes(job, primary=printers[job.printer_id], target=printers[job.target_printer_id]) for job in jobs]
    return "".join(_squeezed(decode(data).text) for data in sent)
