"""86 and back: cooks and managers take an item off sale with a reason; stock counts may do it too."""

from __future__ import annotations

from typing import Any

import pytest

from app.lib.errors import Conflict, InvalidInput, NotFound
from app.menu import availability, items
from app.menu.events import ItemBackInStock, ItemEightySixed
from app.menu.models import MenuItem
from tests.integration.manage.support import audit_entries, audit_total, find, get, refused, text


async def _rib(runtime: Any) -> MenuItem:
    return await find(runtime, MenuItem, MenuItem.sku == "GR-RIB")


async def test_the_86_board_lists_items_by_category_as_a_page_and_as_a_fragment(cook: Any) -> None:
    page = await cook.get("/manage/86")
    assert page.status_code == 200
    assert "<html" in page.text
    assert "From the Grill" in page.text
    assert "Rib-eye 300 g" in page.text
    assert "Everything on the menu is available." in page.text
    assert 'href="/manage/menu"' not in page.text, "a cook is not offered the menu editor"
    fragment = await cook.get("/manage/86", htmx=True)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text


async def test_a_cook_86s_an_item_with_a_reason_and_puts_it_back(cook: Any, runtime: Any) -> None:
    rib = await _rib(runtime)
    seen: list[Any] = []

    async def listen(_session: Any, event: Any) -> None:
        seen.append(event)

    runtime.bus.subscribe(ItemEightySixed, listen)
    runtime.bus.subscribe(ItemBackInStock, listen)
    response = await cook.post(f"/manage/86/{rib.id}", {"reason": "Last rib-eye sold"})
    assert response.status_code == 200
    assert "86'd Rib-eye 300 g." in text(response)
    assert "Last rib-eye sold" in response.text
    out = await get(runtime, MenuItem, rib.id or 0)
    assert out.is_86d
    assert out.eighty_six_reason == "Last rib-eye sold"
    [entry] = await audit_entries(runtime, "menu.item.86")
    assert entry.reason == "Last rib-eye sold"
    assert entry.subject == f"item:{rib.id}"
    assert entry.actor_id is not None

    back = await cook.post(f"/manage/86/{rib.id}/back", {})
    assert back.status_code == 200
    assert "Rib-eye 300 g is back on sale." in text(back)
    again = await get(runtime, MenuItem, rib.id or 0)
    assert not again.is_86d
    assert again.eighty_six_reason is None
    [back_entry] = await audit_entries(runtime, "menu.item.un86")
    assert back_entry.before is not None
    assert back_entry.before["eighty_six_reason"] == "Last rib-eye sold"
    assert [type(e) for e in seen] == [ItemEightySixed, ItemBackInStock]
    assert seen[0].reason == "Last rib-eye sold"


async def test_86_twice_is_one_86(manager: Any, runtime: Any) -> None:
    rib = await _rib(runtime)
    for _ in range(2):
        assert (await manager.post(f"/manage/86/{rib.id}", {"reason": "Sold out"})).status_code == 200
    assert len(await audit_entries(runtime, "menu.item.86")) == 1
    for _ in range(2):
        assert (await manager.post(f"/manage/86/{rib.id}/back", {"reason": "Delivery"})).status_code == 200
    assert len(await audit_entries(runtime, "menu.item.un86")) == 1


async def test_an_86_without_a_reason_or_with_a_novel_is_refused(
    cook: Any, runtime: Any, subtests: pytest.Subtests
) -> None:
    rib = await _rib(runtime)
    audits = await audit_total(runtime)
    for form, message in (
        ({"reason": ""}, "Reason is required."),
        ({}, "Reason is required."),
        ({"reason": "x" * 201}, "Reason is 201 characters; the limit is 200."),
    ):
        with subtests.test(msg=message):
            refused(await cook.post(f"/manage/86/{rib.id}", form), 422, message)
            assert not (await get(runtime, MenuItem, rib.id or 0)).is_86d
    refused(await cook.post("/manage/86/99999", {"reason": "Sold out"}), 404, "No such menu item.")
    assert await audit_total(runtime) == audits


async def test_stock_counts_86_and_restore_an_item_through_the_service(runtime: Any, demo: None) -> None:
    rib = await _rib(runtime)
    async with runtime.db.write() as session:
        item = await availability.eighty_six(session, rib.id or 0, "Counted stock ran out", None)
        assert item.is_86d
    [entry] = await audit_entries(runtime, "menu.item.86")
    assert entry.actor_id is None, "no person: the stock count decided"
    async with runtime.db.write() as session:
        await availability.un_eighty_six(session, rib.id or 0, "Received 12 kg", None)
    [back] = await audit_entries(runtime, "menu.item.un86")
    assert back.reason == "Received 12 kg"
    assert not (await get(runtime, MenuItem, rib.id or 0)).is_86d


async def test_the_service_refuses_what_cannot_be_86d(runtime: Any, demo: None) -> None:
    rib = await _rib(runtime)
    async with runtime.db.write() as session:
        await items.archive_item(session, rib.id or 0, actor_id=None)
    with pytest.raises(Conflict, match="archived"):
        async with runtime.db.write() as session:
            await availability.eighty_six(session, rib.id or 0, "Sold out", None)
    with pytest.raises(NotFound):
        async with runtime.db.write() as session:
            await availability.eighty_six(session, 99999, "Sold out", None)
    with pytest.raises(InvalidInput):
        async with runtime.db.write() as session:
            await availability.eighty_six(session, rib.id or 0, "   ", None)


async def test_the_menu_page_shows_what_is_86d(manager: Any, runtime: Any) -> None:
    rib = await _rib(runtime)
    await manager.post(f"/manage/86/{rib.id}", {"reason": "Sold out"})
    page = await manager.get("/manage/menu", htmx=True)
    assert "86'd" in text(page)
    board = await manager.get("/manage/86", htmx=True)
    assert "Out now" in board.text


async def test_a_server_may_not_86(server: Any, runtime: Any) -> None:
    rib = await _rib(runtime)
    assert (await server.get("/manage/86")).status_code == 403
    assert (await server.post(f"/manage/86/{rib.id}", {"reason": "Sold out"})).status_code == 403
    assert not (await get(runtime, MenuItem, rib.id or 0)).is_86d


async def test_an_86_without_the_csrf_token_is_refused(cook: Any, runtime: Any) -> None:
    rib = await _rib(runtime)
    response = await cook.client.post(
        f"/manage/86/{rib.id}", data={"reason": "Sold out"}, headers={"hx-request": "true"}
    )
    assert response.status_code == 403
    assert not (await get(runtime, MenuItem, rib.id or 0)).is_86d
