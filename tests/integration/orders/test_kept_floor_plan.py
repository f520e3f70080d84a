"""The floor page reads every check the floor shows in one statement and keeps the plan (floors and tables) per
floor revision: it draws what reading everything afresh draws, and any change to the plan, made anywhere, shows."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import select

from app.floor.models import DiningTable, Floor, TableShape
from app.lib import revisions
from app.lib.settings import Settings
from app.orders import floor_queries
from app.orders.models import Check, CheckStatus
from tests.conftest import log_in
from tests.integration.orders.conftest import Restaurant, key
from tests.support.statements import listing, statements_sent


@pytest.fixture
async def settings(settings: Settings) -> Settings:
    """The app without its outbox dispatcher and print worker: every statement counted is the page's own."""
    return settings.model_copy(update={"run_workers": False})


def _drawn(view: floor_queries.TableView) -> dict[str, Any]:
    fields = {f.name: getattr(view, f.name) for f in dataclasses.fields(view)}
    return {**fields, "table": (view.table.id, view.table.name)}


async def _a_busy_floor(server: Any, restaurant: Restaurant, runtime: Any) -> None:
    """Checks in every state the floor shows, on two floors, and tabs and takeouts beside them."""
    fired = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, fired, "PA-CAR", seat=1)
    assert (await restaurant.post(server, fired, "send")).status_code == 200
    waiting = await restaurant.open_table(server, "14", 4)
    await restaurant.ring_in(server, waiting, "SI-MAS", seat=3)
    await restaurant.open_table(server, "P2", 2)
    paid = await restaurant.open_table(server, "3", 2)
    cleared = await restaurant.open_table(server, "4", 2)
    for kind, name in (("tab", "Jones"), ("takeout", "Okafor")):
        response = await server.post("/checks", {"kind": kind, "tab_name": name, "idempotency_key": key()})
        assert response.status_code == 200, response.text
    async with runtime.db.write() as session:
        for check_id, table_cleared in ((paid, None), (cleared, datetime.now(UTC))):
            check = await session.get(Check, check_id)
            assert check is not None
            check.status, check.closed_at, check.table_cleared_at = CheckStatus.CLOSED, datetime.now(UTC), table_cleared
            session.add(check)


async def test_the_one_statement_read_draws_what_reading_everything_afresh_draws(
    server: Any, restaurant: Restaurant, runtime: Any
) -> None:
    await _a_busy_floor(server, restaurant, runtime)
    kept: revisions.Kept[floor_queries.FloorPlan] = revisions.Kept()
    async with runtime.db.read() as session:
        floors = (await session.exec(select(Floor).order_by(Floor.sort_order))).all()
        for floor_id in [None, *(f.id for f in floors)]:
            page = await floor_queries.floor_page(session, kept, floor_id)
            plan_floors, tables, tabs = page.floors, page.tables, page.tabs
            assert page.plan is kept.value
            fresh_floors, fresh_tables = await floor_queries.floor_plan(session, floor_id)
            fresh_tabs = await floor_queries.open_tabs(session)
            assert [f.id for f in plan_floors] == [f.id for f in fresh_floors]
            assert [_drawn(v) for v in tables] == [_drawn(v) for v in fresh_tables], f"floor {floor_id}"
            assert [(t.check.id, t.server_name, t.line_count) for t in tabs] == [
                (t.check.id, t.server_name, t.line_count) for t in fresh_tabs
            ]
    assert kept.revision is not None, "the plan was kept"


async def test_the_floor_page_on_an_unchanged_plan_is_one_statement_and_shows_every_state(
    server: Any, restaurant: Restaurant, runtime: Any
) -> None:
    await _a_busy_floor(server, restaurant, runtime)
    assert (await server.get("/floor")).status_code == 200
    with statements_sent(runtime) as sent:
        page = await server.get("/floor")
    assert page.status_code == 200, page.text
    assert len(sent) == 1, f"the page read more than the checks it shows:\n{listing(sent)}"
    for name, state in (("12", "fired"), ("14", "ordered"), ("3", "paid"), ("4", "free")):
        assert f'data-state="{state}" data-name="{name}"' in page.text, (name, state)
    assert "Jones" in page.text
    assert "Okafor" in page.text
    patio = (await server.get("/floor", params={"floor": str(await _floor_id(runtime, "Patio"))})).text
    assert 'data-name="P2"' in patio
    assert 'data-name="12"' not in patio
    assert (await server.get("/floor", params={"floor": "999"})).status_code == 404


async def _floor_id(runtime: Any, name: str) -> int:
    async with runtime.db.read() as session:
        return (await session.exec(select(Floor).where(Floor.name == name))).one().id or 0


async def test_a_change_to_the_plan_made_anywhere_shows_on_the_next_page(
    server: Any, restaurant: Restaurant, runtime: Any
) -> None:
    assert 'data-name="12"' in (await server.get("/floor")).text
    dining = await _floor_id(runtime, "Dining Room")
    # Straight in the database, as a script or another process would: nobody tells the app.
    async with runtime.db.write() as session:
        twelve = (await session.exec(select(DiningTable).where(DiningTable.name == "12"))).one()
        twelve.name = "12A"
        session.add(twelve)
        session.add(DiningTable(floor_id=dining, name="99", shape=TableShape.ROUND, seats=2, x=900, y=600))
    page = (await server.get("/floor")).text
    assert 'data-name="12A"' in page
    assert 'data-name="12"' not in page
    assert 'data-name="99"' in page
    async with runtime.db.write() as session:
        added = (await session.exec(select(DiningTable).where(DiningTable.name == "99"))).one()
        added.archived_at = datetime.now(UTC)
        session.add(added)
        session.add(Floor(name="Terrace", sort_order=9, width=800, height=600))
    page = (await server.get("/floor")).text
    assert 'data-name="99"' not in page
    assert "Terrace" in page


async def test_a_plan_never_counted_is_read_as_it_stands(server: Any, restaurant: Restaurant, runtime: Any) -> None:
    await _a_busy_floor(server, restaurant, runtime)
    async with runtime.db.write() as session:
        await session.exec(text("DELETE FROM cache_revision WHERE subject = 'floor'"))  # type: ignore[call-overload]
    with statements_sent(runtime) as sent:
        page = await server.get("/floor")
    assert page.status_code == 200, page.text
    assert len(sent) >= 2, "the plan and the tabs were read afresh"
    assert "state-fired" in page.text
    assert "Jones" in page.text
    assert "floor plan" not in runtime.db.kept or runtime.db.kept["floor plan"].revision is None


def _tables_drawn(html: str) -> dict[str, str]:
    return {m.group(1): m.group(0) for m in re.finditer(r'<a id="table-(\d+)"[\s\S]*?</a>', html)}


async def test_free_tables_kept_with_the_plan_are_drawn_as_the_live_link_draws_them(
    server: Any, device_factory: Any, restaurant: Restaurant, runtime: Any
) -> None:
    await _a_busy_floor(server, restaurant, runtime)
    host = await log_in(await device_factory(), "5555")  # sees the floor, takes no orders: tables lead elsewhere
    dining = await _floor_id(runtime, "Dining Room")
    for device in (server, host):
        assert (await device.get("/floor")).status_code == 200
        kept_page = _tables_drawn((await device.get("/floor")).text)
        fresh = _tables_drawn((await device.get("/floor/tables", params={"floor": str(dining)})).text)
        assert len(kept_page) == 22
        assert kept_page == fresh
    plan = runtime.db.kept["floor plan"].value
    assert len(plan.drawn) == 2 * (22 - 3), "every free table was kept for each kind of viewer, and only those"
