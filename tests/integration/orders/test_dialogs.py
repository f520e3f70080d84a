"""The item and line dialogs: choose-one questions as radio groups, fields without silent limits, refusals said in
the dialog that asked, and a stale dialog that keeps what was typed beside the line as it stands now."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import select

from app.menu.models import Modifier
from app.orders.models import LineState
from tests.conftest import log_in
from tests.integration.orders.conftest import Restaurant, key


async def _choice_fields(restaurant: Restaurant, sku: str, names: list[str]) -> dict[str, str]:
    """The fields a choose-one group's radio buttons post: one per group, named after it."""
    ids = await restaurant.modifier_ids(sku, names)
    async with restaurant.db.read() as session:
        options = (await session.exec(select(Modifier).where(Modifier.id.in_(ids)))).all()  # type: ignore[union-attr]
    return {f"choice_{option.group_id}": str(option.id) for option in options}


async def test_a_choose_one_question_is_a_named_radio_group_and_a_choose_several_one_stays_checkboxes(
    server: Any, restaurant: Restaurant
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    sheet = await server.get(f"/checks/{check_id}/items/{await restaurant.item_id('GR-RIB')}", htmx=True)
    assert sheet.status_code == 200
    groups = re.findall(r'<fieldset [^>]*role="radiogroup"[^>]*aria-labelledby="(question-\d+)"', sheet.text)
    assert len(groups) == 2, "Temperature and Side take one answer each"
    for label_id in groups:
        assert re.search(rf'<span id="{label_id}">(Temperature|Side)</span>', sheet.text)
    assert sheet.text.count('aria-required="true"') == 2
    assert sheet.text.count('type="radio"') == 5 + 4
    assert sheet.text.count('type="checkbox" name="modifier_id"') == 4, "up to 2 sauces stay checkboxes"
    optional = await server.get(f"/checks/{check_id}/items/{await restaurant.item_id('DS-CHO')}", htmx=True)
    assert re.search(r'<input type="radio" name="choice_\d+" value="" checked><span>None</span>', optional.text), (
        "an optional choose-one question can be left unanswered"
    )


async def test_an_answer_from_each_choose_one_group_and_the_ticked_extras_ring_in_together(
    server: Any, restaurant: Restaurant
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    fields = {
        "menu_item_id": str(await restaurant.item_id("GR-RIB")),
        **await _choice_fields(restaurant, "GR-RIB", ["Medium rare", "Fries"]),
        "modifier_id": [str(i) for i in await restaurant.modifier_ids("GR-RIB", ["Peppercorn", "Béarnaise"])],
        "version": str(await restaurant.version(check_id)),
        "idempotency_key": key(),
    }
    response = await server.post(f"/checks/{check_id}/lines", fields)
    assert response.status_code == 200, response.text
    assert "Medium rare, Fries, Peppercorn (+€2.50), Béarnaise (+€2.50)" in response.text
    [line] = await restaurant.lines(check_id)
    assert line.modifiers_cents == 500


async def test_the_dialogs_fields_have_no_silent_browser_limits_and_count_the_note(
    server: Any, restaurant: Restaurant
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    sheet = await server.get(f"/checks/{check_id}/items/{await restaurant.item_id('ST-CEV')}", htmx=True)
    note = re.search(r'<input id="item-note"[^>]*>', sheet.text)
    assert note is not None
    assert "maxlength" not in note.group(0), "a long note is refused with a message, never cut short"
    assert 'data-limit="140"' in note.group(0)
    assert ">0/140</span>" in sheet.text
    assert 'pattern="' not in sheet.text, "no browser bubble for a quantity"
    assert "novalidate" in sheet.text
    await restaurant.ring_in(server, check_id, "ST-SOU", note="no croutons")
    [line] = await restaurant.lines(check_id)
    line_sheet = await server.get(f"/checks/{check_id}/lines/{line.id}", htmx=True)
    assert ">11/140</span>" in line_sheet.text


async def test_a_note_over_the_limit_on_a_line_change_is_refused_and_changes_nothing(
    server: Any, restaurant: Restaurant
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-SOU", note="no croutons")
    [line] = await restaurant.lines(check_id)
    version = await restaurant.version(check_id)
    response = await restaurant.post(server, check_id, f"lines/{line.id}", {"quantity": "2", "note": "z" * 5000})
    assert response.status_code == 422
    assert "The note is 5000 characters; the limit is 140." in response.text
    [after] = await restaurant.lines(check_id)
    assert (after.quantity_num, after.note) == (1, "no croutons")
    assert await restaurant.version(check_id) == version


async def test_a_wrong_pin_on_the_void_dialogs_own_pad_is_said_there_and_no_second_pad_opens(
    server: Any, restaurant: Restaurant
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-BUR", seat=1)
    await restaurant.post(server, check_id, "send")
    [line] = await restaurant.lines(check_id)
    sheet = await server.get(f"/checks/{check_id}/lines/{line.id}", htmx=True)
    assert sheet.text.count('class="keypad"') == 1
    for pin in ("", "8080"):
        response = await restaurant.post(
            server, check_id, f"lines/{line.id}/void", {"reason": "Kitchen error", "manager_pin": pin}
        )
        assert response.status_code == 403
        assert response.headers["hx-retarget"] == "#flash", "the dialog that asked says it"
        assert "Manager approval" not in response.text
        assert 'class="keypad"' not in response.text
    assert (await restaurant.lines(check_id))[0].state == LineState.SENT


async def test_a_stale_line_change_comes_back_in_its_dialog_with_what_was_typed_and_the_line_as_it_stands(
    server: Any, device_factory: Any, restaurant: Restaurant
) -> None:
    second_tablet = await log_in(await device_factory(), "1111")
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-SOU", seat=1)
    [line] = await restaurant.lines(check_id)
    seen = await restaurant.version(check_id)
    changed = await restaurant.post(
        second_tablet, check_id, f"lines/{line.id}", {"quantity": "2", "note": "no croutons"}
    )
    assert changed.status_code == 200, changed.text
    stale = await server.post(
        f"/checks/{check_id}/lines/{line.id}",
        {
            "quantity": "3",
            "seat": "2",
            "course": "mains",
            "hold": "1",
            "rush": "0",
            "note": "bread on the side",
            "version": str(seen),
            "idempotency_key": key(),
        },
        headers={"hx-trigger": "line-form"},
    )
    assert stale.status_code == 409
    assert stale.headers["hx-retarget"] == "#check-panel"
    assert "was changed on another tablet" in stale.text
    assert "Now on the check: qty 2, seat 1, Starters, not sent, note “no croutons”." in stale.text
    assert 'name="quantity" value="3"' in stale.text
    assert 'name="note" value="bread on the side"' in stale.text
    assert re.search(r'name="seat" value="2" checked', stale.text)
    assert re.search(r'name="course" value="mains" checked', stale.text)
    assert re.search(r'name="hold" value="1" checked', stale.text)
    assert f'name="version" value="{seen + 1}"' in stale.text, "the kept dialog sends on the fresh check"
    assert 'id="flash"' not in stale.text, "said in the dialog, not in a toast"
    [after] = await restaurant.lines(check_id)
    assert (after.quantity_num, after.note, after.seat) == (2, "no croutons", 1)


async def test_a_stale_ring_in_from_the_item_dialog_keeps_its_choices_quantity_note_and_hold(
    server: Any, device_factory: Any, restaurant: Restaurant
) -> None:
    second_tablet = await log_in(await device_factory(), "1111")
    check_id = await restaurant.open_table(server, "12", 2)
    seen = await restaurant.version(check_id)
    await restaurant.ring_in(second_tablet, check_id, "ST-SOU")
    chosen = await _choice_fields(restaurant, "GR-RIB", ["Medium rare", "Fries"])
    sauce = await restaurant.modifier_ids("GR-RIB", ["Chimichurri"])
    stale = await server.post(
        f"/checks/{check_id}/lines",
        {
            "menu_item_id": str(await restaurant.item_id("GR-RIB")),
            **chosen,
            "modifier_id": str(sauce[0]),
            "quantity": "2",
            "note": "sauce on the side",
            "hold": "1",
            "version": str(seen),
            "idempotency_key": key(),
        },
        headers={"hx-trigger": "item-form"},
    )
    assert stale.status_code == 409
    assert "was changed on another tablet" in stale.text
    assert "Your choices are kept below" in stale.text
    for name, value in [*chosen.items(), ("modifier_id", str(sauce[0]))]:
        assert re.search(rf'name="{name}" value="{value}" checked', stale.text), name
    assert 'name="quantity" value="2"' in stale.text
    assert 'name="note" value="sauce on the side"' in stale.text
    assert re.search(r'name="hold" value="1" aria-label="Hold Rib-eye 300 g" checked', stale.text)
    assert [line.name for line in await restaurant.lines(check_id)] == ["Soup of the Day"]


async def test_a_stale_tap_outside_a_dialog_still_closes_whatever_dialog_is_open(
    server: Any, device_factory: Any, restaurant: Restaurant
) -> None:
    second_tablet = await log_in(await device_factory(), "1111")
    check_id = await restaurant.open_table(server, "12", 2)
    seen = await restaurant.version(check_id)
    await restaurant.ring_in(second_tablet, check_id, "ST-SOU")
    stale = await server.post(f"/checks/{check_id}/send", {"version": str(seen), "idempotency_key": key()})
    assert stale.status_code == 409
    assert '<div id="sheet" class="sheet-host" hx-swap-oob="true"></div>' in stale.text
    assert "was changed on another tablet" in stale.text


async def test_a_share_of_a_split_item_keeps_its_quantity_when_its_note_is_changed_in_the_dialog(
    server: Any, restaurant: Restaurant
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-BUR")
    [line] = await restaurant.lines(check_id)
    shared = await restaurant.post(server, check_id, "split/share", {"line_id": str(line.id), "ways": "2"})
    assert shared.status_code == 200, shared.text
    half = (await restaurant.lines(check_id))[0]
    assert (half.quantity_num, half.quantity_den) == (1, 2)
    sheet = await server.get(f"/checks/{check_id}/lines/{half.id}", htmx=True)
    form = sheet.text.split('id="line-form"', 1)[1].split("</form>", 1)[0]
    assert 'name="quantity"' not in form, "a half cannot be typed over as a whole"
    assert "A 1/2 share of a split item" in form
    changed = await restaurant.post(server, check_id, f"lines/{half.id}", {"note": "for the birthday"})
    assert changed.status_code == 200, changed.text
    after = next(line for line in await restaurant.lines(check_id) if line.id == half.id)
    assert (after.quantity_num, after.quantity_den, after.note) == (1, 2, "for the birthday")
