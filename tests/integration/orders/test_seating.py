"""Seating tables, opening tabs and takeouts, and the floor that shows them."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from app.orders.models import Check, CheckKind, CheckStatus
from app.staff.models import Staff
from tests.conftest import log_in
from tests.integration.orders.conftest import Restaurant, key


async def test_seating_table_12_with_4_covers_opens_a_check_and_goes_to_order_entry(
    server: Any, restaurant: Restaurant
) -> None:
    check_id = await restaurant.open_table(server, "12", 4)
    check = await restaurant.check(check_id)
    assert check.covers == 4
    assert check.kind == CheckKind.TABLE
    assert check.status == CheckStatus.OPEN
    page = await server.get(f"/checks/{check_id}")
    assert page.status_code == 200
    assert "Table 12" in page.text
    assert f'href="/checks/{check_id}/settle"' in page.text


async def test_a_seated_table_cannot_be_seated_again(server: Any, second_server: Any, restaurant: Restaurant) -> None:
    await restaurant.open_table(server, "12", 4)
    response = await second_server.post(
        "/checks",
        {"kind": "table", "table_id": str(await restaurant.table_id("12")), "covers": "2", "idempotency_key": key()},
    )
    assert response.status_code == 409
    assert "Table 12 is already seated" in response.text
    assert "Lena Brooks" in response.text


async def test_seating_an_unknown_table_is_refused(server: Any, restaurant: Restaurant) -> None:
    response = await server.post(
        "/checks", {"kind": "table", "table_id": "99999", "covers": "2", "idempotency_key": key()}
    )
    assert response.status_code == 404
    assert "There is no table 99999" in response.text
    missing = await server.post("/checks", {"kind": "table", "covers": "2", "idempotency_key": key()})
    assert missing.status_code == 422


async def test_covers_must_be_a_number_from_1_to_99(server: Any, restaurant: Restaurant) -> None:
    table = str(await restaurant.table_id("12"))
    for covers in ("0", "-3", "100", "four"):
        response = await server.post(
            "/checks", {"kind": "table", "table_id": table, "covers": covers, "idempotency_key": key()}
        )
        assert response.status_code == 422, covers
        assert "Covers must be" in response.text
    assert await restaurant.open_checks() == []


async def test_a_double_tap_on_a_cover_count_seats_the_table_once(server: Any, restaurant: Restaurant) -> None:
    body = {"kind": "table", "table_id": str(await restaurant.table_id("12")), "covers": "4", "idempotency_key": key()}
    first = await server.post("/checks", body)
    second = await server.post("/checks", body)
    assert first.headers["hx-redirect"] == second.headers["hx-redirect"]


async def test_a_bar_tab_opens_by_name_and_a_takeout_without_a_table(server: Any, restaurant: Restaurant) -> None:
    tab = await server.post("/checks", {"kind": "tab", "tab_name": "Jones", "idempotency_key": key()})
    assert tab.status_code == 200, tab.text
    tab_check = await restaurant.check(int(tab.headers["hx-redirect"].rsplit("/", 1)[1]))
    assert (tab_check.kind, tab_check.tab_name, tab_check.table_id) == (CheckKind.TAB, "Jones", None)
    takeout = await server.post("/checks", {"kind": "takeout", "idempotency_key": key()})
    assert takeout.status_code == 200
    floor = await server.get("/floor")
    assert "Jones" in floor.text
    assert "Takeout #" in floor.text


async def test_a_tab_needs_a_name_and_one_name_is_one_open_tab(server: Any, restaurant: Restaurant) -> None:
    nameless = await server.post("/checks", {"kind": "tab", "tab_name": " ", "idempotency_key": key()})
    assert nameless.status_code == 422
    assert "needs the guest" in nameless.text
    await server.post("/checks", {"kind": "tab", "tab_name": "Jones", "idempotency_key": key()})
    twice = await server.post("/checks", {"kind": "tab", "tab_name": "Jones", "idempotency_key": key()})
    assert twice.status_code == 409
    long_name = await server.post("/checks", {"kind": "tab", "tab_name": "J" * 61, "idempotency_key": key()})
    assert long_name.status_code == 422
    odd = await server.post("/checks", {"kind": "banquet", "idempotency_key": key()})
    assert odd.status_code == 422


async def test_a_host_seats_a_table_for_a_server(device_factory: Any, restaurant: Restaurant, runtime: Any) -> None:
    host = await log_in(await device_factory(), "5555")
    table = str(await restaurant.table_id("7"))
    without = await host.post("/checks", {"kind": "table", "table_id": table, "covers": "2", "idempotency_key": key()})
    assert without.status_code == 422
    assert "Choose the server" in without.text
    async with runtime.db.read() as session:
        milo = (await session.exec(select(Staff).where(Staff.name == "Milo Grant"))).one()
    seated = await host.post(
        "/checks",
        {"kind": "table", "table_id": table, "covers": "2", "server_id": str(milo.id), "idempotency_key": key()},
    )
    assert seated.headers["hx-redirect"] == "/floor"
    async with runtime.db.read() as session:
        check = (await session.exec(select(Check).where(Check.table_id == int(table)))).one()
    assert check.server_id == milo.id


async def test_the_floor_shows_state_covers_server_and_minutes(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 4)
    table = await restaurant.table_id("12")
    floor = await server.get("/floor")
    assert floor.status_code == 200
    assert f'id="table-{table}"' in floor.text
    assert "state-seated mine" in floor.text
    assert "4<abbr" in floor.text
    assert "LB" in floor.text
    assert 'class="since"' in floor.text
    assert f'href="/checks/{check_id}"' in floor.text
    await restaurant.ring_in(server, check_id, "ST-BUR", seat=1)
    assert "state-ordered" in (await server.get("/floor/tables?floor=1")).text
    await restaurant.post(server, check_id, "send")
    assert "state-fired" in (await server.get("/floor/tables?floor=1")).text


async def test_my_tables_dims_other_servers_tables(server: Any, second_server: Any, restaurant: Restaurant) -> None:
    await restaurant.open_table(second_server, "3", 2)
    mine = await server.get("/floor?mine=1", htmx=True)
    assert "plan only-mine" in mine.text
    assert "state-seated mine" not in mine.text
    assert "<html" not in mine.text


async def test_the_floor_pages_render_as_pages_and_fragments(server: Any, restaurant: Restaurant) -> None:
    table = await restaurant.table_id("12")
    for url, marker in [("/floor", 'id="plan-tables"'), (f"/tables/{table}", "How many guests?")]:
        page = await server.get(url)
        assert page.status_code == 200
        assert "<html" in page.text
        assert marker in page.text
        fragment = await server.get(url, htmx=True)
        assert fragment.status_code == 200
        assert "<html" not in fragment.text
        assert marker in fragment.text
    assert (await server.get("/floor?floor=999")).status_code == 404
    assert (await server.get("/tables/99999")).status_code == 404
