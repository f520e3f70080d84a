"""Order-entry screens follow the 86 board and the kitchen live: item buttons grey out and light up again, and
food the kitchen made ready shows as ready on the check, through a real server and the app's channels."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlmodel import col, select

from app.inventory import services as inventory
from app.inventory.models import StockItem, StockLocation
from app.kitchen import bumping
from app.kitchen.models import KitchenTicket
from app.menu import availability
from tests.integration.orders.conftest import Restaurant
from tests.integration.orders.test_live_floor import Tablet, _next_update, served

__all__ = ["served"]


async def _tickets(runtime: Any, check_id: int, count: int) -> list[KitchenTicket]:
    """The check's kitchen tickets once the fire was routed (stations first, expo last)."""
    for _ in range(100):
        async with runtime.db.read() as session:
            rows = (
                await session.exec(
                    select(KitchenTicket)
                    .where(KitchenTicket.check_id == check_id)
                    .order_by(col(KitchenTicket.is_expo), col(KitchenTicket.id))
                )
            ).all()
        if len(rows) >= count:
            return list(rows)
        await asyncio.sleep(0.05)
    raise AssertionError(f"the fire of check {check_id} was not routed")


async def _bump(runtime: Any, ticket: KitchenTicket) -> None:
    async with runtime.db.write() as session:
        await bumping.bump_ticket(session, ticket.id or 0, staff_id=None)


async def test_an_item_86d_on_the_board_greys_out_on_an_open_check_at_once_and_comes_back(
    served: str, restaurant: Restaurant
) -> None:
    lena = await Tablet(served).log_in("1111")
    boss = await Tablet(served).log_in("9999")
    check_id = await restaurant.open_table(lena, "12", 2)
    rib = await restaurant.item_id("GR-RIB")
    async with lena.websocket(f"/checks/{check_id}/live") as ws:
        out = await boss.post(f"/manage/86/{rib}", {"reason": "Last rib-eye sold"})
        assert out.status_code == 200, out.text
        html, took = await _next_update(ws, f'id="menu-item-{rib}"')
        assert took < 1.0
        assert "disabled" in html
        assert "86'd · Last rib-eye sold" in html
        assert "hx-get" not in html, "an 86'd button asks the server nothing"
        assert "hx-post" not in html

        back = await boss.post(f"/manage/86/{rib}/back", {})
        assert back.status_code == 200, back.text
        html, took = await _next_update(ws, f'id="menu-item-{rib}"')
        assert took < 1.0
        assert "disabled" not in html
        assert "86'd" not in html
        assert f'hx-get="/checks/{check_id}/items/{rib}"' in html, "the rib-eye asks its choices again"
    for tablet in (lena, boss):
        await tablet.http.aclose()


async def test_a_dish_86d_by_a_stock_count_greys_out_on_an_open_check(
    served: str, restaurant: Restaurant, runtime: Any
) -> None:
    lena = await Tablet(served).log_in("1111")
    check_id = await restaurant.open_table(lena, "12", 2)
    burrata = await restaurant.item_id("ST-BUR")
    async with lena.websocket(f"/checks/{check_id}/live") as ws:
        # what inventory does when a counted ingredient runs out: an 86 with no person behind it
        async with runtime.db.write() as session:
            await availability.eighty_six(session, burrata, "Out of Burrata (stock count)", None)
        html, took = await _next_update(ws, f'id="menu-item-{burrata}"')
        assert took < 1.0
        assert "disabled" in html
        assert "Out of Burrata (stock count)" in html
    await lena.http.aclose()


async def test_a_change_to_the_check_alone_sends_no_item_buttons(served: str, restaurant: Restaurant) -> None:
    lena = await Tablet(served).log_in("1111")
    check_id = await restaurant.open_table(lena, "12", 2)
    async with lena.websocket(f"/checks/{check_id}/live") as ws:
        await restaurant.ring_in(lena, check_id, "ST-SOU", seat=1)
        html, _ = await _next_update(ws, 'id="check-sync"')
        assert "menu-item-" not in html
        assert "data-kitchen" not in html, "the tablet's own change needs no redraw beyond its version"
    await lena.http.aclose()


async def test_the_check_shows_a_course_ready_once_expo_marks_it_and_not_before(
    served: str, restaurant: Restaurant, runtime: Any
) -> None:
    lena = await Tablet(served).log_in("1111")
    check_id = await restaurant.open_table(lena, "12", 2)
    await restaurant.ring_in(lena, check_id, "ST-BUR", seat=1)
    await restaurant.ring_in(lena, check_id, "GR-CHK", options=["Mashed potatoes"], seat=2, hold=True)
    await restaurant.post(lena, check_id, "send")
    station, expo = await _tickets(runtime, check_id, 2)
    assert not station.is_expo
    assert expo.is_expo

    async with lena.websocket(f"/checks/{check_id}/live") as ws:
        await _bump(runtime, station)
        panel = await lena.http.get(f"/checks/{check_id}/panel", headers={"hx-request": "true"})
        assert "— ready" not in panel.text, "the station is done, but expo has not run it yet"

        await _bump(runtime, expo)
        html, took = await _next_update(ws, "data-kitchen")
        assert took < 1.0
        assert 'id="check-sync"' in html

    panel = await lena.http.get(f"/checks/{check_id}/panel", headers={"hx-request": "true"})
    starters = panel.text.split('data-course="starters"')[1].split("</section>")[0]
    assert "— ready" in starters
    assert "is-ready" in starters
    assert ">ready<" in starters.replace("\n", "").replace(" ", ""), "the burrata's line says ready"
    mains = panel.text.split('data-course="mains"')[1].split("</section>")[0]
    assert "ready" not in mains, "the held chicken is not ready"
    await lena.http.aclose()


async def test_a_recalled_ticket_takes_ready_back_on_the_check(
    served: str, restaurant: Restaurant, runtime: Any
) -> None:
    lena = await Tablet(served).log_in("1111")
    check_id = await restaurant.open_table(lena, "12", 2)
    await restaurant.ring_in(lena, check_id, "ST-BUR", seat=1)
    await restaurant.post(lena, check_id, "send")
    station, expo = await _tickets(runtime, check_id, 2)
    await _bump(runtime, station)
    await _bump(runtime, expo)
    async with lena.websocket(f"/checks/{check_id}/live") as ws:
        async with runtime.db.write() as session:
            await bumping.recall_last(session, expo.station_id, staff_id=None)
        await _next_update(ws, "data-kitchen")
    panel = await lena.http.get(f"/checks/{check_id}/panel", headers={"hx-request": "true"})
    assert "— ready" not in panel.text
    await lena.http.aclose()


async def test_a_reconnecting_tablet_reloads_every_item_button_as_it_stands(
    served: str, restaurant: Restaurant, runtime: Any
) -> None:
    lena = await Tablet(served).log_in("1111")
    check_id = await restaurant.open_table(lena, "12", 2)
    rib = await restaurant.item_id("GR-RIB")
    async with runtime.db.write() as session:
        await availability.eighty_six(session, rib, "grill down", None)
    response = await lena.http.get(f"/checks/{check_id}/menu", headers={"hx-request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.count('hx-swap-oob="true"') == response.text.count("<button") > 20
    rib_button = response.text.split(f'id="menu-item-{rib}"')[1].split("</button>")[0]
    assert "disabled" in rib_button
    assert "grill down" in rib_button
    await lena.http.aclose()


async def test_a_dish_made_with_counted_stock_counts_down_on_another_tablet_as_it_is_rung_in(
    served: str, restaurant: Restaurant, runtime: Any
) -> None:
    lena = await Tablet(served).log_in("1111")
    other = await Tablet(served).log_in("1111")
    check_id = await restaurant.open_table(lena, "12", 2)
    watching = await restaurant.open_table(other, "8", 2)
    burrata = await restaurant.item_id("ST-BUR")
    async with other.websocket(f"/checks/{watching}/live") as ws:
        await restaurant.ring_in(lena, check_id, "ST-BUR", seat=1, quantity=3)
        html, took = await _next_update(ws, f'id="menu-item-{burrata}"')
        assert took < 1.0
        assert "7 left" in html
        assert "disabled" not in html

        # a delivery raises it as it lands
        async with runtime.db.write() as session:
            kitchen = (await session.exec(select(StockLocation).where(StockLocation.name == "Kitchen"))).one()
            stock = (await session.exec(select(StockItem).where(StockItem.name == "Burrata"))).one()
            await inventory.receive_delivery(session, location_id=kitchen.id or 0, lines=[(stock.id or 0, 3_000, 720)])
        html, _ = await _next_update(ws, f'id="menu-item-{burrata}"')
        assert "10 left" in html

        await restaurant.ring_in(lena, check_id, "ST-BUR", seat=2, quantity=10)
        html, _ = await _next_update(ws, f'id="menu-item-{burrata}"')
        assert "0 left" in html
        assert "disabled" in html, "none left: the button cannot be tapped"
        assert "hx-post" not in html
    for tablet in (lena, other):
        await tablet.http.aclose()
