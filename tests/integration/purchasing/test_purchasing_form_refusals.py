"""The purchasing forms refuse a missing or malformed field in one message format, naming it, and book nothing."""

from __future__ import annotations

import html
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from app.purchasing.models import PurchaseOrder, SupplierItem, WeekdayPar
from tests.integration.purchasing.conftest import Purchasing


async def _count(room: Purchasing, model: Any) -> int:
    async with room.runtime.db.read() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


async def test_malformed_supplier_items_pars_and_orders_are_refused_by_name(
    manager: Any, purchasing: Purchasing
) -> None:
    room = purchasing
    before = [await _count(room, model) for model in (PurchaseOrder, SupplierItem, WeekdayPar)]
    supplier = next(iter(room.suppliers.values()))
    item = {"stock_item_id": room.items["Gin"], "size": "1", "size_unit": "l", "price": "20.00"}
    par = {"stock_item_id": room.items["Gin"], "location_id": room.places["Bar"], "par": "2"}
    for url, form, message in (
        (f"/purchasing/suppliers/{supplier}/items", {**item, "units": "a dozen"}, "Units per pack must be a whole"),
        (f"/purchasing/suppliers/{supplier}/items", {**item, "units": "0"}, "Units per pack must be at least 1."),
        (f"/purchasing/suppliers/{supplier}/items", item, "Units per pack is required."),
        (f"/purchasing/suppliers/{supplier}/items", {**item, "units": "6", "lead": "-1"}, "Lead time must be at"),
        ("/purchasing/pars", {**par, "weekday": "friday"}, "Weekday must be a whole number."),
        ("/purchasing/pars", par, "Weekday is required."),
        ("/purchasing/orders", {"location_id": room.places["Bar"]}, "Choose a supplier."),
    ):
        refused = await manager.post(url, form)
        assert refused.status_code == 422, refused.text
        assert message in html.unescape(refused.text)
    assert [await _count(room, model) for model in (PurchaseOrder, SupplierItem, WeekdayPar)] == before
