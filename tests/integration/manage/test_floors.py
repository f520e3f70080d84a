"""Floors and sections: name, order, plan size; archived with their tables, never deleted."""

from __future__ import annotations

from typing import Any

import pytest

from app.floor.models import DiningTable, Floor
from tests.integration.manage.support import audit_entries, audit_total, count, find, get, refused, seat, text


async def test_the_floors_page_lists_floors_with_tables_and_seats_as_a_page_and_as_a_fragment(manager: Any) -> None:
    page = await manager.get("/manage/floors")
    assert page.status_code == 200
    assert "<html" in page.text
    assert "Dining Room" in page.text
    assert "22 tables" in page.text
    assert "plan 1000 \u00d7 700" in page.text
    assert 'href="/manage/floors/1/editor"' in page.text
    fragment = await manager.get("/manage/floors", htmx=True)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "Patio" in fragment.text


async def test_a_manager_adds_a_floor(manager: Any, runtime: Any) -> None:
    response = await manager.post(
        "/manage/floors", {"name": "Terrace", "sort_order": "3", "width": "1200", "height": "500"}
    )
    assert response.status_code == 200
    assert "Added Terrace." in text(response)
    terrace = await find(runtime, Floor, Floor.name == "Terrace")
    assert (terrace.sort_order, terrace.width, terrace.height) == (3, 1200, 500)
    [entry] = await audit_entries(runtime, "floor.create")
    assert entry.after is not None
    assert entry.after["width"] == 1200


BAD_FLOORS = [
    ({"name": ""}, 422, "Name is required."),
    ({"name": "F" * 61}, 422, "Name is 61 characters; the limit is 60."),
    ({"name": "patio"}, 409, "A floor named “Patio” already exists."),
    ({"width": "199"}, 422, "Plan width must be at least 200."),
    ({"width": "5001"}, 422, "Plan width must be at most 5000."),
    ({"height": "wide"}, 422, "Plan depth must be a whole number."),
    ({"sort_order": "-2"}, 422, "Order must be at least 0."),
]


async def test_a_bad_floor_is_refused_and_changes_nothing(
    manager: Any, runtime: Any, subtests: pytest.Subtests
) -> None:
    floors, audits = await count(runtime, Floor), await audit_total(runtime)
    for changes, status, message in BAD_FLOORS:
        with subtests.test(msg=message):
            form = {"name": "Terrace", "sort_order": "3", "width": "1000", "height": "700", **changes}
            refused(await manager.post("/manage/floors", form), status, message)
            assert await count(runtime, Floor) == floors
    assert await audit_total(runtime) == audits


async def test_a_floor_is_renamed_and_resized(manager: Any, runtime: Any) -> None:
    patio = await find(runtime, Floor, Floor.name == "Patio")
    response = await manager.post(
        f"/manage/floors/{patio.id}", {"name": "Garden", "sort_order": "1", "width": "1100", "height": "800"}
    )
    assert response.status_code == 200
    changed = await get(runtime, Floor, patio.id or 0)
    assert (changed.name, changed.width, changed.height) == ("Garden", 1100, 800)
    [entry] = await audit_entries(runtime, "floor.update")
    assert entry.before is not None
    assert entry.after is not None
    assert (entry.before["name"], entry.after["name"]) == ("Patio", "Garden")


async def test_a_plan_cannot_shrink_under_its_tables(manager: Any, runtime: Any) -> None:
    dining = await find(runtime, Floor, Floor.name == "Dining Room")
    response = await manager.post(
        f"/manage/floors/{dining.id}", {"name": "Dining Room", "width": "500", "height": "700"}
    )
    refused(response, 409, "would stand outside a 500 by 700 plan; move them first.")
    assert (await get(runtime, Floor, dining.id or 0)).width == 1000
    refused(await manager.post("/manage/floors/99999", {"name": "Nowhere"}), 404, "No such floor.")


async def test_archiving_a_floor_keeps_it_and_its_tables_for_history(manager: Any, runtime: Any) -> None:
    patio = await find(runtime, Floor, Floor.name == "Patio")
    tables = await count(runtime, DiningTable, DiningTable.floor_id == patio.id)
    response = await manager.post(f"/manage/floors/{patio.id}/archive")
    assert response.status_code == 200
    assert "Archived Patio." in text(response)
    assert (await get(runtime, Floor, patio.id or 0)).archived_at is not None
    assert await count(runtime, DiningTable, DiningTable.floor_id == patio.id) == tables
    [entry] = await audit_entries(runtime, "floor.archive")
    assert entry.after is not None
    assert entry.after["tables"] == tables
    editor = await manager.get(f"/manage/floors/{patio.id}/editor", htmx=True)
    assert "is archived; restore it" in editor.text
    assert "Add a table" not in editor.text
    refused(
        await manager.post(f"/manage/floors/{patio.id}/tables", {"name": "P99", "shape": "round", "seats": "2"}),
        409,
        "“Patio” is archived; restore it before changing its plan.",
    )
    assert (await manager.post(f"/manage/floors/{patio.id}/restore")).status_code == 200
    assert (await get(runtime, Floor, patio.id or 0)).archived_at is None
    assert len(await audit_entries(runtime, "floor.restore")) == 1


async def test_the_last_floor_stays(manager: Any, runtime: Any) -> None:
    patio = await find(runtime, Floor, Floor.name == "Patio")
    bar = await find(runtime, Floor, Floor.name == "Bar")
    dining = await find(runtime, Floor, Floor.name == "Dining Room")
    for floor in (patio, bar):
        assert (await manager.post(f"/manage/floors/{floor.id}/archive")).status_code == 200
    refused(
        await manager.post(f"/manage/floors/{dining.id}/archive"),
        409,
        "“Dining Room” is the only floor; add another before archiving it.",
    )
    assert (await get(runtime, Floor, dining.id or 0)).archived_at is None


async def test_a_server_may_not_manage_floors(server: Any, runtime: Any) -> None:
    patio = await find(runtime, Floor, Floor.name == "Patio")
    assert (await server.get("/manage/floors")).status_code == 403
    assert (await server.post("/manage/floors", {"name": "Roof"})).status_code == 403
    assert (await server.post(f"/manage/floors/{patio.id}", {"name": "Roof"})).status_code == 403
    assert (await server.post(f"/manage/floors/{patio.id}/archive")).status_code == 403
    assert (await get(runtime, Floor, patio.id or 0)).name == "Patio"
    assert await count(runtime, Floor, Floor.name == "Roof") == 0


async def test_a_floor_change_without_the_csrf_token_is_refused(manager: Any, runtime: Any) -> None:
    patio = await find(runtime, Floor, Floor.name == "Patio")
    response = await manager.client.post(f"/manage/floors/{patio.id}/archive", headers={"hx-request": "true"})
    assert response.status_code == 403
    assert (await get(runtime, Floor, patio.id or 0)).archived_at is None


async def test_a_floor_with_open_checks_keeps_serving_and_says_which_checks(manager: Any, runtime: Any) -> None:
    patio = await find(runtime, Floor, Floor.name == "Patio")
    p1 = await find(runtime, DiningTable, DiningTable.floor_id == patio.id, DiningTable.name == "P1")
    p2 = await find(runtime, DiningTable, DiningTable.floor_id == patio.id, DiningTable.name == "P2")
    first = await seat(runtime, p1.id or 0)
    second = await seat(runtime, p2.id or 0, server="Milo Grant")
    audited = await audit_total(runtime)
    refused(
        await manager.post(f"/manage/floors/{patio.id}/archive"),
        409,
        f"Patio still has open checks: #{first.number} on table P1, #{second.number} on table P2; "
        "close them or move them to another floor before archiving it.",
    )
    assert (await get(runtime, Floor, patio.id or 0)).archived_at is None
    assert await audit_total(runtime) == audited, "a refusal records nothing"
