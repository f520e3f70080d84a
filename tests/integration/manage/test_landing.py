"""The back office's start page: a tile for each area the person may use, nothing for those who may use none."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import log_in

TILE = re.compile(r'<a class="tile" href="([^"]+)">')


async def test_a_manager_sees_a_tile_for_every_area(manager: Any) -> None:
    page = await manager.get("/manage")
    assert page.status_code == 200
    assert "<html" in page.text
    tiles = TILE.findall(page.text)
    for area in (
        "/manage/menu",
        "/manage/modifiers",
        "/manage/taxes",
        "/manage/86",
        "/manage/floors",
        "/manage/kitchen",
        "/manage/staff",
        "/manage/devices",
        "/manage/audit",
        "/manage/tenders",
        "/inventory",
        "/accounting",
    ):
        assert area in tiles, area
    fragment = await manager.get("/manage", htmx=True)
    assert fragment.status_code == 200
    assert TILE.findall(fragment.text) == tiles


async def test_the_tenders_tile_leads_a_manager_to_the_tenders_page(manager: Any) -> None:
    landing = await manager.get("/manage")
    assert '<a class="tile" href="/manage/tenders"><strong>Tenders</strong>' in landing.text
    tiles = TILE.findall(landing.text)
    assert tiles.index("/manage/audit") < tiles.index("/manage/tenders") < tiles.index("/inventory"), "the nav's order"
    tenders = await manager.get("/manage/tenders")
    assert tenders.status_code == 200
    assert "<h1>Tenders</h1>" in tenders.text


async def test_a_cook_sees_only_the_86_board(cook: Any) -> None:
    page = await cook.get("/manage")
    assert page.status_code == 200
    assert TILE.findall(page.text) == ["/manage/86"]
    assert 'href="/manage/86"' in page.text


async def test_front_of_house_staff_have_nothing_to_manage(server: Any, bartender: Any, device_factory: Any) -> None:
    host = await log_in(await device_factory(), "5555")
    for person in (server, bartender, host):
        response = await person.get("/manage")
        assert response.status_code == 403
        assert "Ask a manager" in response.text


NAV_TENDERS = re.compile(r'<a href="/manage/tenders" class="([^"]*)">Tenders</a>')


async def test_the_side_navigation_leads_a_manager_to_the_tenders(manager: Any) -> None:
    landing = await manager.get("/manage")
    assert NAV_TENDERS.findall(landing.text) == [""], "one link, not the current page"
    tenders = await manager.get("/manage/tenders")
    assert tenders.status_code == 200
    assert NAV_TENDERS.findall(tenders.text) == ["active"]


async def test_staff_without_the_books_see_no_tenders_link(server: Any, cook: Any) -> None:
    board = await cook.get("/manage/86")
    assert board.status_code == 200
    assert 'class="side-nav"' in board.text, "the cook's page carries the side navigation"
    assert "/manage/tenders" not in board.text
    floor = await server.get("/floor")
    assert floor.status_code == 200
    assert "/manage/tenders" not in floor.text
    assert (await server.get("/manage/tenders")).status_code == 403
