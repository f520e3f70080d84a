"""The order pages' forms are typed: a missing or malformed field is refused with a 422 that names it, and the
refused request changes nothing (no check, no line, the check's version as it was)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.orders.conftest import Restaurant, key


async def _refused(response: Any, message: str) -> None:
    assert response.status_code == 422, response.text
    assert message in response.text


async def test_seating_with_covers_that_are_not_a_number_is_refused(server: Any, restaurant: Restaurant) -> None:
    body = {"kind": "table", "table_id": str(await restaurant.table_id("12")), "idempotency_key": key()}
    await _refused(await server.post("/checks", {**body, "covers": "many"}), "Covers must be a whole number.")
    await _refused(await server.post("/checks", {**body, "covers": "0"}), "Covers must be at least 1.")
    await _refused(
        await server.post("/checks", {**body, "table_id": "twelve", "covers": "2"}), "The table must be a whole number."
    )
    await _refused(
        await server.post("/checks", {**body, "covers": "2", "tab_name": "x" * 61}),
        "The name is 61 characters; the limit is 60.",
    )
    assert await restaurant.open_checks() == []
    # A blank covers field takes its default, one guest.
    seated = await server.post("/checks", {**body, "covers": ""})
    assert seated.status_code == 200
    [check] = await restaurant.open_checks()
    assert check.covers == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"menu_item_id": "burger"}, "The item must be a whole number."),
        ({"menu_item_id": "-4"}, "The item must be at least 1."),
        ({"quantity": "lots"}, "Quantity must be a whole number."),
        ({"seat": "banquette"}, "The seat must be a whole number."),
        ({"seat": "100"}, "The seat must be at most 99."),
        ({"modifier_id": "medium"}, "A choice must be a whole number."),
        ({"choice_1": "rare"}, "A choice must be a whole number."),
        ({"version": "latest"}, "The check version must be a whole number."),
        ({"version": "0"}, "The check version must be at least 1."),
    ],
)
async def test_a_ring_in_with_a_malformed_field_is_refused_and_changes_nothing(
    server: Any, restaurant: Restaurant, fields: dict[str, str], message: str
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    version = await restaurant.version(check_id)
    body = {"menu_item_id": str(await restaurant.item_id("ST-BUR")), **fields}
    response = await restaurant.post(server, check_id, "lines", body)
    await _refused(response, message)
    assert response.headers["hx-retarget"] == "#flash"
    assert await restaurant.lines(check_id) == []
    assert await restaurant.version(check_id) == version


async def test_a_ring_in_without_its_item_or_version_is_refused(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    version = await restaurant.version(check_id)
    missing_item = await server.post(f"/checks/{check_id}/lines", {"version": str(version), "idempotency_key": key()})
    await _refused(missing_item, "The item is missing.")
    missing_version = await server.post(
        f"/checks/{check_id}/lines",
        {"menu_item_id": str(await restaurant.item_id("ST-BUR")), "version": "", "idempotency_key": key()},
    )
    await _refused(missing_version, "The check version must be a whole number.")
    assert await restaurant.lines(check_id) == []
    assert await restaurant.version(check_id) == version


async def test_a_void_or_a_change_with_a_malformed_field_is_refused_and_changes_nothing(
    server: Any, restaurant: Restaurant
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-SOU", seat=1, note="no croutons")
    [line] = await restaurant.lines(check_id)
    version = await restaurant.version(check_id)
    await _refused(
        await restaurant.post(server, check_id, f"lines/{line.id}/void", {"quantity": "all"}),
        "Void quantity must be a whole number.",
    )
    await _refused(
        await restaurant.post(server, check_id, f"lines/{line.id}/void", {"reason": "x" * 500}),
        "The reason is 500 characters; the limit is",
    )
    await _refused(
        await restaurant.post(server, check_id, f"lines/{line.id}", {"quantity": "two"}),
        "Quantity must be a whole number.",
    )
    await _refused(
        await restaurant.post(server, check_id, f"lines/{line.id}", {"seat": "window"}),
        "The seat must be a whole number.",
    )
    await _refused(
        await restaurant.post(server, check_id, f"lines/{line.id}", {"course": "brunch"}), "There is no course"
    )
    await _refused(
        await server.post(f"/checks/{check_id}/lines/{line.id}/void", {"idempotency_key": key()}),
        "The check version must be a whole number.",
    )
    [after] = await restaurant.lines(check_id)
    assert (after.state, after.quantity_num, after.seat, after.note) == (line.state, 1, 1, "no croutons")
    assert await restaurant.version(check_id) == version


async def test_a_blank_note_on_the_line_dialog_clears_the_note_and_a_blank_seat_makes_it_shared(
    server: Any, restaurant: Restaurant
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-SOU", seat=1, note="no croutons")
    [line] = await restaurant.lines(check_id)
    response = await restaurant.post(server, check_id, f"lines/{line.id}", {"note": "", "seat": ""})
    assert response.status_code == 200, response.text
    [after] = await restaurant.lines(check_id)
    assert (after.note or "", after.seat) == ("", None)


async def test_moving_merging_and_covers_with_a_missing_or_malformed_field_are_refused(
    server: Any, restaurant: Restaurant
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    other_id = await restaurant.open_table(server, "14", 2)
    await restaurant.ring_in(server, check_id, "ST-SOU")
    [line] = await restaurant.lines(check_id)
    version = await restaurant.version(check_id)
    await _refused(
        await restaurant.post(server, check_id, "move", {"line_id": "soup", "to_check_id": str(other_id)}),
        "An item must be a whole number.",
    )
    await _refused(
        await restaurant.post(server, check_id, "move", {"line_id": str(line.id)}), "The check to move to is required."
    )
    await _refused(await restaurant.post(server, check_id, "merge", {}), "The check to merge is required.")
    await _refused(
        await restaurant.post(server, check_id, "merge", {"from_check_id": "fourteen"}),
        "The check to merge must be a whole number.",
    )
    await _refused(
        await restaurant.post(server, check_id, "covers", {"covers": "many"}), "Covers must be a whole number."
    )
    await _refused(
        await restaurant.post(server, check_id, "transfer", {"to_table_id": "patio"}),
        "The table must be a whole number.",
    )
    await _refused(
        await restaurant.post(server, check_id, "courses/mains/pace", {"trigger": "after_fire", "minutes": "soon"}),
        "Minutes must be a whole number.",
    )
    assert [moved.id for moved in await restaurant.lines(check_id)] == [line.id]
    assert await restaurant.lines(other_id) == []
    assert await restaurant.version(check_id) == version
    assert (await restaurant.check(check_id)).covers == 2
    assert len(await restaurant.open_checks()) == 2


async def test_the_same_key_with_a_different_form_is_refused(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    version = str(await restaurant.version(check_id))
    same = key()
    item = str(await restaurant.item_id("ST-BUR"))
    first = await server.post(
        f"/checks/{check_id}/lines", {"menu_item_id": item, "version": version, "idempotency_key": same}
    )
    again = await server.post(
        f"/checks/{check_id}/lines", {"menu_item_id": item, "version": version, "idempotency_key": same}
    )
    other = await server.post(
        f"/checks/{check_id}/lines",
        {"menu_item_id": item, "quantity": "2", "version": version, "idempotency_key": same},
    )
    assert first.status_code == again.status_code == 200
    assert other.status_code == 422
    assert len(await restaurant.lines(check_id)) == 1
