"""The order-entry dialogs on a 1024 x 768 tablet: Add rings in, one PIN pad per void, a stale tablet keeps its
typing, messages inside the dialog, and names that say what a control acts on."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import TABLET, log_in, screenshot


@pytest.fixture
def second_tablet(browser: Browser) -> Iterator[Page]:
    """Another tablet, its own cookies, used by the same server."""
    context = browser.new_context(viewport=TABLET, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


def _seat_table(page: Page, url: str, table: str, covers: int = 2) -> str:
    page.goto(f"{url}/floor")
    page.locator(f'.table[data-name="{table}"]').tap()
    page.locator(f'.covers-grid button[value="{covers}"]').tap()
    page.wait_for_url("**/checks/*")
    return page.url


def _item(page: Page, category: str, name: str) -> Locator:
    page.locator(".cat", has_text=category).tap()
    return page.locator(".item-grid.active .item", has=page.locator(".item-name", has_text=name)).first


def _line(page: Page, name: str) -> Locator:
    return page.locator("#check-panel .line", has_text=name)


def _has_class(name: str) -> re.Pattern[str]:
    return re.compile(rf"(^|\s){name}(\s|$)")


def _inside(inner: Locator, outer: Locator) -> None:
    """`inner` is drawn within `outer`'s box (a message inside its dialog, not a bubble beside it)."""
    a, b = inner.bounding_box(), outer.bounding_box()
    assert a is not None
    assert b is not None
    assert b["x"] <= a["x"], (a, b)
    assert a["x"] + a["width"] <= b["x"] + b["width"] + 0.5, (a, b)
    assert b["y"] <= a["y"], (a, b)
    assert a["y"] + a["height"] <= b["y"] + b["height"] + 0.5, (a, b)


def test_choosing_the_only_required_option_waits_for_add_so_quantity_note_and_hold_can_be_set(
    tablet: Page, live_server: str
) -> None:
    log_in(tablet, live_server, "1111")
    _seat_table(tablet, live_server, "15")
    _item(tablet, "Starters", "Sea Bass Ceviche").tap()
    dialog = tablet.get_by_role("dialog", name="Sea Bass Ceviche")
    dialog.get_by_text("Mild", exact=True).tap()
    tablet.wait_for_timeout(400)
    expect(dialog).to_be_visible()
    expect(tablet.locator("#check-panel .line")).to_have_count(0)
    dialog.get_by_role("button", name="One more").tap()
    dialog.get_by_role("textbox", name="Note for the kitchen").fill("no coriander")
    dialog.get_by_role("checkbox", name="Hold Sea Bass Ceviche").check()
    screenshot(tablet, "order-dialogs-01-single-required-choice-waits-1024x768")
    dialog.get_by_role("button", name="Add Sea Bass Ceviche").tap()
    line = _line(tablet, "Sea Bass Ceviche")
    expect(line).to_be_visible()
    expect(dialog).to_have_count(0)
    expect(line.locator(".line-qty")).to_have_text("2")
    expect(line).to_contain_text("Mild")
    expect(line).to_contain_text("“no coriander”")
    expect(line).to_have_class(_has_class("state-held"))


def test_a_server_voiding_after_send_gets_one_pin_pad_that_says_what_is_missing(tablet: Page, live_server: str) -> None:
    log_in(tablet, live_server, "1111")
    _seat_table(tablet, live_server, "16")
    _item(tablet, "Starters", "Burrata").tap()
    expect(_line(tablet, "Burrata")).to_be_visible()
    tablet.locator(".btn-send").tap()
    expect(tablet.locator("#check-panel .line.state-sent")).to_have_count(1)
    _line(tablet, "Burrata").tap()
    dialog = tablet.get_by_role("dialog")
    dialog.get_by_role("button", name="Guest changed their mind").tap()
    expect(tablet.locator(".keypad")).to_have_count(1)
    dialog.get_by_role("button", name="Void Burrata & Tomatoes").tap()
    message = dialog.get_by_role("alert").filter(has_text="A manager's PIN is needed")
    expect(message).to_be_visible()
    tablet.wait_for_timeout(300)
    expect(tablet.get_by_role("dialog")).to_have_count(1)
    expect(tablet.get_by_role("heading", name="Manager approval")).to_have_count(0)
    expect(tablet.locator(".keypad")).to_have_count(1)
    _inside(message, dialog)
    screenshot(tablet, "order-dialogs-02-one-pin-pad-1024x768")
    for digit in "8080":
        dialog.locator(f'.keypad button[data-key="{digit}"]').tap()
    dialog.get_by_role("button", name="Void Burrata & Tomatoes").tap()
    expect(dialog.get_by_role("alert").filter(has_text="That PIN is not right")).to_be_visible()
    expect(dialog.get_by_label("Manager PIN")).to_have_value("")
    expect(tablet.locator(".keypad")).to_have_count(1)
    for digit in "9999":
        dialog.locator(f'.keypad button[data-key="{digit}"]').tap()
    dialog.get_by_role("button", name="Void Burrata & Tomatoes").tap()
    expect(_line(tablet, "Burrata")).to_have_class(_has_class("state-voided"))
    expect(tablet.get_by_role("dialog")).to_have_count(0)


def test_a_stale_tablet_keeps_what_was_typed_and_shows_the_line_as_it_stands_now(
    tablet: Page, second_tablet: Page, live_server: str
) -> None:
    log_in(tablet, live_server, "1111")
    check_url = _seat_table(tablet, live_server, "17")
    _item(tablet, "Starters", "Soup of the Day").tap()
    expect(_line(tablet, "Soup of the Day")).to_be_visible()
    log_in(second_tablet, live_server, "1111")
    second_tablet.goto(check_url)

    _line(tablet, "Soup of the Day").tap()
    dialog = tablet.get_by_role("dialog")
    dialog.get_by_role("textbox", name="Quantity").fill("3")
    dialog.get_by_role("textbox", name="Note for the kitchen").fill("bread on the side")

    _line(second_tablet, "Soup of the Day").tap()
    other = second_tablet.get_by_role("dialog")
    other.get_by_role("textbox", name="Quantity").fill("2")
    other.get_by_role("textbox", name="Note for the kitchen").fill("no croutons")
    other.get_by_role("button", name="Save").tap()
    expect(_line(second_tablet, "Soup of the Day")).to_contain_text("no croutons")

    dialog.get_by_role("button", name="Save").tap()
    notice = dialog.get_by_role("alert").filter(has_text="was changed on another tablet")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Now on the check: qty 2, shared, Starters, not sent, note “no croutons”.")
    expect(dialog.get_by_role("textbox", name="Quantity")).to_have_value("3")
    expect(dialog.get_by_role("textbox", name="Note for the kitchen")).to_have_value("bread on the side")
    expect(dialog).to_contain_text("now 2 on the check")
    expect(_line(tablet, "Soup of the Day")).to_contain_text("no croutons")
    _inside(notice, dialog)
    screenshot(tablet, "order-dialogs-03-stale-dialog-keeps-typing-1024x768")

    dialog.get_by_role("button", name="Save").tap()
    expect(tablet.get_by_role("dialog")).to_have_count(0)
    line = _line(tablet, "Soup of the Day")
    expect(line.locator(".line-qty")).to_have_text("3")
    expect(line).to_contain_text("“bread on the side”")


def test_a_negative_quantity_and_an_over_long_note_are_explained_inside_the_dialog(
    tablet: Page, live_server: str
) -> None:
    log_in(tablet, live_server, "1111")
    _seat_table(tablet, live_server, "18")
    _item(tablet, "Desserts", "Chocolate Fondant").tap()
    dialog = tablet.get_by_role("dialog", name="Chocolate Fondant")
    quantity = dialog.get_by_role("textbox", name="Quantity")
    add = dialog.get_by_role("button", name="Add Chocolate Fondant")

    quantity.fill("-1")
    add.tap()
    message = dialog.get_by_role("alert").filter(has_text="Quantity must be between 1 and 99.")
    expect(message).to_be_visible()
    _inside(message, dialog)
    expect(quantity).to_have_attribute("aria-invalid", "true")
    assert quantity.evaluate("el => el.validationMessage") == "", "no browser bubble"
    screenshot(tablet, "order-dialogs-04-negative-quantity-1024x768")

    quantity.fill("1")
    note = dialog.get_by_role("textbox", name="Note for the kitchen")
    note.fill("no onion")
    expect(dialog.get_by_text("8/140")).to_be_visible()
    note.fill("x" * 5000)
    assert len(note.input_value()) == 5000, "nothing is cut off without a word"
    expect(dialog.get_by_text("5000/140")).to_be_visible()
    long_note = dialog.get_by_role("alert").filter(has_text="The note is 5000 characters; the limit is 140.")
    expect(long_note).to_be_visible()
    _inside(long_note, dialog)
    screenshot(tablet, "order-dialogs-05-long-note-counted-1024x768")
    add.tap()
    tablet.wait_for_timeout(300)
    expect(tablet.locator("#check-panel .line")).to_have_count(0)

    # The server says the same, in the dialog, when a note reaches it anyway.
    note.evaluate("el => el.removeAttribute('data-limit')")
    add.tap()
    refused = dialog.get_by_role("alert").filter(has_text="The note is 5000 characters; the limit is 140.")
    expect(refused).to_be_visible()
    expect(tablet.locator("#flash")).not_to_contain_text("The note is")
    expect(tablet.locator("#check-panel .line")).to_have_count(0)

    note.fill("no onion")
    add.tap()
    expect(dialog).to_have_count(0)
    expect(_line(tablet, "Chocolate Fondant")).to_contain_text("“no onion”")


def test_choose_one_questions_are_radio_groups_and_buttons_name_what_they_act_on(
    tablet: Page, live_server: str
) -> None:
    log_in(tablet, live_server, "1111")
    _seat_table(tablet, live_server, "19")
    _item(tablet, "From the Grill", "Rib-eye").tap()
    dialog = tablet.get_by_role("dialog", name="Rib-eye 300 g")
    temperature = dialog.get_by_role("radiogroup", name="Temperature")
    expect(temperature.get_by_role("radio")).to_have_count(5)
    expect(dialog.get_by_role("radiogroup", name="Side").get_by_role("radio")).to_have_count(4)
    expect(dialog.get_by_role("group", name="Sauce").get_by_role("checkbox")).to_have_count(4)
    temperature.get_by_role("radio", name="Medium rare").check()
    temperature.get_by_role("radio", name="Medium", exact=True).check()
    expect(temperature.get_by_role("radio", name="Medium rare")).not_to_be_checked()
    dialog.get_by_role("radiogroup", name="Side").get_by_role("radio", name="Fries", exact=True).check()
    screenshot(tablet, "order-dialogs-06-radio-groups-1024x768")
    dialog.get_by_role("button", name="Add Rib-eye 300 g").tap()
    expect(_line(tablet, "Rib-eye")).to_contain_text("Medium, Fries")

    panel = tablet.locator("#check-panel")
    expect(panel.get_by_role("button", name="Hold Mains", exact=True)).to_be_visible()
    expect(panel.get_by_role("button", name="Fire Mains", exact=True)).to_be_visible()
    panel.get_by_role("button", name="Fire Mains", exact=True).tap()
    expect(panel.get_by_role("button", name="Rush Mains", exact=True)).to_be_visible()

    log_in(tablet, live_server, "9999")
    tablet.goto(f"{live_server}/manage/86")
    expect(tablet.get_by_role("button", name="86 Burrata & Tomatoes", exact=True)).to_be_visible()
    tablet.get_by_role("button", name="86 Burrata & Tomatoes", exact=True).tap()
    expect(tablet.get_by_role("button", name="Burrata & Tomatoes back on sale", exact=True)).to_be_visible()
    tablet.get_by_role("button", name="Burrata & Tomatoes back on sale", exact=True).tap()
    expect(tablet.get_by_role("button", name="86 Burrata & Tomatoes", exact=True)).to_be_visible()


def test_a_move_with_nothing_ticked_is_refused_inside_the_more_dialog(tablet: Page, live_server: str) -> None:
    log_in(tablet, live_server, "1111")
    _seat_table(tablet, live_server, "20")
    _item(tablet, "Starters", "Burrata").tap()
    expect(_line(tablet, "Burrata")).to_be_visible()
    _seat_table(tablet, live_server, "21")
    _item(tablet, "Starters", "Soup of the Day").tap()
    expect(_line(tablet, "Soup of the Day")).to_be_visible()
    tablet.get_by_role("button", name="More…").tap()
    dialog = tablet.get_by_role("dialog", name="Table 21")
    dialog.get_by_role("button", name="Move", exact=True).tap()
    message = dialog.get_by_role("alert").filter(has_text="Choose at least one item to move.")
    expect(message).to_be_visible()
    _inside(message, dialog)
    expect(tablet.locator("#flash")).not_to_contain_text("Choose at least one item")
    expect(_line(tablet, "Soup of the Day")).to_be_visible()
