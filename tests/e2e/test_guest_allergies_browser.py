"""A server at 1024 x 768 adds a guest with an allergy from the check page; the kitchen's card turns red with it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import KDS, TABLET, log_in, screenshot

LIVE_MS = 5000


@pytest.fixture
def server_tablet(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=TABLET, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def cold_screen(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=KDS)
    page = context.new_page()
    yield page
    context.close()


def test_a_guest_attached_with_an_allergy_turns_the_kitchen_card_red(
    server_tablet: Page, cold_screen: Page, live_server: str
) -> None:
    log_in(cold_screen, live_server, "3333")
    cold_screen.goto(f"{live_server}/kds")
    cold_screen.locator(".kds-picker .tile", has_text="Cold").click()
    expect(cold_screen.locator("#kds-status")).to_have_class("kds-status live", timeout=LIVE_MS)

    log_in(server_tablet, live_server, "1111")
    server_tablet.goto(f"{live_server}/floor")
    server_tablet.locator('.table[data-name="14"]').tap()
    server_tablet.locator('.covers-grid button[value="2"]').tap()
    server_tablet.wait_for_url("**/checks/*")
    server_tablet.locator(".cat", has_text="Salads").first.tap()
    server_tablet.locator(".item-grid.active .item", has_text="Niçoise Salad").first.tap()
    panel = server_tablet.locator("#check-panel")
    expect(panel.locator(".line", has_text="Niçoise Salad")).to_be_visible()
    panel.locator(".btn-send").tap()
    card = cold_screen.locator(".ticket", has_text="Table 14")
    expect(card).to_be_visible(timeout=LIVE_MS)
    expect(card.locator(".banner-allergy")).to_have_count(0)

    panel.get_by_role("link", name="Add guest").tap()
    sheet = server_tablet.locator(".guest-sheet")
    expect(sheet).to_be_visible()
    # The sheet opens with the cursor in its search box (htmx focuses it once the sheet has settled); typing the
    # new guest's name before then would land it in the search.
    expect(sheet.get_by_role("searchbox")).to_be_focused()
    form = sheet.locator("form.guest-form")
    form.get_by_label("Name").fill("Ysolde Prewitt")
    form.get_by_label("Phone").fill("06 2345 6789")
    form.get_by_label("Allergies").fill("Peanuts, sesame")
    screenshot(server_tablet, "guests-01-new-guest-sheet-1024x768")
    form.get_by_role("button", name="Add and attach").tap()

    guest = server_tablet.locator("#check-panel .check-guest")
    expect(guest).to_contain_text("Ysolde Prewitt", timeout=LIVE_MS)
    expect(guest.locator(".check-allergy")).to_have_text("ALLERGY: Peanuts, sesame")
    screenshot(server_tablet, "guests-02-check-with-allergy-1024x768")

    banner = card.locator(".banner-allergy")
    expect(banner).to_have_text("ALLERGY: Peanuts, sesame", timeout=LIVE_MS)
    expect(banner).to_have_css("background-color", "rgb(179, 0, 27)")
    screenshot(cold_screen, "guests-03-kds-card-allergy-1920x1080")

    server_tablet.goto(f"{live_server}/floor")
    expect(server_tablet.locator('.table[data-name="14"] .table-guest')).to_have_text("Ysolde Prewitt")
