"""Table service on a 1024 x 768 tablet: seat, order by seat and course, send, fire later; the floor follows live."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import TABLET, log_in, screenshot

LIVE_WITHIN_MS = 1000


class Taps:
    """Counts the taps a server makes, the measure of how fast order entry is."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.count = 0

    def tap(self, target: Locator) -> None:
        expect(target).to_be_visible()
        box = target.bounding_box()
        assert box is not None, "the target is on screen"
        assert box["height"] >= 44, "touch targets are at least 44 px tall"
        assert box["width"] >= 44, "touch targets are at least 44 px wide"
        target.tap()
        self.count += 1


@pytest.fixture
def watcher(browser: Browser) -> Iterator[Page]:
    """A second tablet, its own cookies, showing the floor."""
    context = browser.new_context(viewport=TABLET, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


def _open_floor(page: Page, url: str) -> None:
    """The floor, once its live link is open and the tables reloaded through it."""
    page.goto(f"{url}/floor")
    expect(page.locator("#plan-live.is-synced")).to_be_visible()
    expect(page.locator(".live-text")).to_have_text("Live")
    page.evaluate("window.__sameDocument = true")


def _still_same_document(page: Page) -> None:
    assert page.evaluate("window.__sameDocument === true"), "the floor updated without a reload"


def _item(page: Page, name: str) -> Locator:
    return page.locator(".item-grid.active .item", has=page.locator(".item-name", has_text=name)).first


def _chip(page: Page, container: str, text: str) -> Locator:
    return page.locator(f"{container} label.chip", has_text=text).first


def _seat(page: Page, seat: str) -> Locator:
    return page.locator(f'#seat-chips label.chip:has(input[value="{seat}"])')


def test_seat_table_12_order_by_seat_and_course_send_drinks_and_starters_then_fire_mains(
    tablet: Page, watcher: Page, live_server: str
) -> None:
    log_in(watcher, live_server, "4444")
    _open_floor(watcher, live_server)
    table_on_watcher = watcher.locator('.table[data-name="12"]')
    expect(table_on_watcher).to_have_attribute("data-state", "free")
    screenshot(watcher, "table-service-01-floor-before-1024x768")

    log_in(tablet, live_server, "1111")
    taps = Taps(tablet)
    _open_floor(tablet, live_server)
    taps.tap(tablet.locator('.table[data-name="12"]'))
    expect(tablet.locator(".covers-grid")).to_be_visible()
    screenshot(tablet, "table-service-02-seat-sheet-1024x768")
    taps.tap(tablet.locator('.covers-grid button[value="4"]'))
    tablet.wait_for_url("**/checks/*")
    expect(tablet.locator(".check-where")).to_have_text("Table 12")
    expect(table_on_watcher).to_have_attribute("data-state", "seated", timeout=LIVE_WITHIN_MS)
    _still_same_document(watcher)

    panel = tablet.locator("#check-panel")
    # Drinks: a Negroni for seat 1 and a large Pilsner for seat 2, each with a forced choice.
    taps.tap(_seat(tablet, "1"))
    taps.tap(_item(tablet, "Negroni"))
    expect(tablet.locator(".item-sheet")).to_be_visible()
    screenshot(tablet, "table-service-03-forced-choice-1024x768")
    taps.tap(_chip(tablet, ".item-sheet", "With ice"))
    taps.tap(tablet.locator(".item-sheet .btn-add"))
    expect(panel.locator(".line", has_text="Negroni")).to_be_visible()
    taps.tap(_seat(tablet, "2"))
    taps.tap(tablet.locator(".cat", has_text="Beer & Cider"))
    taps.tap(_item(tablet, "Pilsner (draft)"))
    taps.tap(_chip(tablet, ".item-sheet", "50 cl"))
    taps.tap(tablet.locator(".item-sheet .btn-add"))
    expect(panel.locator(".line", has_text="Pilsner")).to_be_visible()
    # Starters for seats 1 and 2.
    taps.tap(tablet.locator(".cat", has_text="Starters"))
    taps.tap(_seat(tablet, "1"))
    taps.tap(_item(tablet, "Burrata & Tomatoes"))
    expect(panel.locator(".line", has_text="Burrata")).to_be_visible()
    taps.tap(_seat(tablet, "2"))
    taps.tap(_item(tablet, "Soup of the Day"))
    expect(panel.locator(".line", has_text="Soup of the Day")).to_be_visible()
    # Mains for seats 3 and 4, with forced temperature and side.
    taps.tap(tablet.locator(".cat", has_text="From the Grill"))
    taps.tap(_seat(tablet, "3"))
    taps.tap(_item(tablet, "Lamb Chops"))
    taps.tap(_chip(tablet, ".item-sheet", "Medium rare"))
    taps.tap(_chip(tablet, ".item-sheet", "Fries"))
    taps.tap(tablet.locator(".item-sheet .btn-add"))
    expect(panel.locator(".line", has_text="Lamb Chops")).to_be_visible()
    taps.tap(_seat(tablet, "4"))
    taps.tap(_item(tablet, "Half Chicken"))
    taps.tap(_chip(tablet, ".item-sheet", "Mashed potatoes"))
    taps.tap(tablet.locator(".item-sheet .btn-add"))
    expect(panel.locator(".line", has_text="Half Chicken")).to_be_visible()
    expect(panel.locator(".line.state-pending")).to_have_count(6)
    expect(table_on_watcher).to_have_attribute("data-state", "ordered", timeout=LIVE_WITHIN_MS)
    screenshot(tablet, "table-service-04-order-entered-1024x768")

    taps.tap(panel.locator(".course-mains .course-actions button", has_text="Hold"))
    expect(panel.locator(".line.state-held")).to_have_count(2)
    taps.tap(panel.locator(".btn-send"))
    expect(panel.locator(".line.state-sent")).to_have_count(4)
    expect(panel.locator(".line.state-held")).to_have_count(2)
    expect(tablet.locator("#flash")).to_contain_text("Sent to the kitchen: Drinks, Starters.")
    screenshot(tablet, "table-service-05-drinks-and-starters-sent-1024x768")
    expect(table_on_watcher).to_have_attribute("data-state", "fired", timeout=LIVE_WITHIN_MS)
    _still_same_document(watcher)
    expect(table_on_watcher.locator(".table-flag")).to_have_text("HOLD")
    screenshot(watcher, "table-service-06-watcher-sees-table-12-fired-1024x768")

    taps.tap(panel.locator(".course-mains .course-actions button", has_text="Fire Mains"))
    expect(panel.locator(".line.state-sent")).to_have_count(6)
    expect(panel.locator(".course-mains .course-status")).to_contain_text("fired")
    screenshot(tablet, "table-service-07-mains-fired-1024x768")
    expect(table_on_watcher.locator(".table-flag")).to_have_count(0, timeout=LIVE_WITHIN_MS)
    _still_same_document(watcher)
    screenshot(watcher, "table-service-08-watcher-after-mains-1024x768")


def test_seating_a_table_and_firing_four_items_with_two_forced_choices_takes_thirteen_taps(
    tablet: Page, live_server: str
) -> None:
    log_in(tablet, live_server, "1111")
    _open_floor(tablet, live_server)
    taps = Taps(tablet)
    taps.tap(tablet.locator('.table[data-name="7"]'))
    taps.tap(tablet.locator('.covers-grid button[value="2"]'))
    tablet.wait_for_url("**/checks/*")
    taps.tap(tablet.locator(".cat", has_text="Starters"))
    taps.tap(_item(tablet, "Sea Bass Ceviche"))
    taps.tap(_chip(tablet, ".item-sheet", "Spicy"))
    taps.tap(tablet.locator(".item-sheet .btn-add"))
    taps.tap(_item(tablet, "Burrata & Tomatoes"))
    taps.tap(_item(tablet, "Soup of the Day"))
    taps.tap(tablet.locator(".cat", has_text="From the Grill"))
    taps.tap(_item(tablet, "Half Chicken"))
    taps.tap(_chip(tablet, ".item-sheet", "Fries"))
    taps.tap(tablet.locator(".item-sheet .btn-add"))
    panel = tablet.locator("#check-panel")
    expect(panel.locator(".line.state-pending")).to_have_count(4)
    taps.tap(panel.locator(".btn-send"))
    expect(panel.locator(".line.state-sent")).to_have_count(4)
    screenshot(tablet, "table-service-09-four-items-fired-1024x768")
    # Each item with a forced choice is rung in by its Add button, after the note, quantity or hold could be set.
    assert taps.count == 13


def test_a_missing_forced_choice_is_refused_in_the_page_and_nothing_is_added(tablet: Page, live_server: str) -> None:
    log_in(tablet, live_server, "1111")
    _open_floor(tablet, live_server)
    tablet.locator('.table[data-name="9"]').tap()
    tablet.locator('.covers-grid button[value="2"]').tap()
    tablet.wait_for_url("**/checks/*")
    tablet.locator(".cat", has_text="From the Grill").tap()
    _item(tablet, "Rib-eye 300 g").tap()
    sheet = tablet.locator(".item-sheet")
    _chip(tablet, ".item-sheet", "Rare").tap()
    sheet.locator("button.btn-add").tap()
    expect(sheet.get_by_role("alert")).to_contain_text("Side: choose 1")
    expect(tablet.locator("#check-panel .line")).to_have_count(0)
    screenshot(tablet, "table-service-10-forced-choice-missing-1024x768")
