"""Each state-changing endpoint refuses bad input, the wrong role, a stale copy and a double submit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from app.menu.models import MenuItem
from app.orders.models import FireKind, LineState
from tests.integration.orders.conftest import Restaurant, key


async def test_a_cook_cannot_seat_a_table(cook: Any, restaurant: Restaurant) -> None:
    response = await cook.post(
        "/checks",
        {"kind": "table", "table_id": str(await restaurant.table_id("12")), "covers": "2", "idempotency_key": key()},
    )
    assert response.status_code == 403
    assert await restaurant.open_checks() == []


async def test_clearing_a_table_whose_check_is_open_is_refused(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    response = await server.post(f"/checks/{check_id}/clear", {"idempotency_key": key()})
    assert response.status_code == 409
    assert "still open; settle it first" in response.text
    assert (await restaurant.check(check_id)).table_cleared_at is None


async def test_changing_a_line_with_a_bad_quantity_or_from_a_stale_copy_changes_nothing(
    server: Any, restaurant: Restaurant
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-SOU", seat=1)
    line = (await restaurant.lines(check_id))[0]
    bad = await restaurant.post(server, check_id, f"lines/{line.id}", {"quantity": "0"})
    assert bad.status_code == 422
    stale = await server.post(
        f"/checks/{check_id}/lines/{line.id}", {"quantity": "3", "version": "1", "idempotency_key": key()}
    )
    assert stale.status_code == 409
    assert "changed on another tablet" in stale.text
    assert (await restaurant.lines(check_id))[0].quantity_num == 1


async def test_repeating_an_item_that_has_since_been_86d_is_refused(
    server: Any, restaurant: Restaurant, runtime: Any
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-BUR", seat=1)
    async with runtime.db.write() as session:
        item = (await session.exec(select(MenuItem).where(MenuItem.sku == "ST-BUR"))).one()
        item.eighty_sixed_at = datetime.now(UTC)
        session.add(item)
    line = (await restaurant.lines(check_id))[0]
    response = await restaurant.post(server, check_id, f"lines/{line.id}/repeat")
    assert response.status_code == 409
    assert "is 86&#39;d: the kitchen has run out" in response.text
    assert len(await restaurant.lines(check_id)) == 1


async def test_a_double_submitted_void_voids_once(server: Any, manager: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-BUR", seat=1, quantity=2)
    await restaurant.post(server, check_id, "send")
    line = (await restaurant.lines(check_id))[0]
    body = {
        "reason": "Kitchen error",
        "quantity": "1",
        "version": str(await restaurant.version(check_id)),
        "idempotency_key": key(),
    }
    first = await manager.post(f"/checks/{check_id}/lines/{line.id}/void", body)
    second = await manager.post(f"/checks/{check_id}/lines/{line.id}/void", body)
    assert first.status_code == second.status_code == 200
    assert first.text == second.text
    assert [f.kind for f in await restaurant.fires(check_id)] == [FireKind.NEW, FireKind.VOID]
    assert [(x.quantity_num, x.state) for x in await restaurant.lines(check_id)] == [
        (1, LineState.SENT),
        (1, LineState.VOIDED),
    ]


async def test_a_double_submitted_transfer_moves_once(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    body = {
        "to_table_id": str(await restaurant.table_id("14")),
        "version": str(await restaurant.version(check_id)),
        "idempotency_key": key(),
    }
    first = await server.post(f"/checks/{check_id}/transfer", body)
    second = await server.post(f"/checks/{check_id}/transfer", body)
    assert first.status_code == second.status_code == 200
    assert len(await restaurant.audit("check.transfer")) == 1
    assert await restaurant.version(check_id) == 2


async def test_a_form_without_a_version_is_refused(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    response = await server.post(
        f"/checks/{check_id}/lines",
        {"menu_item_id": str(await restaurant.item_id("ST-BUR")), "idempotency_key": key()},
    )
    assert response.status_code == 422
    assert "The check version must be a whole number." in response.text
    assert await restaurant.lines(check_id) == []
