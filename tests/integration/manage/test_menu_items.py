"""Menu items on the manager's menu page: list, add, change, archive, restore; every refusal changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from app.menu import queries
from app.menu.models import MenuCategory, MenuItem, MenuItemModifierGroup, ModifierGroup
from app.orders.models import Check, CheckLine
from app.staff.models import Staff
from tests.integration.manage.support import audit_entries, audit_total, count, find, get, refused, text


async def _category(runtime: Any, name: str) -> MenuCategory:
    return await find(runtime, MenuCategory, MenuCategory.name == name)


async def _group(runtime: Any, name: str) -> ModifierGroup:
    return await find(runtime, ModifierGroup, ModifierGroup.name == name)


async def _form(runtime: Any, **changes: Any) -> dict[str, Any]:
    starters = await _category(runtime, "Starters")
    form: dict[str, Any] = {
        "sku": "ST-SPC",
        "name": "Chef's Soup Special",
        "price": "8.50",
        "category_id": str(starters.id),
        "station_id": "",
        "description": "Ask for today's soup",
        "sort_order": "9",
        "group_ids": ["", ""],
    }
    form.update(changes)
    return form


async def _group_ids(runtime: Any, item_id: int) -> list[int]:
    async with runtime.db.read() as session:
        links = await session.exec(
            select(MenuItemModifierGroup)
            .where(MenuItemModifierGroup.item_id == item_id)
            .order_by(col(MenuItemModifierGroup.sort_order))
        )
        return [link.group_id for link in links]


async def test_the_menu_page_lists_every_item_by_category_as_a_page_and_as_a_fragment(manager: Any) -> None:
    page = await manager.get("/manage/menu")
    assert page.status_code == 200
    assert "<html" in page.text
    assert "Rib-eye 300 g" in page.text
    assert "€32.00" in page.text
    assert 'id="menu"' in page.text
    fragment = await manager.get("/manage/menu", htmx=True)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "Rib-eye 300 g" in fragment.text
    assert "Temperature" in fragment.text, "modifier groups show beside the item"


async def test_filtering_by_category_shows_only_that_category(manager: Any, runtime: Any) -> None:
    grill = await _category(runtime, "From the Grill")
    response = await manager.get(f"/manage/menu?category={grill.id}", htmx=True)
    assert "Rib-eye 300 g" in response.text
    assert "Negroni" not in response.text


async def test_a_manager_adds_an_item_with_its_modifier_groups_in_order(manager: Any, runtime: Any) -> None:
    heat, side = await _group(runtime, "Heat"), await _group(runtime, "Side")
    before = await audit_total(runtime)
    response = await manager.post(
        "/manage/menu/items", await _form(runtime, group_ids=[str(side.id), str(heat.id), ""])
    )
    assert response.status_code == 200
    assert "Added Chef's Soup Special." in text(response)
    assert "Chef's Soup Special" in text(response)
    item = await find(runtime, MenuItem, MenuItem.sku == "ST-SPC")
    assert item.price_cents == 850
    assert item.description == "Ask for today's soup"
    assert item.sort_order == 9
    assert item.station_id is None, "no override: the category's station makes it"
    assert await _group_ids(runtime, item.id or 0) == [side.id, heat.id]
    [entry] = await audit_entries(runtime, "menu.item.create")
    assert entry.subject == f"item:{item.id}"
    assert entry.after is not None
    assert entry.after["price_cents"] == 850
    assert entry.after["group_ids"] == [side.id, heat.id]
    assert await audit_total(runtime) == before + 1


async def test_prices_are_read_as_people_type_them(manager: Any, runtime: Any) -> None:
    for number, typed in enumerate(["12.50", "12,50", "€12.50", " 12.5 ", "12"]):
        response = await manager.post("/manage/menu/items", await _form(runtime, sku=f"ST-P{number}", price=typed))
        assert response.status_code == 200, text(response)
        expected = 1200 if typed == "12" else 1250
        assert (await find(runtime, MenuItem, MenuItem.sku == f"ST-P{number}")).price_cents == expected


BAD_ITEMS = [
    ({"price": "abc"}, 422, "Price: Enter an amount like 12.50."),
    ({"price": "-1.00"}, 422, "Price cannot be negative."),
    ({"price": "12.345"}, 422, "Use at most two decimals"),
    ({"price": ""}, 422, "Enter an amount like 12.50"),
    ({"price": "100000.01"}, 422, "Price (cents) must be between 0 and 10000000."),
    ({"sku": "GR-RIB"}, 409, "SKU GR-RIB is already used by “Rib-eye 300 g”."),
    ({"sku": "gr-rib"}, 409, "is already used by “Rib-eye 300 g”"),
    ({"sku": "ST SPC"}, 422, "SKU may hold letters, digits"),
    ({"sku": ""}, 422, "SKU is required."),
    ({"sku": "X" * 41}, 422, "SKU is 41 characters; the limit is 40."),
    ({"name": ""}, 422, "Name is required."),
    ({"name": "N" * 81}, 422, "Name is 81 characters; the limit is 80."),
    ({"name": "Soup\x07"}, 422, "Name contains control characters."),
    ({"description": "D" * 301}, 422, "Description is 301 characters; the limit is 300."),
    ({"category_id": "99999"}, 422, "Category: unknown or archived category."),
    ({"category_id": "soup"}, 422, "Category: unknown category."),
    ({"category_id": ""}, 422, "Choose a category."),
    ({"station_id": "99999"}, 422, "Station override: unknown or archived kitchen station."),
    ({"group_ids": ["99999"]}, 422, "Modifier groups: 1 unknown or archived group(s) chosen."),
    ({"sort_order": "-1"}, 422, "Order must be at least 0."),
    ({"sort_order": "first"}, 422, "Order must be a whole number."),
]


async def test_a_bad_item_is_refused_with_a_message_and_changes_nothing(
    manager: Any, runtime: Any, subtests: pytest.Subtests
) -> None:
    items, audits = await count(runtime, MenuItem), await audit_total(runtime)
    for changes, status, message in BAD_ITEMS:
        with subtests.test(msg=message, changes=changes):
            response = await manager.post("/manage/menu/items", await _form(runtime, **changes))
            refused(response, status, message)
            assert await count(runtime, MenuItem) == items
            assert await audit_total(runtime) == audits


async def test_the_same_modifier_group_twice_is_refused(manager: Any, runtime: Any) -> None:
    heat = await _group(runtime, "Heat")
    response = await manager.post("/manage/menu/items", await _form(runtime, group_ids=[str(heat.id), str(heat.id)]))
    refused(response, 422, "A modifier group is chosen twice")
    assert await count(runtime, MenuItem, MenuItem.sku == "ST-SPC") == 0


async def test_an_archived_category_takes_no_new_items(manager: Any, runtime: Any) -> None:
    tax = (await _category(runtime, "Starters")).tax_rate_id
    empty = await manager.post(
        "/manage/menu/categories",
        {"name": "Specials", "course": "mains", "station_id": "1", "tax_rate_id": str(tax), "color": "#112233"},
    )
    assert empty.status_code == 200
    specials = await _category(runtime, "Specials")
    assert (await manager.post(f"/manage/menu/categories/{specials.id}/archive")).status_code == 200
    response = await manager.post("/manage/menu/items", await _form(runtime, category_id=str(specials.id)))
    refused(response, 422, "Category: unknown or archived category.")


async def test_the_edit_form_replaces_the_row_and_cancel_brings_the_row_back(manager: Any, runtime: Any) -> None:
    rib = await find(runtime, MenuItem, MenuItem.sku == "GR-RIB")
    form = await manager.get(f"/manage/menu/items/{rib.id}/edit", htmx=True)
    assert form.status_code == 200
    assert "<html" not in form.text
    assert f'<tr id="item-{rib.id}" class="editing">' in form.text
    assert 'value="32.00"' in form.text
    assert form.text.count('name="group_ids"') == 5, "three groups and two free slots"
    row = await manager.get(f"/manage/menu/items/{rib.id}", htmx=True)
    assert row.status_code == 200
    assert f'<tr id="item-{rib.id}"' in row.text
    assert "editing" not in row.text
    page = await manager.get(f"/manage/menu/items/{rib.id}/edit")
    assert "<html" in page.text, "without htmx the whole menu comes with the form open"
    assert 'class="editing"' in page.text


async def test_editing_an_unknown_item_is_a_404(manager: Any) -> None:
    assert (await manager.get("/manage/menu/items/99999/edit", htmx=True)).status_code == 404
    assert (await manager.get("/manage/menu/items/99999", htmx=True)).status_code == 404
    response = await manager.post(
        "/manage/menu/items/99999", {"sku": "X1", "name": "X", "price": "1", "category_id": "1"}
    )
    refused(response, 404, "No such menu item.")


async def test_a_manager_changes_an_item_and_the_audit_keeps_before_and_after(manager: Any, runtime: Any) -> None:
    rib = await find(runtime, MenuItem, MenuItem.sku == "GR-RIB")
    old_groups = await _group_ids(runtime, rib.id or 0)
    grill = await _category(runtime, "From the Grill")
    response = await manager.post(
        f"/manage/menu/items/{rib.id}",
        {
            "sku": "GR-RIB",
            "name": "Rib-eye 350 g",
            "price": "34.50",
            "category_id": str(grill.id),
            "station_id": "",
            "description": "Dry-aged",
            "sort_order": "0",
            "group_ids": [str(old_groups[1]), str(old_groups[0]), ""],
        },
    )
    assert response.status_code == 200, text(response)
    assert "Saved Rib-eye 350 g." in text(response)
    changed = await get(runtime, MenuItem, rib.id or 0)
    assert (changed.name, changed.price_cents, changed.description) == ("Rib-eye 350 g", 3450, "Dry-aged")
    assert await _group_ids(runtime, rib.id or 0) == [old_groups[1], old_groups[0]]
    [entry] = await audit_entries(runtime, "menu.item.update")
    assert entry.before is not None
    assert entry.after is not None
    assert (entry.before["price_cents"], entry.after["price_cents"]) == (3200, 3450)
    assert entry.before["group_ids"] == old_groups
    assert entry.after["group_ids"] == [old_groups[1], old_groups[0]]


async def test_a_bad_edit_changes_nothing(manager: Any, runtime: Any) -> None:
    rib = await find(runtime, MenuItem, MenuItem.sku == "GR-RIB")
    groups = await _group_ids(runtime, rib.id or 0)
    response = await manager.post(
        f"/manage/menu/items/{rib.id}",
        {"sku": "CK-NEG", "name": "Rib", "price": "1.00", "category_id": str(rib.category_id), "group_ids": ""},
    )
    refused(response, 409, "SKU CK-NEG is already used by “Negroni”.")
    unchanged = await get(runtime, MenuItem, rib.id or 0)
    assert (unchanged.sku, unchanged.name, unchanged.price_cents) == ("GR-RIB", "Rib-eye 300 g", 3200)
    assert await _group_ids(runtime, rib.id or 0) == groups
    assert await audit_entries(runtime, "menu.item.update") == []


async def test_archiving_an_item_takes_it_off_the_menu_but_checks_keep_it(manager: Any, runtime: Any) -> None:
    rib = await find(runtime, MenuItem, MenuItem.sku == "GR-RIB")
    async with runtime.db.write() as session:
        lena = (await session.exec(select(Staff).where(Staff.name == "Lena Brooks"))).one()
        check = Check(number=1, server_id=lena.id or 0, opened_by=lena.id or 0)
        session.add(check)
        await session.flush()
        category = await session.get(MenuCategory, rib.category_id)
        assert category is not None
        line = CheckLine(
            check_id=check.id or 0,
            menu_item_id=rib.id or 0,
            sku=rib.sku,
            name=rib.name,
            category_id=rib.category_id,
            unit_price_cents=rib.price_cents,
            tax_rate_id=category.tax_rate_id,
            tax_rate_bp=900,
            added_by=lena.id or 0,
        )
        session.add(line)
    response = await manager.post(f"/manage/menu/items/{rib.id}/archive")
    assert response.status_code == 200
    assert "Archived Rib-eye 300 g." in text(response)
    assert "Rib-eye 300 g</strong>" not in response.text, "archived items leave the list"
    archived = await get(runtime, MenuItem, rib.id or 0)
    assert archived.archived_at is not None
    assert await count(runtime, CheckLine, CheckLine.menu_item_id == rib.id) == 1, "the check still holds its line"
    shown = await manager.get("/manage/menu?archived=true", htmx=True)
    assert "Rib-eye 300 g" in shown.text
    assert "Restore" in shown.text
    [entry] = await audit_entries(runtime, "menu.item.archive")
    assert entry.subject == f"item:{rib.id}"
    async with runtime.db.read() as session:
        on_menu = [row.item.sku for s in await queries.menu_sections(session) for row in s.items]
    assert "GR-RIB" not in on_menu

    again = await manager.post(f"/manage/menu/items/{rib.id}/archive")
    assert again.status_code == 200
    assert len(await audit_entries(runtime, "menu.item.archive")) == 1, "archiving twice records once"

    restored = await manager.post(f"/manage/menu/items/{rib.id}/restore")
    assert restored.status_code == 200
    assert (await get(runtime, MenuItem, rib.id or 0)).archived_at is None
    assert len(await audit_entries(runtime, "menu.item.restore")) == 1


async def test_an_item_of_an_archived_category_cannot_be_restored_alone(manager: Any, runtime: Any) -> None:
    sides = await _category(runtime, "Sides")
    async with runtime.db.read() as session:
        items = (await session.exec(select(MenuItem).where(MenuItem.category_id == sides.id))).all()
    for item in items:
        assert (await manager.post(f"/manage/menu/items/{item.id}/archive")).status_code == 200
    assert (await manager.post(f"/manage/menu/categories/{sides.id}/archive")).status_code == 200
    response = await manager.post(f"/manage/menu/items/{items[0].id}/restore")
    refused(response, 409, "belongs to an archived category; restore the category first.")
    assert (await get(runtime, MenuItem, items[0].id or 0)).archived_at is not None


async def test_an_archived_group_an_item_already_asks_may_stay_attached(manager: Any, runtime: Any) -> None:
    rib = await find(runtime, MenuItem, MenuItem.sku == "GR-RIB")
    groups = await _group_ids(runtime, rib.id or 0)
    assert (await manager.post(f"/manage/modifiers/{groups[2]}/archive")).status_code == 200
    response = await manager.post(
        f"/manage/menu/items/{rib.id}",
        {
            "sku": "GR-RIB",
            "name": "Rib-eye 300 g",
            "price": "33.00",
            "category_id": str(rib.category_id),
            "group_ids": [str(g) for g in groups],
        },
    )
    assert response.status_code == 200, text(response)
    assert await _group_ids(runtime, rib.id or 0) == groups
    async with runtime.db.read() as session:
        asked = [g.group.id for g in await queries.item_modifier_groups(session, rib.id or 0)]
    assert asked == groups[:2], "servers are not asked an archived group"


async def test_a_server_may_not_see_or_change_the_menu(server: Any, runtime: Any) -> None:
    assert (await server.get("/manage/menu")).status_code == 403
    assert (await server.get("/manage/menu", htmx=True)).status_code == 403
    items = await count(runtime, MenuItem)
    response = await server.post("/manage/menu/items", await _form(runtime))
    assert response.status_code == 403
    rib = await find(runtime, MenuItem, MenuItem.sku == "GR-RIB")
    for url in (f"/manage/menu/items/{rib.id}", f"/manage/menu/items/{rib.id}/archive"):
        assert (await server.post(url, {"sku": "GR-RIB", "name": "Free", "price": "0"})).status_code == 403
    assert await count(runtime, MenuItem) == items
    assert (await get(runtime, MenuItem, rib.id or 0)).price_cents == 3200


async def test_a_change_without_the_csrf_token_is_refused(manager: Any, runtime: Any) -> None:
    rib = await find(runtime, MenuItem, MenuItem.sku == "GR-RIB")
    for url in ("/manage/menu/items", f"/manage/menu/items/{rib.id}", f"/manage/menu/items/{rib.id}/archive"):
        response = await manager.client.post(url, data=await _form(runtime), headers={"hx-request": "true"})
        assert response.status_code == 403, url
    assert await count(runtime, MenuItem, MenuItem.sku == "ST-SPC") == 0
    assert (await get(runtime, MenuItem, rib.id or 0)).archived_at is None
