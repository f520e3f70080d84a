"""Modifier groups (min/max, forced when min > 0) and their answers (price changes may be negative or zero)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from app.kitchen.models import Station
from app.menu import queries
from app.menu.models import MenuItem, Modifier, ModifierGroup
from tests.integration.manage.support import audit_entries, audit_total, count, find, get, refused, text


async def _group(runtime: Any, name: str) -> ModifierGroup:
    return await find(runtime, ModifierGroup, ModifierGroup.name == name)


async def test_the_modifiers_page_shows_groups_and_answers_as_a_page_and_as_a_fragment(manager: Any) -> None:
    page = await manager.get("/manage/modifiers")
    assert page.status_code == 200
    assert "<html" in page.text
    assert "Temperature" in page.text
    assert "must choose 1" in page.text
    assert "Medium rare" in page.text
    assert "+€2.50" in page.text, "paid extras show their price"
    fragment = await manager.get("/manage/modifiers", htmx=True)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "Burger extras" in fragment.text


async def test_a_manager_adds_a_forced_group_and_its_answers(manager: Any, runtime: Any) -> None:
    response = await manager.post("/manage/modifiers", {"name": "Bread", "min_choices": "1", "max_choices": "2"})
    assert response.status_code == 200
    assert "Added Bread." in text(response)
    bread = await _group(runtime, "Bread")
    assert bread.forced
    assert (bread.min_choices, bread.max_choices) == (1, 2)
    assert "offers 0: servers cannot complete it" in text(response), "a forced group without answers is flagged"
    fry = await find(runtime, Station, Station.name == "Fry")
    for name, delta, station in (
        ("Sourdough", "0", ""),
        ("Gluten-free", "1.50", str(fry.id)),
        ("Half portion", "-2.00", ""),
    ):
        added = await manager.post(
            f"/manage/modifiers/{bread.id}/modifiers", {"name": name, "price_delta": delta, "station_id": station}
        )
        assert added.status_code == 200, text(added)
    async with runtime.db.read() as session:
        answers = (
            await session.exec(select(Modifier).where(Modifier.group_id == bread.id).order_by(col(Modifier.id)))
        ).all()
    assert [(m.name, m.price_delta_cents, m.station_id) for m in answers] == [
        ("Sourdough", 0, None),
        ("Gluten-free", 150, fry.id),
        ("Half portion", -200, None),
    ]
    assert len(await audit_entries(runtime, "menu.modifier.create")) == 3
    page = await manager.get("/manage/modifiers", htmx=True)
    assert "\u2212€2.00" in page.text, "a negative change shows a real minus sign"
    assert "cannot complete it" not in text(page)


BAD_GROUPS = [
    ({"min_choices": "3", "max_choices": "2"}, 422, "Minimum choices (3) cannot be more than maximum choices (2)."),
    ({"max_choices": "0"}, 422, "Maximum choices must be at least 1."),
    ({"min_choices": "-1"}, 422, "Minimum choices must be at least 0."),
    ({"min_choices": "one"}, 422, "Minimum choices must be a whole number."),
    ({"max_choices": "21"}, 422, "Maximum choices must be at most 20."),
    ({"name": ""}, 422, "Name is required."),
    ({"name": "G" * 61}, 422, "Name is 61 characters; the limit is 60."),
    ({"name": "temperature"}, 409, "A modifier group named “Temperature” already exists."),
]


async def test_a_bad_group_is_refused_and_changes_nothing(
    manager: Any, runtime: Any, subtests: pytest.Subtests
) -> None:
    groups, audits = await count(runtime, ModifierGroup), await audit_total(runtime)
    sauce = await _group(runtime, "Sauce")
    for changes, status, message in BAD_GROUPS:
        form = {"name": "Bread", "min_choices": "0", "max_choices": "1", **changes}
        with subtests.test(msg=message):
            refused(await manager.post("/manage/modifiers", form), status, message)
            assert await count(runtime, ModifierGroup) == groups
        with subtests.test(msg=f"edit: {message}"):
            refused(
                await manager.post(
                    f"/manage/modifiers/{sauce.id}",
                    {**form, "name": form["name"] if changes.get("name") is not None else "Sauce"},
                ),
                status,
                message,
            )
            unchanged = await get(runtime, ModifierGroup, sauce.id or 0)
            assert (unchanged.name, unchanged.min_choices, unchanged.max_choices) == ("Sauce", 0, 2)
    assert await audit_total(runtime) == audits


async def test_a_group_edit_changes_min_and_max(manager: Any, runtime: Any) -> None:
    sauce = await _group(runtime, "Sauce")
    response = await manager.post(
        f"/manage/modifiers/{sauce.id}", {"name": "Sauces", "min_choices": "1", "max_choices": "3"}
    )
    assert response.status_code == 200
    changed = await get(runtime, ModifierGroup, sauce.id or 0)
    assert (changed.name, changed.min_choices, changed.max_choices, changed.forced) == ("Sauces", 1, 3, True)
    [entry] = await audit_entries(runtime, "menu.modifier_group.update")
    assert entry.before is not None
    assert entry.after is not None
    assert (entry.before["min_choices"], entry.after["min_choices"]) == (0, 1)


BAD_ANSWERS = [
    ({"price_delta": "abc"}, 422, "Price change: Enter an amount like 12.50."),
    ({"price_delta": "1.234"}, 422, "Use at most two decimals"),
    ({"price_delta": "10000.01"}, 422, "Price change (cents) must be between -1000000 and 1000000."),
    ({"name": ""}, 422, "Name is required."),
    ({"name": "A" * 61}, 422, "Name is 61 characters; the limit is 60."),
    ({"name": "bacon"}, 409, "This group already has an answer named “Bacon”."),
    ({"station_id": "99999"}, 422, "Station override: unknown or archived kitchen station."),
    ({"station_id": "grill"}, 422, "Station override: unknown station override."),
]


async def test_a_bad_answer_is_refused_and_changes_nothing(
    manager: Any, runtime: Any, subtests: pytest.Subtests
) -> None:
    extras = await _group(runtime, "Burger extras")
    answers, audits = await count(runtime, Modifier), await audit_total(runtime)
    for changes, status, message in BAD_ANSWERS:
        form = {"name": "Jalapeños", "price_delta": "0.50", "station_id": "", **changes}
        with subtests.test(msg=message):
            refused(await manager.post(f"/manage/modifiers/{extras.id}/modifiers", form), status, message)
            assert await count(runtime, Modifier) == answers
    assert await audit_total(runtime) == audits


async def test_an_answer_is_changed_only_inside_its_own_group(manager: Any, runtime: Any) -> None:
    extras = await _group(runtime, "Burger extras")
    dip = await _group(runtime, "Dip")
    cheddar = await find(runtime, Modifier, Modifier.name == "Cheddar")
    refused(
        await manager.post(f"/manage/modifiers/{dip.id}/modifiers/{cheddar.id}", {"name": "Brie", "price_delta": "2"}),
        404,
        "No such answer in this modifier group.",
    )
    response = await manager.post(
        f"/manage/modifiers/{extras.id}/modifiers/{cheddar.id}", {"name": "Aged cheddar", "price_delta": "1.80"}
    )
    assert response.status_code == 200
    changed = await get(runtime, Modifier, cheddar.id or 0)
    assert (changed.name, changed.price_delta_cents) == ("Aged cheddar", 180)
    [entry] = await audit_entries(runtime, "menu.modifier.update")
    assert entry.before is not None
    assert entry.after is not None
    assert (entry.before["price_delta_cents"], entry.after["price_delta_cents"]) == (150, 180)


async def test_archiving_an_answer_and_a_group(manager: Any, runtime: Any) -> None:
    extras = await _group(runtime, "Burger extras")
    bacon = await find(runtime, Modifier, Modifier.name == "Bacon")
    assert (await manager.post(f"/manage/modifiers/{extras.id}/modifiers/{bacon.id}/archive")).status_code == 200
    assert (await get(runtime, Modifier, bacon.id or 0)).archived_at is not None
    burger = await find(runtime, MenuItem, MenuItem.sku == "GR-BUR")
    async with runtime.db.read() as session:
        asked = await queries.item_modifier_groups(session, burger.id or 0)
    offered = {m.name for g in asked for m in g.modifiers}
    assert "Bacon" not in offered
    assert "Cheddar" in offered

    response = await manager.post(f"/manage/modifiers/{extras.id}/archive")
    assert response.status_code == 200
    assert "Archived Burger extras." in text(response)
    async with runtime.db.read() as session:
        asked_now = [g.group.name for g in await queries.item_modifier_groups(session, burger.id or 0)]
    assert "Burger extras" not in asked_now
    refused(
        await manager.post(f"/manage/modifiers/{extras.id}/modifiers", {"name": "Onion jam", "price_delta": "1"}),
        409,
        "“Burger extras” is archived; restore it before adding answers.",
    )
    shown = await manager.get("/manage/modifiers?archived=1", htmx=True)
    assert "Burger extras" in shown.text
    assert (await manager.post(f"/manage/modifiers/{extras.id}/restore")).status_code == 200
    async with runtime.db.read() as session:
        asked_again = [g.group.name for g in await queries.item_modifier_groups(session, burger.id or 0)]
    assert "Burger extras" in asked_again, "restoring the group asks it again on the items it had"
    assert (await manager.post(f"/manage/modifiers/{extras.id}/modifiers/{bacon.id}/restore")).status_code == 200
    for action in (
        "menu.modifier.archive",
        "menu.modifier.restore",
        "menu.modifier_group.archive",
        "menu.modifier_group.restore",
    ):
        assert len(await audit_entries(runtime, action)) == 1, action


async def test_a_server_may_not_touch_modifiers(server: Any, runtime: Any) -> None:
    extras = await _group(runtime, "Burger extras")
    cheddar = await find(runtime, Modifier, Modifier.name == "Cheddar")
    assert (await server.get("/manage/modifiers")).status_code == 403
    assert (
        await server.post("/manage/modifiers", {"name": "X", "min_choices": "0", "max_choices": "1"})
    ).status_code == 403
    assert (await server.post(f"/manage/modifiers/{extras.id}/modifiers", {"name": "X"})).status_code == 403
    free = {"name": "Cheddar", "price_delta": "0"}
    assert (await server.post(f"/manage/modifiers/{extras.id}/modifiers/{cheddar.id}", free)).status_code == 403
    assert (await server.post(f"/manage/modifiers/{extras.id}/archive")).status_code == 403
    assert (await get(runtime, Modifier, cheddar.id or 0)).price_delta_cents == 150
    assert (await get(runtime, ModifierGroup, extras.id or 0)).archived_at is None


async def test_a_modifier_change_without_the_csrf_token_is_refused(manager: Any, runtime: Any) -> None:
    extras = await _group(runtime, "Burger extras")
    cheddar = await find(runtime, Modifier, Modifier.name == "Cheddar")
    response = await manager.client.post(
        f"/manage/modifiers/{extras.id}/modifiers/{cheddar.id}",
        data={"name": "Cheddar", "price_delta": "0"},
        headers={"hx-request": "true"},
    )
    assert response.status_code == 403
    assert (await get(runtime, Modifier, cheddar.id or 0)).price_delta_cents == 150
