"""Purchasing pages: whole and as fragments, the role guard, an order written, sent, printed and received from
forms, and forms' bad input refused with its message and nothing changed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from app.inventory.models import StockMove
from app.purchasing import queries, services
from app.purchasing.models import OrderStatus, PurchaseOrder, PurchaseOrderLine, Supplier
from tests.integration.purchasing.conftest import Purchasing

PAGES = ["/purchasing", "/purchasing/suggest", "/purchasing/suppliers"]
NORTHSIDE = "Northside Wine & Spirits"


@pytest.mark.parametrize("url", PAGES)
async def test_a_server_gets_403_on_every_purchasing_page(server: Any, url: str) -> None:
    response = await server.get(url)
    assert response.status_code == 403


async def test_every_purchasing_page_renders_whole_and_as_a_fragment(manager: Any, purchasing: Purchasing) -> None:
    for url in PAGES:
        page = await manager.get(url)
        assert page.status_code == 200, page.text
        assert "<html" in page.text
        fragment = await manager.get(url, htmx=True)
        assert fragment.status_code == 200
        assert "<html" not in fragment.text
    suppliers = await manager.get("/purchasing/suppliers")
    assert "6 x 700 l" not in suppliers.text
    assert "6 x 750 ml" in suppliers.text
    assert "4,500 ml" in suppliers.text, "the pack in the item's own unit"
    assert "Friday" in suppliers.text, "the bar's weekend par for gin"


async def test_a_manager_sends_an_edited_suggestion_prints_it_and_receives_part_of_it(
    manager: Any, purchasing: Purchasing
) -> None:
    room = purchasing
    northside, bar = room.suppliers[NORTHSIDE], room.places["Bar"]
    suggestion = await manager.get(f"/purchasing/suggest?supplier={northside}&location={bar}", htmx=True)
    assert suggestion.status_code == 200
    assert 'aria-label="Packs of Gin"' in suggestion.text

    gin_item, vermouth_item = room.catalog[(NORTHSIDE, "Gin")], room.catalog[(NORTHSIDE, "Sweet vermouth")]
    refused = await manager.post(
        "/purchasing/orders",
        {
            "supplier_id": northside,
            "location_id": bar,
            "supplier_item_id": [gin_item],
            "packs": ["-2"],
            "action": "send",
        },
    )
    assert refused.status_code == 422
    assert "Line 1 packs cannot be negative." in refused.text
    refused = await manager.post(
        "/purchasing/orders",
        {"supplier_id": northside, "location_id": bar, "supplier_item_id": [gin_item], "packs": ["1.5"]},
    )
    assert "Line 1: order whole packs, like 2." in refused.text
    async with room.runtime.db.read() as session:
        assert int((await session.exec(select(func.count()).select_from(PurchaseOrder))).one()) == 0

    sent = await manager.post(
        "/purchasing/orders",
        {
            "supplier_id": northside,
            "location_id": bar,
            "supplier_item_id": [gin_item, vermouth_item, room.catalog[(NORTHSIDE, "Campari")]],
            "packs": ["3", "1", "0"],
            "action": "send",
        },
    )
    assert sent.status_code == 200
    match = re.fullmatch(r"/purchasing/orders/(\d+)", sent.headers["HX-Redirect"])
    assert match is not None
    order_id = int(match.group(1))
    async with room.runtime.db.read() as session:
        order = await session.get(PurchaseOrder, order_id)
        lines = (await session.exec(select(PurchaseOrderLine).where(PurchaseOrderLine.order_id == order_id))).all()
    assert order is not None
    assert order.status is OrderStatus.SENT
    assert sorted(line.packs for line in lines) == [1, 3], "a line of zero packs is left off"

    printed = await manager.get(f"/purchasing/orders/{order_id}/print")
    assert printed.status_code == 200
    assert f"Purchase order {order.number}" in printed.text
    assert "/static/css/purchasing.css" in printed.text
    assert "€342.00" in printed.text  # 3 x 96.00 + 54.00
    document = await manager.get(f"/purchasing/orders/{order_id}/pdf")
    assert document.status_code == 200
    assert document.headers["content-type"] == "application/pdf"
    assert document.content.startswith(b"%PDF")

    gin_line = next(line for line in lines if line.stock_item_id == room.items["Gin"])
    vermouth_line = next(line for line in lines if line.stock_item_id == room.items["Sweet vermouth"])
    form = {
        "idempotency_key": "receive-1",
        "order_line_id": [gin_line.id, vermouth_line.id],
        "stock_item_id": [room.items["Gin"], room.items["Sweet vermouth"]],
        "packs": ["-2", ""],
        "invoice": ["196.00", ""],
        "reference": "DN-1",
    }
    async with room.runtime.db.read() as session:
        moves = int((await session.exec(select(func.count()).select_from(StockMove))).one())
    refused = await manager.post(f"/purchasing/orders/{order_id}/receive", form)
    assert refused.status_code == 422
    assert "Gin packs received: A quantity cannot be negative." in refused.text
    refused = await manager.post(
        f"/purchasing/orders/{order_id}/receive",
        {**form, "packs": ["2", ""], "stock_item_id": [room.items["Eggs"], room.items["Sweet vermouth"]]},
    )
    assert "A substitute for Gin is counted in ml like it; Eggs is counted in pcs." in refused.text
    async with room.runtime.db.read() as session:
        assert int((await session.exec(select(func.count()).select_from(StockMove))).one()) == moves

    received = await manager.post(f"/purchasing/orders/{order_id}/receive", {**form, "packs": ["2", ""]})
    assert received.status_code == 200, received.text
    assert (
        "Delivery received: 1 line(s), invoice €196.00; the invoice differs from the order by €4.00." in received.text
    )
    assert "Partly received" in received.text
    assert "price +€4.00" in received.text
    again = await manager.post(f"/purchasing/orders/{order_id}/receive", {**form, "packs": ["2", ""]})
    assert again.status_code == 200
    async with room.runtime.db.read() as session:
        assert int((await session.exec(select(func.count()).select_from(StockMove))).one()) == moves + 1, (
            "a double tap books the delivery once"
        )

    closed = await manager.post(f"/purchasing/orders/{order_id}/close", {"reason": "vermouth discontinued"})
    assert "Closed" in closed.text
    late = await manager.post(
        f"/purchasing/orders/{order_id}/receive", {**form, "idempotency_key": "receive-2", "packs": ["1", ""]}
    )
    assert late.status_code == 409
    assert f"{order.number} is closed; nothing can be received against it." in late.text
    listing = await manager.get("/purchasing")
    assert order.number in listing.text
    assert f"owed to {NORTHSIDE}" not in listing.text, "nothing is owed until the ledger has posted"


async def test_a_manager_sets_up_a_supplier_and_books_a_credit_note_from_forms(
    manager: Any, purchasing: Purchasing
) -> None:
    room = purchasing
    added = await manager.post("/purchasing/suppliers", {"name": "Oak Street Bakery", "email": "bread@oak.example"})
    assert "Oak Street Bakery added." in added.text
    twice = await manager.post("/purchasing/suppliers", {"name": "oak street bakery"})
    assert twice.status_code == 409
    assert "A supplier named “Oak Street Bakery” already exists." in twice.text
    async with room.runtime.db.read() as session:
        bakery = (await session.exec(select(Supplier).where(Supplier.name == "Oak Street Bakery"))).one()
    form = {
        "stock_item_id": room.items["Brioche bun"],
        "units": "12",
        "size": "1",
        "size_unit": "piece",
        "price": "6.60",
    }
    wrong = await manager.post(f"/purchasing/suppliers/{bakery.id}/items", {**form, "size_unit": "kg"})
    assert wrong.status_code == 422
    assert "Brioche bun: An item kept in pieces is bought in piece, pcs, not kg." in wrong.text
    saved = await manager.post(f"/purchasing/suppliers/{bakery.id}/items", {**form, "lead": "1"})
    assert "Saved: 12 x 1 piece at €6.60." in saved.text
    par = await manager.post(
        "/purchasing/pars",
        {
            "stock_item_id": room.items["Brioche bun"],
            "location_id": room.places["Kitchen"],
            "weekday": "5",
            "par": "60",
        },
    )
    assert "Weekday par saved." in par.text
    assert "Saturday" in par.text
    bad_day = await manager.post(
        "/purchasing/pars",
        {"stock_item_id": room.items["Brioche bun"], "location_id": room.places["Kitchen"], "weekday": "7", "par": "1"},
    )
    assert "Weekday must be at most 6." in bad_day.text

    async with room.runtime.db.write() as session:
        [bun] = [row for row in await queries.catalog(session, bakery.id or 0)]
        order = await services.create_order(
            session,
            supplier_id=bakery.id or 0,
            location_id=room.places["Kitchen"],
            lines=[(bun.supplier_item.id or 0, 2)],
            send=True,
        )
        [line] = await services.order_lines(session, order.id or 0)
        await services.receive_order(
            session,
            order_id=order.id or 0,
            lines=[(line.id or 0, room.items["Brioche bun"], 24_000, 1_320)],
            source_key="r",
        )
    before = await room.level("Brioche bun", "Kitchen")
    credit = {
        "idempotency_key": "credit-1",
        "kind": "damaged",
        "reference": "CN-1",
        "stock_item_id": [room.items["Brioche bun"], ""],
        "quantity": ["6", ""],
        "credit": ["3.30", ""],
    }
    refused = await manager.post(
        f"/purchasing/orders/{order.id}/credit", {**credit, "stock_item_id": [room.items["Gin"], ""]}
    )
    assert refused.status_code == 422
    assert "Line 1: Oak Street Bakery does not sell that item." in refused.text
    booked = await manager.post(f"/purchasing/orders/{order.id}/credit", credit)
    assert "Credit note booked: €3.30 off the payable." in booked.text
    assert "Damaged goods" in booked.text
    await manager.post(f"/purchasing/orders/{order.id}/credit", credit)
    assert (await room.level("Brioche bun", "Kitchen")).on_hand_milli == before.on_hand_milli - 6_000, "booked once"
