"""Ringing items in: snapshots, modifier rules, 86'd items, seats, courses, notes, and every bad input refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from app.menu.models import Course, MenuCategory, MenuItem, TaxRate
from app.orders.models import LineModifier, LineState
from tests.integration.orders.conftest import Restaurant, key


async def test_a_line_snapshots_name_price_tax_rate_and_station_when_rung_in(
    server: Any, restaurant: Restaurant, runtime: Any
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "GR-RIB", options=["Medium", "Sweet potato fries", "Béarnaise"], seat=2)
    async with runtime.db.write() as session:
        item = (await session.exec(select(MenuItem).where(MenuItem.sku == "GR-RIB"))).one()
        category = await session.get(MenuCategory, item.category_id)
        assert category is not None
        tax = await session.get(TaxRate, category.tax_rate_id)
        assert tax is not None
        expected_station, expected_tax = category.station_id, tax.rate_bp
        item.price_cents, item.name = 9999, "Renamed steak"
        session.add(item)
    line = (await restaurant.lines(check_id))[0]
    assert (line.name, line.unit_price_cents, line.modifiers_cents) == ("Rib-eye 300 g", 3200, 400)
    assert (line.tax_rate_bp, line.station_id, line.seat, line.course) == (
        expected_tax,
        expected_station,
        2,
        Course.MAINS,
    )
    async with runtime.db.read() as session:
        modifiers = (await session.exec(select(LineModifier).where(LineModifier.line_id == line.id))).all()
    assert sorted((m.group_name, m.name, m.price_delta_cents) for m in modifiers) == [
        ("Sauce", "Béarnaise", 250),
        ("Side", "Sweet potato fries", 150),
        ("Temperature", "Medium", 0),
    ]
    panel = await server.get(f"/checks/{check_id}/panel")
    assert "Rib-eye 300 g" in panel.text
    assert "€36.00" in panel.text


async def test_the_course_defaults_from_the_category_and_can_be_changed_per_line(
    server: Any, restaurant: Restaurant
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-SOU", seat=1)
    await restaurant.ring_in(server, check_id, "ST-SOU", seat=2, course="mains")
    assert [line.course for line in await restaurant.lines(check_id)] == [Course.STARTERS, Course.MAINS]


async def test_a_forced_modifier_left_unanswered_is_refused(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    response = await restaurant.ring_in(server, check_id, "GR-LAM", options=["Fries"], expect=422)
    assert "Temperature: choose 1" in response.text
    assert await restaurant.lines(check_id) == []


async def test_too_many_choices_in_a_group_are_refused(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    response = await restaurant.ring_in(
        server,
        check_id,
        "GR-RIB",
        options=["Rare", "Fries", "Peppercorn", "Béarnaise", "Chimichurri"],
        expect=422,
    )
    assert "Sauce: at most 2" in response.text
    assert await restaurant.lines(check_id) == []


async def test_two_answers_to_a_one_answer_question_are_refused(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    response = await restaurant.ring_in(server, check_id, "SD-COL", options=["With ice", "No ice"], expect=422)
    assert "Ice: at most 1" in response.text


async def test_an_option_belonging_to_another_item_is_refused(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    medium = (await restaurant.modifier_ids("GR-RIB", ["Medium"]))[0]
    response = await server.post(
        f"/checks/{check_id}/lines",
        {
            "menu_item_id": str(await restaurant.item_id("ST-BUR")),
            "modifier_id": str(medium),
            "version": str(await restaurant.version(check_id)),
            "idempotency_key": key(),
        },
    )
    assert response.status_code == 422
    assert "not offered for this item" in response.text
    assert await restaurant.lines(check_id) == []


async def test_an_86d_item_is_refused_and_says_why(server: Any, restaurant: Restaurant, runtime: Any) -> None:
    async with runtime.db.write() as session:
        item = (await session.exec(select(MenuItem).where(MenuItem.sku == "ST-OYS"))).one()
        item.eighty_sixed_at, item.eighty_six_reason = datetime.now(UTC), "no delivery today"
        session.add(item)
    check_id = await restaurant.open_table(server, "12", 2)
    page = await server.get(f"/checks/{check_id}")
    assert "86'd · no delivery today" in page.text
    response = await restaurant.ring_in(server, check_id, "ST-OYS", expect=409)
    assert "Oysters (half dozen) is 86&#39;d: no delivery today" in response.text
    assert await restaurant.lines(check_id) == []


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", "Quantity must be between 1 and 99."),
        ("-2", "Quantity must be between 1 and 99."),
        ("100", "Quantity must be between 1 and 99."),
        ("100000000000000000000", "Quantity must be between 1 and 99."),
        ("two", "Quantity must be a whole number."),
    ],
)
async def test_a_quantity_that_is_zero_negative_absurd_or_not_a_number_is_refused(
    server: Any, restaurant: Restaurant, quantity: str, message: str
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    response = await restaurant.ring_in(server, check_id, "ST-BUR", quantity=quantity, expect=422)
    assert message in response.text
    assert response.headers["hx-retarget"] == "#flash"
    assert await restaurant.lines(check_id) == []


async def test_a_note_over_140_characters_is_refused(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    response = await restaurant.ring_in(server, check_id, "ST-BUR", note="x" * 141, expect=422)
    assert "The note is 141 characters; the limit is 140." in response.text
    assert await restaurant.lines(check_id) == []
    await restaurant.ring_in(server, check_id, "ST-BUR", note="y" * 140)
    assert (await restaurant.lines(check_id))[0].note == "y" * 140


async def test_a_note_is_escaped_wherever_it_is_shown(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-BUR", note="<script>alert(1)</script> no basil")
    page = await server.get(f"/checks/{check_id}")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; no basil" in page.text


async def test_an_unknown_item_is_refused(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    response = await server.post(
        f"/checks/{check_id}/lines",
        {"menu_item_id": "987654", "version": str(await restaurant.version(check_id)), "idempotency_key": key()},
    )
    assert response.status_code == 404
    assert "not on the menu" in response.text
    missing = await server.post(
        f"/checks/{check_id}/lines", {"version": str(await restaurant.version(check_id)), "idempotency_key": key()}
    )
    assert missing.status_code == 422
    assert "The item is missing." in missing.text


async def test_a_seat_beyond_the_covers_is_refused(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    response = await restaurant.ring_in(server, check_id, "ST-BUR", seat=3, expect=422)
    assert "There is no seat 3: the check has 2 covers." in response.text
    assert await restaurant.lines(check_id) == []


async def test_an_unknown_course_is_refused(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    response = await restaurant.ring_in(server, check_id, "ST-BUR", course="brunch", expect=422)
    assert "There is no course" in response.text


async def test_ringing_in_on_an_unknown_check_is_refused(server: Any, restaurant: Restaurant) -> None:
    response = await server.post(
        "/checks/424242/lines",
        {"menu_item_id": str(await restaurant.item_id("ST-BUR")), "version": "1", "idempotency_key": key()},
    )
    assert response.status_code == 404
    assert "Check 424242 does not exist." in response.text


async def test_repeat_rings_the_same_item_in_again_with_its_choices(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "CK-NEG", options=["No ice"], seat=2, note="orange twist")
    await restaurant.post(server, check_id, "send")
    first = (await restaurant.lines(check_id))[0]
    response = await restaurant.post(server, check_id, f"lines/{first.id}/repeat")
    assert response.status_code == 200, response.text
    again = (await restaurant.lines(check_id))[1]
    assert (again.name, again.seat, again.note, again.state) == ("Negroni", 2, "orange twist", LineState.PENDING)
    assert again.modifiers_cents == first.modifiers_cents


async def test_an_unsent_line_can_be_changed(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 3)
    await restaurant.ring_in(server, check_id, "ST-SOU", seat=1)
    line = (await restaurant.lines(check_id))[0]
    response = await restaurant.post(
        server,
        check_id,
        f"lines/{line.id}",
        {"quantity": "2", "seat": "3", "course": "mains", "note": "no croutons", "hold": "1", "rush": "0"},
    )
    assert response.status_code == 200, response.text
    changed = (await restaurant.lines(check_id))[0]
    assert (changed.quantity_num, changed.seat, changed.course, changed.note, changed.state) == (
        2,
        3,
        Course.MAINS,
        "no croutons",
        LineState.HELD,
    )
    await restaurant.post(server, check_id, f"lines/{line.id}", {"seat": "shared", "hold": "0"})
    shared = (await restaurant.lines(check_id))[0]
    assert (shared.seat, shared.state) == (None, LineState.PENDING)


async def test_a_sent_line_cannot_be_edited_only_voided(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-SOU", seat=1)
    await restaurant.post(server, check_id, "send")
    line = (await restaurant.lines(check_id))[0]
    response = await restaurant.post(server, check_id, f"lines/{line.id}", {"quantity": "3"})
    assert response.status_code == 409
    assert "already sent to the kitchen; it cannot be changed, only voided" in response.text
    assert (await restaurant.lines(check_id))[0].quantity_num == 1


async def test_removing_an_unsent_line_sends_nothing_to_the_kitchen(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-SOU", seat=1)
    line = (await restaurant.lines(check_id))[0]
    response = await restaurant.post(server, check_id, f"lines/{line.id}/void")
    assert response.status_code == 200, response.text
    assert "Soup of the Day removed." in response.text
    assert (await restaurant.lines(check_id))[0].state == LineState.VOIDED
    assert await restaurant.fires(check_id) == []
    assert len(await restaurant.audit("line.remove")) == 1


async def test_adding_a_cover_adds_a_seat(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    response = await restaurant.post(server, check_id, "covers", {"covers": "3"})
    assert response.status_code == 200, response.text
    assert 'id="seat-chips"' in response.text
    assert (await restaurant.check(check_id)).covers == 3
    await restaurant.ring_in(server, check_id, "ST-SOU", seat=3)
    fewer = await restaurant.post(server, check_id, "covers", {"covers": "2"})
    assert fewer.status_code == 422
    assert "Seat 3 has items" in fewer.text
    for bad in ("0", "100", "lots"):
        assert (await restaurant.post(server, check_id, "covers", {"covers": bad})).status_code == 422
    assert (await restaurant.check(check_id)).covers == 3


async def test_the_order_entry_pages_render_as_pages_and_as_fragments(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "GR-BUR", options=["Medium", "Fries"], seat=1)
    line = (await restaurant.lines(check_id))[0]
    burger = await restaurant.item_id("GR-BUR")
    for url, marker in [
        (f"/checks/{check_id}", 'id="check-panel"'),
        (f"/checks/{check_id}/items/{burger}", "Burger extras"),
        (f"/checks/{check_id}/lines/{line.id}", "Brigade Burger"),
        (f"/checks/{check_id}/actions", "Move to a free table"),
    ]:
        page = await server.get(url)
        assert page.status_code == 200, url
        assert "<html" in page.text
        assert marker in page.text
        fragment = await server.get(url, htmx=True)
        assert fragment.status_code == 200, url
        assert "<html" not in fragment.text
        assert marker in fragment.text


async def test_the_options_sheet_marks_forced_questions_and_prices_paid_extras(
    server: Any, restaurant: Restaurant
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    sheet = await server.get(f"/checks/{check_id}/items/{await restaurant.item_id('GR-BUR')}", htmx=True)
    assert "choose 1 · required" in sheet.text
    assert "up to 4" in sheet.text
    assert "+€2.00" in sheet.text
    quick = await server.get(f"/checks/{check_id}/items/{await restaurant.item_id('GR-LAM')}", htmx=True)
    assert "data-auto-add" not in quick.text, "answering the forced choices does not ring the item in; Add does"
    assert "Add Lamb Chops" in quick.text


async def test_removing_part_of_an_unsent_line_keeps_the_rest_and_sends_nothing(
    server: Any, restaurant: Restaurant
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "SD-LEM", seat=1, quantity=3)
    line = (await restaurant.lines(check_id))[0]
    response = await restaurant.post(server, check_id, f"lines/{line.id}/void", {"quantity": "1"})
    assert response.status_code == 200, response.text
    assert [(x.quantity_num, x.state) for x in await restaurant.lines(check_id)] == [
        (2, LineState.PENDING),
        (1, LineState.VOIDED),
    ]
    assert await restaurant.fires(check_id) == []
