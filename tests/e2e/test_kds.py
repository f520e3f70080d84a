"""The kitchen screen at 1920 x 1080: a tablet fires, the Grill board shows it live, the cook bumps, expo runs it,
and the server's tablet shows the table ready."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import KDS, TABLET, log_in, screenshot

LIVE_MS = 3000


@pytest.fixture
def server_tablet(browser: Browser) -> Iterator[Page]:
    """Lena's tablet, its own cookies."""
    context = browser.new_context(viewport=TABLET, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def expo_screen(browser: Browser) -> Iterator[Page]:
    """A second kitchen screen, at the pass."""
    context = browser.new_context(viewport=KDS)
    page = context.new_page()
    yield page
    context.close()


def _open_board(page: Page, url: str, name: str) -> None:
    page.goto(f"{url}/kds")
    page.locator(".kds-picker .tile", has_text=name).click()
    expect(page.locator(".kds-station")).to_contain_text(name)
    expect(page.locator("#kds-status")).to_have_class("kds-status live", timeout=LIVE_MS)


def _item(page: Page, name: str) -> Locator:
    return page.locator(".item-grid.active .item", has=page.locator(".item-name", has_text=name)).first


def test_a_fired_main_shows_on_the_grill_board_is_bumped_and_the_table_turns_ready(
    kds_screen: Page, expo_screen: Page, server_tablet: Page, live_server: str
) -> None:
    log_in(kds_screen, live_server, "3333")
    _open_board(kds_screen, live_server, "Grill")
    expect(kds_screen.locator("[data-board-empty]")).to_be_visible()
    screenshot(kds_screen, "kds-01-grill-board-empty-1920x1080")

    log_in(expo_screen, live_server, "3333")
    _open_board(expo_screen, live_server, "Expo")

    log_in(server_tablet, live_server, "1111")
    server_tablet.goto(f"{live_server}/floor")
    table = server_tablet.locator('.table[data-name="12"]')
    table.tap()
    server_tablet.locator('.covers-grid button[value="2"]').tap()
    server_tablet.wait_for_url("**/checks/*")
    server_tablet.locator(".cat", has_text="From the Grill").tap()
    server_tablet.locator('#seat-chips label.chip:has(input[value="1"])').tap()
    _item(server_tablet, "Rib-eye 300 g").tap()
    sheet = server_tablet.locator(".item-sheet")
    sheet.locator("label.chip", has_text="Medium rare").first.tap()
    sheet.locator("label.chip", has_text="Fries").first.tap()
    sheet.locator("label.chip", has_text="Béarnaise").first.tap()
    sheet.locator("button.btn-add").tap()
    panel = server_tablet.locator("#check-panel")
    expect(panel.locator(".line", has_text="Rib-eye")).to_be_visible()
    panel.locator(".btn-send").tap()
    expect(panel.locator(".line.state-sent")).to_have_count(1)

    card = kds_screen.locator(".ticket", has_text="Table 12")
    expect(card).to_be_visible(timeout=LIVE_MS)
    expect(card.locator(".tline")).to_contain_text("Rib-eye 300 g")
    expect(card).to_contain_text("Medium rare")
    expect(card).to_contain_text("Béarnaise")
    expect(card).to_contain_text("Lena Brooks")
    expect(card.locator(".seat")).to_have_text("S1")
    expect(kds_screen.locator(".all-day-list")).to_contain_text("Rib-eye 300 g")
    expect(card.locator(".ticket-age")).to_have_text("0:01", timeout=LIVE_MS)
    expect(kds_screen.locator("#kds-status")).to_contain_text("Live")
    screenshot(kds_screen, "kds-02-grill-ticket-arrived-1920x1080")

    expo_card = expo_screen.locator(".ticket", has_text="Table 12")
    expect(expo_card).to_be_visible(timeout=LIVE_MS)
    expect(expo_card.locator(".kbtn-ready")).to_be_disabled()
    expect(expo_card.locator(".part")).to_have_text("Grill …")

    card.locator(".kbtn-bump").click()
    expect(card).to_have_count(0, timeout=LIVE_MS)
    expect(kds_screen.locator("[data-board-empty]")).to_be_visible()
    screenshot(kds_screen, "kds-03-grill-bumped-1920x1080")

    # recall brings it back once, bump it again
    kds_screen.locator("[data-recall]").click()
    expect(kds_screen.locator(".ticket", has_text="Table 12")).to_have_count(1, timeout=LIVE_MS)
    kds_screen.locator(".ticket", has_text="Table 12").locator(".kbtn-bump").click()
    expect(kds_screen.locator(".ticket", has_text="Table 12")).to_have_count(0, timeout=LIVE_MS)

    expect(expo_card.locator(".kbtn-ready")).to_be_enabled(timeout=LIVE_MS)
    expect(expo_card.locator(".part")).to_have_text("Grill ✓")
    screenshot(expo_screen, "kds-04-expo-ready-to-run-1920x1080")
    expo_card.locator(".kbtn-ready").click()
    expect(expo_card).to_have_count(0, timeout=LIVE_MS)

    server_tablet.goto(f"{live_server}/floor")
    expect(server_tablet.locator('.table[data-name="12"]')).to_have_attribute("data-state", "ready", timeout=LIVE_MS)
    screenshot(server_tablet, "kds-05-tablet-table-12-ready-1024x768")


def test_a_board_that_loses_its_connection_says_so_and_redraws_without_duplicates(
    kds_screen: Page, server_tablet: Page, live_server: str
) -> None:
    log_in(kds_screen, live_server, "3333")
    _open_board(kds_screen, live_server, "Fry")

    log_in(server_tablet, live_server, "1111")
    server_tablet.goto(f"{live_server}/floor")
    server_tablet.locator('.table[data-name="5"]').tap()
    server_tablet.locator('.covers-grid button[value="2"]').tap()
    server_tablet.wait_for_url("**/checks/*")
    server_tablet.locator(".cat", has_text="Fryer").tap()
    _item(server_tablet, "Ham Croquettes (4)").tap()
    server_tablet.locator("#check-panel .btn-send").tap()
    card = kds_screen.locator(".ticket", has_text="Table 5")
    expect(card).to_have_count(1, timeout=LIVE_MS)

    kds_screen.context.set_offline(True)
    kds_screen.evaluate("window.dispatchEvent(new Event('offline'))")
    expect(kds_screen.locator("#kds-status")).to_contain_text("Reconnecting", timeout=20000)
    expect(kds_screen.locator("[data-stale]")).to_be_visible()
    expect(card).to_have_count(1)
    screenshot(kds_screen, "kds-06-board-disconnected-1920x1080")

    kds_screen.context.set_offline(False)
    expect(kds_screen.locator("#kds-status")).to_contain_text("Live", timeout=20000)
    expect(kds_screen.locator(".ticket", has_text="Table 5")).to_have_count(1)
    expect(kds_screen.locator("[data-stale]")).to_be_hidden()


def test_a_manager_sees_stations_printers_the_routing_check_and_printer_status(tablet: Page, live_server: str) -> None:
    log_in(tablet, live_server, "9999")
    tablet.goto(f"{live_server}/manage/kitchen")
    expect(tablet.locator(".routing-check")).to_contain_text("Every item on the menu reaches a station.")
    expect(tablet.locator("#kitchen-setup form.station-row")).to_have_count(7)
    screenshot(tablet, "kds-07-manage-stations-and-printers-1024x768")

    form = tablet.locator("form.station-row.add-form")
    form.locator('input[name="name"]').fill("grill")
    form.locator("button").click()
    expect(tablet.locator("#flash")).to_contain_text("There is already a station called grill.")
    screenshot(tablet, "kds-08-manage-duplicate-station-refused-1024x768")

    tablet.locator("#flash .flash-close").click()
    tablet.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    screenshot(tablet, "kds-08b-manage-printers-1024x768")

    tablet.goto(f"{live_server}/manage/kitchen/printers")
    expect(tablet.locator("h1")).to_have_text("Printer status")
    expect(tablet.locator("table.grid").first).to_contain_text("Kitchen")
    screenshot(tablet, "kds-09-printer-status-1024x768")
