"""The server's tablet at 1024 x 768 follows the rest of the restaurant without a reload: an item the manager 86's
greys out at once (and lights up again when it is back), food expo runs shows as ready on the check, and the
toasts that confirm a tap never cover what a server taps next."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, FloatRect, Locator, Page, expect

from tests.e2e.conftest import KDS, TABLET, log_in, screenshot

LIVE_MS = 2000


@pytest.fixture
def manager_tablet(browser: Browser) -> Iterator[Page]:
    """The manager's own tablet, its own cookies."""
    context = browser.new_context(viewport=TABLET, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def pass_screen(browser: Browser) -> Iterator[Page]:
    """The kitchen screen at the pass, used for the Cold station and for expo."""
    context = browser.new_context(viewport=KDS)
    page = context.new_page()
    yield page
    context.close()


def _seat(page: Page, url: str, table: str, covers: int) -> None:
    page.goto(f"{url}/floor")
    page.locator(f'.table[data-name="{table}"]').tap()
    page.locator(f'.covers-grid button[value="{covers}"]').tap()
    page.wait_for_url("**/checks/*")
    expect(page.locator(".check-where")).to_have_text(f"Table {table}")
    page.wait_for_load_state("networkidle")
    page.evaluate("window.__sameDocument = true")


def _still_same_document(page: Page) -> None:
    assert page.evaluate("window.__sameDocument === true"), "the check updated without a reload"


def _item(page: Page, name: str) -> Locator:
    return page.locator(".item", has=page.locator(".item-name", has_text=name)).first


def _ticket(page: Page, table: str) -> Locator:
    return page.locator("article", has_text=f"Table {table}").first


def _open_board(page: Page, url: str, name: str) -> None:
    page.goto(f"{url}/kds")
    page.locator(".kds-picker .tile", has_text=name).click()
    expect(page.locator(".kds-station")).to_contain_text(name)
    expect(page.locator("#kds-status")).to_contain_text("Live", timeout=LIVE_MS)


def _overlap(a: FloatRect, b: FloatRect) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_an_item_86d_on_the_board_greys_out_on_an_open_check_and_comes_back(
    tablet: Page, manager_tablet: Page, live_server: str
) -> None:
    log_in(tablet, live_server, "1111")
    _seat(tablet, live_server, "5", 2)
    tablet.locator(".cat", has_text="From the Grill").tap()
    rib = _item(tablet, "Rib-eye 300 g")
    expect(rib).to_be_enabled()

    log_in(manager_tablet, live_server, "9999")
    manager_tablet.goto(f"{live_server}/manage/86")
    tile = manager_tablet.locator(".tile-86", has_text="Rib-eye 300 g")
    tile.get_by_role("button", name=re.compile(r"^86")).click()
    expect(manager_tablet.locator(".out-list")).to_contain_text("Rib-eye 300 g")

    expect(rib).to_be_disabled(timeout=LIVE_MS)
    expect(rib).to_contain_text("86'd · Sold out")
    _still_same_document(tablet)
    screenshot(tablet, "live-tablet-01-rib-eye-86d-1024x768")

    manager_tablet.locator(".tile-86", has_text="Rib-eye 300 g").get_by_role("button", name="Back on sale").click()
    expect(rib).to_be_enabled(timeout=LIVE_MS)
    expect(rib).not_to_contain_text("86'd")
    _still_same_document(tablet)
    rib.tap()
    expect(tablet.locator(".item-sheet")).to_be_visible()
    expect(tablet.locator(".item-sheet")).to_contain_text("Rib-eye 300 g")
    screenshot(tablet, "live-tablet-02-rib-eye-back-on-sale-1024x768")


def test_the_check_shows_starters_ready_once_the_cold_station_and_expo_are_done(
    tablet: Page, pass_screen: Page, live_server: str
) -> None:
    log_in(tablet, live_server, "1111")
    _seat(tablet, live_server, "6", 2)
    tablet.locator(".cat", has_text="Starters").tap()
    _item(tablet, "Burrata & Tomatoes").tap()
    panel = tablet.locator("#check-panel")
    expect(panel.locator(".line", has_text="Burrata")).to_be_visible()
    panel.locator(".btn-send").tap()
    starters = panel.locator('.course[data-course="starters"]')
    expect(starters.locator(".line", has_text="Burrata")).to_contain_text(re.compile("sent", re.I))
    expect(starters.locator(".course-head")).not_to_contain_text("ready")

    log_in(pass_screen, live_server, "3333")
    _open_board(pass_screen, live_server, "Cold")
    card = _ticket(pass_screen, "6")
    expect(card).to_be_visible(timeout=LIVE_MS)
    card.get_by_role("button", name="Bump").click()
    expect(card).to_have_count(0, timeout=LIVE_MS)
    expect(starters.locator(".course-head")).not_to_contain_text("ready")

    _open_board(pass_screen, live_server, "Expo")
    expo_card = _ticket(pass_screen, "6")
    expo_card.get_by_role("button", name=re.compile("Ready")).click()
    expect(expo_card).to_have_count(0, timeout=LIVE_MS)

    expect(starters.locator(".course-head")).to_contain_text("Starters — ready", timeout=LIVE_MS)
    expect(starters.locator(".line", has_text="Burrata")).to_contain_text(re.compile("ready", re.I))
    _still_same_document(tablet)
    screenshot(tablet, "live-tablet-03-starters-ready-1024x768")


def test_a_confirmation_toast_covers_no_seat_button_header_or_control(tablet: Page, live_server: str) -> None:
    log_in(tablet, live_server, "1111")
    _seat(tablet, live_server, "7", 4)
    tablet.locator(".cat", has_text="Starters").tap()
    _item(tablet, "Soup of the Day").tap()
    panel = tablet.locator("#check-panel")
    expect(panel.locator(".line", has_text="Soup of the Day")).to_be_visible()
    panel.locator(".btn-send").tap()

    toast = tablet.locator("#flash .flash")
    expect(toast).to_contain_text("Sent to the kitchen")
    expect(tablet.locator("#flash")).to_have_attribute("aria-live", "polite")
    expect(tablet.get_by_role("status")).to_contain_text("Sent to the kitchen")
    screenshot(tablet, "live-tablet-04-toast-at-the-foot-1024x768")
    toast_box = toast.bounding_box()
    assert toast_box is not None

    taps = [
        tablet.locator("#seat-chips label.chip"),
        tablet.locator('[role="radiogroup"][aria-label="Course"] label.chip'),
        tablet.locator(".check-head"),
        tablet.locator(".course-head"),
        panel.locator(".line"),
        panel.locator(".foot-actions .btn"),
        tablet.locator(".cats .cat"),
        tablet.locator(".item-grid.active .item"),
        tablet.locator(".topbar a, .topbar button"),
    ]
    for group in taps:
        assert group.count() > 0
        for index in range(group.count()):
            box = group.nth(index).bounding_box()
            assert box is not None
            assert not _overlap(toast_box, box), f"the toast covers {group.nth(index).inner_text()!r}"

    # a tap meant for the toast's own close button still reaches it
    toast.get_by_role("button", name="Dismiss").tap()
    expect(toast).to_have_count(0)


def _left(button: Locator) -> int:
    found = re.search(r"(\d+) left", button.inner_text())
    assert found, f"no count on {button.inner_text()!r}"
    return int(found.group(1))


def test_a_counted_dish_counts_down_on_a_second_tablet_as_another_rings_it_in(
    tablet: Page, manager_tablet: Page, live_server: str
) -> None:
    log_in(tablet, live_server, "1111")
    _seat(tablet, live_server, "10", 2)
    log_in(manager_tablet, live_server, "1111")
    _seat(manager_tablet, live_server, "11", 2)
    for page in (tablet, manager_tablet):
        page.locator(".cat", has_text="Starters").tap()
    watching = _item(manager_tablet, "Burrata & Tomatoes")
    expect(watching.locator(".item-left")).to_have_text(re.compile(r"^\d+ left$"))
    before = _left(watching)
    assert before >= 2
    expect(_item(manager_tablet, "Soup of the Day")).not_to_contain_text("left")  # no counted stock, no count

    _item(tablet, "Burrata & Tomatoes").tap()
    expect(tablet.locator("#check-panel .line", has_text="Burrata")).to_be_visible()
    expect(watching).to_contain_text(f"{before - 1} left", timeout=LIVE_MS)
    expect(_item(tablet, "Burrata & Tomatoes")).to_contain_text(f"{before - 1} left")
    _still_same_document(manager_tablet)
    screenshot(manager_tablet, "live-tablet-05-burrata-counts-down-1024x768")
