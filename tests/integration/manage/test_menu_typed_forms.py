"""The menu's forms are decoded by the framework: a missing or malformed field is refused before anything is
read from the database, in the one format every manager page uses, and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest

from app.menu.items import item_group_ids
from app.menu.models import MenuCategory, MenuItem, Modifier, ModifierGroup, TaxRate
from tests.integration.manage.support import audit_total, count, find, get, refused, text


async def _item_form(runtime: Any, **changes: Any) -> dict[str, Any]:
    starters = await find(runtime, MenuCategory, MenuCategory.name == "Starters")
    form: dict[str, Any] = {"sku": "ST-NEW", "name": "Soup", "price": "8.50", "category_id": str(starters.id)}
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


async def _category_form(runtime: Any, **changes: Any) -> dict[str, Any]:
    starters = await find(runtime, MenuCategory, MenuCategory.name == "Starters")
    form: dict[str, Any] = {
        "name": "Specials",
        "course": "mains",
        "station_id": str(starters.station_id),
        "tax_rate_id": str(starters.tax_rate_id),
        "color": "#112233",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


BAD_ITEMS = [
    ({"sku": None}, "SKU is required."),
    ({"category_id": None}, "Choose a category."),
    ({"category_id": "12.5"}, "Category: unknown category."),
    ({"station_id": "fry"}, "Station override: unknown station override."),
    ({"group_ids": ["sauce"]}, "Modifier group: unknown modifier group."),
    ({"group_ids": ["1", "-2"]}, "Modifier group: unknown modifier group."),
    ({"sort_order": "1.5"}, "Order must be a whole number."),
    ({"prep_minutes": "soon"}, "Prep time (minutes) must be a whole number."),
    ({"prep_minutes": "241"}, "Prep time (minutes) must be at most 240."),
    ({"prep_minutes": "-5"}, "Prep time (minutes) must be at least 0."),
    ({"description": "Line one\x00"}, "Description contains control characters."),
]


async def test_a_malformed_item_field_is_refused_in_one_format_and_changes_nothing(
    manager: Any, runtime: Any, subtests: pytest.Subtests
) -> None:
    rib = await find(runtime, MenuItem, MenuItem.sku == "GR-RIB")
    items, audits = await count(runtime, MenuItem), await audit_total(runtime)
    for changes, message in BAD_ITEMS:
        form = await _item_form(runtime, **changes)
        with subtests.test(msg=message, changes=changes):
            refused(await manager.post("/manage/menu/items", form), 422, message)
            page = await manager.post("/manage/menu/items", form, htmx=False)
            assert page.status_code == 422
            assert "<html" in page.text, "without htmx: the error page, in the same words"
            assert message in text(page)
        with subtests.test(msg=f"edit: {message}", changes=changes):
            edit = {**form, "sku": "GR-RIB"} if "sku" in form else form
            refused(await manager.post(f"/manage/menu/items/{rib.id}", edit), 422, message)
            unchanged = await get(runtime, MenuItem, rib.id or 0)
            assert (unchanged.name, unchanged.price_cents) == ("Rib-eye 300 g", rib.price_cents)
    assert await count(runtime, MenuItem) == items
    assert await audit_total(runtime) == audits


async def test_blank_optional_item_fields_take_their_defaults(manager: Any, runtime: Any) -> None:
    form = await _item_form(runtime, station_id="", description=" ", sort_order="", prep_minutes="", group_ids=["", ""])
    response = await manager.post("/manage/menu/items", form)
    assert response.status_code == 200, text(response)
    assert "Added Soup." in text(response)
    soup = await find(runtime, MenuItem, MenuItem.sku == "ST-NEW")
    assert (soup.station_id, soup.description, soup.sort_order, soup.prep_minutes) == (None, "", 0, 0)


async def test_one_modifier_group_chosen_arrives_as_one_field_and_is_kept(manager: Any, runtime: Any) -> None:
    heat = await find(runtime, ModifierGroup, ModifierGroup.name == "Heat")
    response = await manager.post("/manage/menu/items", await _item_form(runtime, group_ids=str(heat.id)))
    assert response.status_code == 200, text(response)
    soup = await find(runtime, MenuItem, MenuItem.sku == "ST-NEW")
    async with runtime.db.read() as session:
        assert await item_group_ids(session, soup.id or 0) == [heat.id]


BAD_CATEGORIES = [
    ({"name": None}, "Name is required."),
    ({"course": None}, "Course must be one of Drinks, Starters, Mains, Dessert."),
    ({"station_id": None}, "Choose a kitchen station."),
    ({"station_id": "grill"}, "Kitchen station: unknown kitchen station."),
    ({"tax_rate_id": "vat"}, "Tax rate: unknown tax rate."),
    ({"sort_order": "last"}, "Order must be a whole number."),
    ({"sort_order": "-1"}, "Order must be at least 0."),
]


async def test_a_malformed_category_field_is_refused_in_one_format_and_changes_nothing(
    manager: Any, runtime: Any, subtests: pytest.Subtests
) -> None:
    categories, audits = await count(runtime, MenuCategory), await audit_total(runtime)
    for changes, message in BAD_CATEGORIES:
        form = await _category_form(runtime, **changes)
        with subtests.test(msg=message, changes=changes):
            refused(await manager.post("/manage/menu/categories", form), 422, message)
            page = await manager.post("/manage/menu/categories", form, htmx=False)
            assert page.status_code == 422
            assert message in text(page)
    assert await count(runtime, MenuCategory) == categories
    assert await audit_total(runtime) == audits


BAD_GROUPS = [
    ({"min_choices": None}, "Minimum choices is required."),
    ({"max_choices": None}, "Maximum choices is required."),
    ({"max_choices": "two"}, "Maximum choices must be a whole number."),
    ({"min_choices": "0.5"}, "Minimum choices must be a whole number."),
]

BAD_ANSWERS = [
    ({"name": None}, "Name is required."),
    ({"name": "Extra\x1b"}, "Name contains control characters."),
    ({"sort_order": "-2"}, "Order must be at least 0."),
    ({"sort_order": "top"}, "Order must be a whole number."),
    ({"station_id": "-1"}, "Station override: unknown station override."),
]


async def test_a_malformed_modifier_field_is_refused_in_one_format_and_changes_nothing(
    manager: Any, runtime: Any, subtests: pytest.Subtests
) -> None:
    extras = await find(runtime, ModifierGroup, ModifierGroup.name == "Burger extras")
    cheddar = await find(runtime, Modifier, Modifier.name == "Cheddar")
    groups, answers, audits = (
        await count(runtime, ModifierGroup),
        await count(runtime, Modifier),
        await audit_total(runtime),
    )
    cases: list[tuple[str, dict[str, Any], str]] = []
    for changes, message in BAD_GROUPS:
        form = {"name": "Bread", "min_choices": "0", "max_choices": "1", **changes}
        form = {k: v for k, v in form.items() if v is not None}
        cases += [("/manage/modifiers", form, message), (f"/manage/modifiers/{extras.id}", form, message)]
    for changes, message in BAD_ANSWERS:
        form = {"name": "Jalapeños", "price_delta": "0.50", **changes}
        form = {k: v for k, v in form.items() if v is not None}
        cases += [
            (f"/manage/modifiers/{extras.id}/modifiers", form, message),
            (f"/manage/modifiers/{extras.id}/modifiers/{cheddar.id}", form, message),
        ]
    for url, form, message in cases:
        with subtests.test(msg=message, url=url):
            refused(await manager.post(url, form), 422, message)
            page = await manager.post(url, form, htmx=False)
            assert page.status_code == 422
            assert message in text(page)
    assert await count(runtime, ModifierGroup) == groups
    assert await count(runtime, Modifier) == answers
    assert (await get(runtime, Modifier, cheddar.id or 0)).name == "Cheddar"
    assert await audit_total(runtime) == audits


async def test_a_blank_price_change_is_no_change(manager: Any, runtime: Any) -> None:
    extras = await find(runtime, ModifierGroup, ModifierGroup.name == "Burger extras")
    response = await manager.post(
        f"/manage/modifiers/{extras.id}/modifiers", {"name": "Pickles", "price_delta": " ", "sort_order": ""}
    )
    assert response.status_code == 200, text(response)
    pickles = await find(runtime, Modifier, Modifier.name == "Pickles")
    assert (pickles.price_delta_cents, pickles.station_id, pickles.sort_order) == (0, None, 0)


async def test_a_tax_rate_without_its_rate_or_name_is_refused(manager: Any, runtime: Any) -> None:
    rates, audits = await count(runtime, TaxRate), await audit_total(runtime)
    refused(await manager.post("/manage/taxes", {"name": "Reduced"}), 422, 'Rate must be a percentage like "21"')
    refused(await manager.post("/manage/taxes", {"rate": "5.5"}), 422, "Name is required.")
    assert await count(runtime, TaxRate) == rates
    assert await audit_total(runtime) == audits


async def test_an_86_reason_is_refused_in_the_same_format_both_ways(cook: Any, runtime: Any) -> None:
    rib = await find(runtime, MenuItem, MenuItem.sku == "GR-RIB")
    audits = await audit_total(runtime)
    page = await cook.post(f"/manage/86/{rib.id}", {"reason": "  "}, htmx=False)
    assert page.status_code == 422
    assert "Reason is required." in text(page)
    refused(
        await cook.post(f"/manage/86/{rib.id}/back", {"reason": "r" * 201}),
        422,
        "Reason is 201 characters; the limit is 200.",
    )
    refused(await cook.post(f"/manage/86/{rib.id}", {"reason": "Out\x07"}), 422, "Reason contains control characters.")
    assert not (await get(runtime, MenuItem, rib.id or 0)).is_86d
    assert await audit_total(runtime) == audits
