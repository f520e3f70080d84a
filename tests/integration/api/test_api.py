"""The ERP API: bearer tokens with scopes, closed checks, the journal, stock, tickets, menu master data, orders."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from app.checks.terminal import SimulatedTerminal
from app.kitchen.models import KitchenTicket
from app.menu.models import MenuCategory, MenuItem
from app.orders.models import Check, CheckKind, CheckLine
from tests.integration.closes.arrange import deliver, pay, serve


async def test_the_api_needs_a_bearer_token_and_the_right_scope(api: Any, reader: dict[str, str]) -> None:
    bare = await api.get("/api/v1/checks")
    assert bare.status_code == 401
    assert bare.json()["error"] == "unauthorized"
    wrong = await api.get("/api/v1/checks", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    write = await api.post(
        "/api/v1/menu/items", json={"sku": "X-1", "name": "X", "price_cents": 1, "category_id": 1}, headers=reader
    )
    assert write.status_code == 403


async def test_closed_checks_come_with_lines_payments_and_the_day_they_were_posted(
    api: Any, reader: dict[str, str], runtime: Any, settings: Any
) -> None:
    terminal = SimulatedTerminal(settings.var_dir / "terminal")
    served = await serve(runtime, ["GR-BUR", "BR-PIL"])
    await pay(runtime, terminal, served, "Card", tip=250)
    await deliver(runtime)
    response = await api.get("/api/v1/checks", headers=reader)
    assert response.status_code == 200
    [check] = response.json()["items"]
    assert check["id"] == served.check_id
    assert check["status"] == "closed"
    assert [line["sku"] for line in check["lines"]] == ["GR-BUR", "BR-PIL"]
    assert check["lines"][0]["modifiers"]
    assert check["tips_cents"] == 250
    [payment] = check["payments"]
    assert payment["tender"] == "Card"
    assert payment["card_last4"] == "4242"
    assert "card_number" not in payment
    assert check["business_day"] is not None
    assert check["net_sales_cents"] + check["tax_cents"] == check["total_cents"] == payment["amount_cents"]
    one = await api.get(f"/api/v1/checks/{served.check_id}", headers=reader)
    assert one.json()["number"] == check["number"]
    assert (await api.get("/api/v1/checks/999999", headers=reader)).status_code == 404
    assert (await api.get("/api/v1/checks?day=someday", headers=reader)).status_code == 422
    entries = (await api.get("/api/v1/journal-entries", headers=reader)).json()["items"]
    sale = next(e for e in entries if e["source_type"] == "check")
    assert sum(line["amount_cents"] for line in sale["lines"]) == 0
    moves = (await api.get("/api/v1/stock/moves?limit=200", headers=reader)).json()["items"]
    assert any(m["source_key"] == f"sale:check:{served.check_id}:1" for m in moves)
    levels = (await api.get("/api/v1/stock/levels", headers=reader)).json()
    assert any(level["stock_item"] == "Beef patty 180 g" for level in levels)
    tickets = (await api.get("/api/v1/kitchen/tickets", headers=reader)).json()["items"]
    assert {t["station"] for t in tickets} >= {"Grill", "Bar"}


async def test_an_erp_creates_and_reprices_menu_items_without_touching_history(
    api: Any, writer: dict[str, str], runtime: Any, settings: Any
) -> None:
    async with runtime.db.read() as session:
        grill = (await session.exec(select(MenuCategory).where(MenuCategory.name == "From the Grill"))).one()
    created = await api.post(
        "/api/v1/menu/items",
        json={"sku": "GR-POR", "name": "Pork Chop", "price_cents": 2400, "category_id": grill.id},
        headers=writer,
    )
    assert created.status_code == 201, created.text
    item = created.json()
    served = await serve(runtime, ["GR-POR"])
    repriced = await api.patch(f"/api/v1/menu/items/{item['id']}", json={"price_cents": 2600}, headers=writer)
    assert repriced.status_code == 200
    assert repriced.json()["price_cents"] == 2600
    async with runtime.db.read() as session:
        line = (await session.exec(select(CheckLine).where(CheckLine.check_id == served.check_id))).one()
        assert line.unit_price_cents == 2400  # the line keeps the price it was rung in at
    clash = await api.post(
        "/api/v1/menu/items",
        json={"sku": "GR-POR", "name": "Again", "price_cents": 1, "category_id": grill.id},
        headers=writer,
    )
    assert clash.status_code == 409
    negative = await api.patch(f"/api/v1/menu/items/{item['id']}", json={"price_cents": -5}, headers=writer)
    assert negative.status_code == 400
    missing = await api.patch("/api/v1/menu/items/999999", json={"price_cents": 5}, headers=writer)
    assert missing.status_code == 404
    archived = await api.patch(f"/api/v1/menu/items/{item['id']}", json={"archived": True}, headers=writer)
    assert archived.json()["archived"] is True
    async with runtime.db.read() as session:
        row = await session.get(MenuItem, item["id"])
        assert row is not None
        assert row.price_cents == 2600


async def test_an_online_order_reaches_the_kitchen_like_a_floor_order_once_per_key(
    api: Any, writer: dict[str, str], runtime: Any
) -> None:
    order = {
        "channel": "online",
        "customer_name": "Sam at the door",
        "lines": [{"sku": "PA-CAR", "quantity": 2, "note": "extra pepper"}, {"sku": "SD-LEM"}],
    }
    headers = {**writer, "Idempotency-Key": "order-0001"}
    first = await api.post("/api/v1/orders", json=order, headers=headers)
    assert first.status_code == 201, first.text
    again = await api.post("/api/v1/orders", json=order, headers=headers)
    assert again.json() == first.json()
    body = first.json()
    assert body["fired"] is True
    assert [line["sku"] for line in body["lines"]] == ["PA-CAR", "SD-LEM"]
    await deliver(runtime)
    async with runtime.db.read() as session:
        checks = (await session.exec(select(Check))).all()
        assert [(c.kind, c.tab_name) for c in checks] == [(CheckKind.ONLINE, "Sam at the door")]
        tickets = (await session.exec(select(KitchenTicket).where(KitchenTicket.check_id == body["check_id"]))).all()
        assert tickets, "the order did not reach the kitchen"
    changed = await api.post("/api/v1/orders", json={**order, "customer_name": "Someone else"}, headers=headers)
    assert changed.status_code == 422
    unknown = await api.post("/api/v1/orders", json={**order, "lines": [{"sku": "NOPE"}]}, headers=writer)
    assert unknown.status_code == 422
    assert "NOPE" in unknown.json()["message"]
    forced = await api.post(
        "/api/v1/orders",
        json={"channel": "takeout", "customer_name": "Kim", "lines": [{"sku": "GR-BUR"}]},
        headers=writer,
    )
    assert forced.status_code == 422  # a burger needs its temperature and side answered
    async with runtime.db.read() as session:
        assert len((await session.exec(select(Check))).all()) == 1


async def test_the_api_is_described_by_the_openapi_schema(api: Any) -> None:
    schema = (await api.get("/schema/openapi.json")).json()
    paths = {p for p in schema["paths"] if p.startswith("/api/v1")}
    assert paths >= {
        "/api/v1/checks",
        "/api/v1/checks/{check_id}",
        "/api/v1/journal-entries",
        "/api/v1/stock/moves",
        "/api/v1/stock/levels",
        "/api/v1/kitchen/tickets",
        "/api/v1/menu/items",
        "/api/v1/menu/items/{item_id}",
        "/api/v1/orders",
    }
