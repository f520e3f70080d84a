"""Menu categories: course, kitchen station, tax rate, colour and order; archived only when empty."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from app.kitchen.models import Station
from app.menu.models import Course, MenuCategory, MenuItem, TaxRate
from tests.integration.manage.support import audit_entries, audit_total, count, find, get, refused, text


async def _form(runtime: Any, **changes: Any) -> dict[str, Any]:
    grill = await find(runtime, Station, Station.name == "Grill")
    food = await find(runtime, TaxRate, TaxRate.rate_bp == 900)
    form = {
        "name": "Specials",
        "course": "mains",
        "station_id": str(grill.id),
        "tax_rate_id": str(food.id),
        "color": "#AA3311",
        "sort_order": "12",
    }
    form.update(changes)
    return form


async def test_the_categories_page_shows_course_station_and_tax_as_a_page_and_as_a_fragment(manager: Any) -> None:
    page = await manager.get("/manage/menu/categories")
    assert page.status_code == 200
    assert "<html" in page.text
    assert "From the Grill" in page.text
    assert "Mains · Grill · 9 %" in text(page)
    fragment = await manager.get("/manage/menu/categories", htmx=True)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "Cocktails" in fragment.text


async def test_a_manager_adds_a_category(manager: Any, runtime: Any) -> None:
    response = await manager.post("/manage/menu/categories", await _form(runtime))
    assert response.status_code == 200
    assert "Added Specials." in text(response)
    specials = await find(runtime, MenuCategory, MenuCategory.name == "Specials")
    assert specials.course == Course.MAINS
    assert specials.color == "#aa3311"
    assert specials.sort_order == 12
    [entry] = await audit_entries(runtime, "menu.category.create")
    assert entry.after is not None
    assert entry.after["name"] == "Specials"


BAD_CATEGORIES = [
    ({"name": ""}, 422, "Name is required."),
    ({"name": "S" * 61}, 422, "Name is 61 characters; the limit is 60."),
    ({"name": "starters"}, 409, "A category named “Starters” already exists."),
    ({"course": "brunch"}, 422, "Course must be one of Drinks, Starters, Mains, Dessert."),
    ({"station_id": ""}, 422, "Choose a kitchen station."),
    ({"station_id": "99999"}, 422, "Kitchen station: unknown or archived kitchen station."),
    ({"tax_rate_id": "99999"}, 422, "Tax rate: unknown or archived tax rate."),
    ({"tax_rate_id": ""}, 422, "Choose a tax rate."),
    ({"color": "red"}, 422, "Colour must look like #4a6fa5."),
    ({"color": "#12345"}, 422, "Colour must look like #4a6fa5."),
    ({"sort_order": "10000"}, 422, "Order must be at most 9999."),
]


async def test_a_bad_category_is_refused_and_changes_nothing(
    manager: Any, runtime: Any, subtests: pytest.Subtests
) -> None:
    categories, audits = await count(runtime, MenuCategory), await audit_total(runtime)
    for changes, status, message in BAD_CATEGORIES:
        with subtests.test(msg=message, changes=changes):
            refused(await manager.post("/manage/menu/categories", await _form(runtime, **changes)), status, message)
            assert await count(runtime, MenuCategory) == categories
            assert await audit_total(runtime) == audits


async def test_a_manager_moves_a_category_to_another_station_and_course(manager: Any, runtime: Any) -> None:
    fryer = await find(runtime, MenuCategory, MenuCategory.name == "Fryer")
    cold = await find(runtime, Station, Station.name == "Cold")
    response = await manager.post(
        f"/manage/menu/categories/{fryer.id}",
        await _form(runtime, name="Fried Things", course="starters", station_id=str(cold.id)),
    )
    assert response.status_code == 200, text(response)
    changed = await get(runtime, MenuCategory, fryer.id or 0)
    assert (changed.name, changed.station_id) == ("Fried Things", cold.id)
    [entry] = await audit_entries(runtime, "menu.category.update")
    assert entry.before is not None
    assert entry.after is not None
    assert (entry.before["name"], entry.after["name"]) == ("Fryer", "Fried Things")


async def test_a_bad_category_edit_changes_nothing(manager: Any, runtime: Any) -> None:
    fryer = await find(runtime, MenuCategory, MenuCategory.name == "Fryer")
    response = await manager.post(f"/manage/menu/categories/{fryer.id}", await _form(runtime, name="Desserts"))
    refused(response, 409, "A category named “Desserts” already exists.")
    assert (await get(runtime, MenuCategory, fryer.id or 0)).name == "Fryer"
    refused(await manager.post("/manage/menu/categories/99999", await _form(runtime)), 404, "No such category.")


async def test_a_category_with_live_items_cannot_be_archived(manager: Any, runtime: Any) -> None:
    wine = await find(runtime, MenuCategory, MenuCategory.name == "Wine")
    refused(
        await manager.post(f"/manage/menu/categories/{wine.id}/archive"),
        409,
        "“Wine” still holds 6 live item(s); archive or move them first.",
    )
    assert (await get(runtime, MenuCategory, wine.id or 0)).archived_at is None


async def test_an_empty_category_is_archived_and_restored(manager: Any, runtime: Any) -> None:
    wine = await find(runtime, MenuCategory, MenuCategory.name == "Wine")
    async with runtime.db.read() as session:
        items = (await session.exec(select(MenuItem).where(MenuItem.category_id == wine.id))).all()
    for item in items:
        assert (await manager.post(f"/manage/menu/items/{item.id}/archive")).status_code == 200
    response = await manager.post(f"/manage/menu/categories/{wine.id}/archive")
    assert response.status_code == 200
    assert "Archived Wine." in text(response)
    assert (await get(runtime, MenuCategory, wine.id or 0)).archived_at is not None
    menu = await manager.get("/manage/menu", htmx=True)
    assert "Rioja" not in menu.text
    assert len(await audit_entries(runtime, "menu.category.archive")) == 1
    restored = await manager.post(f"/manage/menu/categories/{wine.id}/restore")
    assert restored.status_code == 200
    assert (await get(runtime, MenuCategory, wine.id or 0)).archived_at is None
    assert len(await audit_entries(runtime, "menu.category.restore")) == 1


async def test_a_server_may_not_touch_categories(server: Any, runtime: Any) -> None:
    assert (await server.get("/manage/menu/categories")).status_code == 403
    before = await count(runtime, MenuCategory)
    assert (await server.post("/manage/menu/categories", await _form(runtime))).status_code == 403
    wine = await find(runtime, MenuCategory, MenuCategory.name == "Wine")
    assert (await server.post(f"/manage/menu/categories/{wine.id}", await _form(runtime))).status_code == 403
    assert (await server.post(f"/manage/menu/categories/{wine.id}/archive")).status_code == 403
    assert await count(runtime, MenuCategory) == before
    assert (await get(runtime, MenuCategory, wine.id or 0)).name == "Wine"


async def test_a_category_change_without_the_csrf_token_is_refused(manager: Any, runtime: Any) -> None:
    response = await manager.client.post(
        "/manage/menu/categories", data=await _form(runtime), headers={"hx-request": "true"}
    )
    assert response.status_code == 403
    assert await count(runtime, MenuCategory, MenuCategory.name == "Specials") == 0
