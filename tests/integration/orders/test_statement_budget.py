"""What a tablet's busiest requests cost the database: a ceiling on the SQL statements each one sends.

Every tablet rings items in and goes back to the floor all night, and on this stack each statement costs a
trip through the async driver; these ceilings are what the requests cost now, so one that creeps up fails
here with its statements listed. `python -m bench.statements` shows the same per step, with CPU time.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.lib.settings import Settings
from tests.integration.orders.conftest import Restaurant, key
from tests.support.statements import listing, statements_sent

# Statements per request, BEGIN included; SQLite also sends BEGIN IMMEDIATE for a write. A tablet busy through
# service finds its session in the process's memory (app/staff/session_cache.py), as each request below does.
SEAT = {"sqlite": 4, "postgres": 3}
RING_IN = {"sqlite": 5, "postgres": 4}
SEND = {"sqlite": 9, "postgres": 8}
# The floor page reads the plan, and the check page the menu, only when it changed since they were last drawn
# (app/lib/revisions.py).
FLOOR_PAGE = {"sqlite": 1, "postgres": 1}
CHECK_PAGE = {"sqlite": 1, "postgres": 1}


@pytest.fixture
async def settings(settings: Settings) -> Settings:
    """The app without its outbox dispatcher and print worker: every statement counted is the request's own."""
    return settings.model_copy(update={"run_workers": False})


async def test_ringing_an_item_in_stays_within_its_statement_budget(
    server: Any, restaurant: Restaurant, runtime: Any, backend: str
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "PA-CAR", seat=1)
    form = {
        "menu_item_id": str(await restaurant.item_id("PA-RIS")),
        "seat": "2",
        "course": "auto",
        "quantity": "1",
        "note": "",
        "version": str(await restaurant.version(check_id)),
        "idempotency_key": key(),
    }
    with statements_sent(runtime) as sent:
        response = await server.post(f"/checks/{check_id}/lines", form)
    assert response.status_code == 200, response.text
    assert "Mushroom Risotto" in response.text, "the answer is the check panel with the new line"
    assert [line.name for line in await restaurant.lines(check_id)] == ["Spaghetti Carbonara", "Mushroom Risotto"]
    assert len(sent) <= RING_IN[backend], f"ringing in sent {len(sent)} statements:\n{listing(sent)}"


async def test_seating_a_table_stays_within_its_statement_budget(
    server: Any, restaurant: Restaurant, runtime: Any, backend: str
) -> None:
    table_id = await restaurant.table_id("12")
    form = {"kind": "table", "table_id": str(table_id), "covers": "2", "idempotency_key": key()}
    assert (await server.get("/floor")).status_code == 200, "the tablet shows the floor before it seats a table"
    with statements_sent(runtime) as sent:
        response = await server.post("/checks", form)
    assert response.status_code in (200, 303), response.text
    [check] = await restaurant.open_checks()
    assert (check.table_id, check.covers, check.number) == (table_id, 2, check.id), "numbered with its own id"
    assert len(sent) <= SEAT[backend], f"seating sent {len(sent)} statements:\n{listing(sent)}"


async def test_sending_a_check_stays_within_its_statement_budget(
    server: Any, restaurant: Restaurant, runtime: Any, backend: str
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "PA-CAR", seat=1)
    await restaurant.ring_in(server, check_id, "PA-RIS", seat=2)
    form = {"version": str(await restaurant.version(check_id)), "idempotency_key": key()}
    with statements_sent(runtime) as sent:
        response = await server.post(f"/checks/{check_id}/send", form)
    assert response.status_code == 200, response.text
    assert [line.state.value for line in await restaurant.lines(check_id)] == ["sent", "sent"]
    assert len(await restaurant.fires(check_id)) == 1
    assert len(sent) <= SEND[backend], f"sending sent {len(sent)} statements:\n{listing(sent)}"


async def test_the_floor_page_stays_within_its_statement_budget(
    server: Any, restaurant: Restaurant, runtime: Any, backend: str
) -> None:
    fired = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, fired, "PA-CAR", seat=1)
    sent_off = await restaurant.post(server, fired, "send")
    assert sent_off.status_code == 200, sent_off.text
    waiting = await restaurant.open_table(server, "14", 4)
    await restaurant.ring_in(server, waiting, "SI-MAS", seat=3)
    tab = await server.post("/checks", {"kind": "tab", "tab_name": "Jones", "idempotency_key": key()})
    assert tab.status_code == 200, tab.text
    with statements_sent(runtime) as first:
        assert (await server.get("/floor")).status_code == 200
    assert len(first) <= FLOOR_PAGE[backend] + 1, "the first floor page of the night reads the plan once"
    with statements_sent(runtime) as sent:
        page = await server.get("/floor")
    assert page.status_code == 200, page.text
    assert 'data-name="12"' in page.text
    assert "state-fired" in page.text
    assert "state-ordered" in page.text
    assert "Jones" in page.text
    assert len(sent) <= FLOOR_PAGE[backend], f"the floor page sent {len(sent)} statements:\n{listing(sent)}"


async def test_the_check_page_stays_within_its_statement_budget(
    server: Any, restaurant: Restaurant, runtime: Any, backend: str
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "PA-CAR", seat=1)
    with statements_sent(runtime) as first:
        assert (await server.get(f"/checks/{check_id}")).status_code == 200
    assert len(first) <= CHECK_PAGE[backend] + 1, "the first page of the night reads the menu once"
    with statements_sent(runtime) as sent:
        page = await server.get(f"/checks/{check_id}")
    assert page.status_code == 200, page.text
    assert "Spaghetti Carbonara" in page.text, "the check's line"
    assert "Mushroom Risotto" in page.text, "the menu to ring in from"
    assert len(sent) <= CHECK_PAGE[backend], f"the check page sent {len(sent)} statements:\n{listing(sent)}"
