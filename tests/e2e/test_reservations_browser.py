"""The host at 1024 x 768 books a party with an allergy, sees it held on the floor, seats it; the server orders and
the kitchen's card carries the allergy. A walk-in joins the waitlist, sees "table ready" on their phone, is seated."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import KDS, TABLET, log_in, screenshot

LIVE_MS = 5000
PHONE = {"width": 390, "height": 844}


def _page(browser: Browser, viewport: dict[str, int], *, touch: bool = True) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport, has_touch=touch)
    yield context.new_page()
    context.close()


@pytest.fixture
def host_tablet(browser: Browser) -> Iterator[Page]:
    yield from _page(browser, TABLET)


@pytest.fixture
def server_tablet(browser: Browser) -> Iterator[Page]:
    yield from _page(browser, TABLET)


@pytest.fixture
def kitchen(browser: Browser) -> Iterator[Page]:
    yield from _page(browser, KDS, touch=False)


@pytest.fixture
def guest_phone(browser: Browser) -> Iterator[Page]:
    yield from _page(browser, PHONE)


def _next_quarter() -> datetime:
    now = datetime.now(ZoneInfo("Europe/Amsterdam"))
    return now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0) + timedelta(minutes=15)


def _open_the_book_all_day(page: Page, url: str) -> None:
    log_in(page, url, "9999")
    page.goto(f"{url}/manage/reservations")
    page.locator('input[name="first_seating"]').fill("00:00")
    page.locator('input[name="last_seating"]').fill("23:45")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/manage/reservations?saved=1")
    page.locator(".topbar").get_by_role("button", name="Lock").click()


def test_a_booked_party_is_held_on_the_floor_seated_and_its_allergy_reaches_the_kitchen(
    host_tablet: Page, server_tablet: Page, kitchen: Page, live_server: str
) -> None:
    _open_the_book_all_day(host_tablet, live_server)
    log_in(host_tablet, live_server, "5555")
    host_tablet.goto(f"{live_server}/reservations")
    when = _next_quarter()
    form = host_tablet.locator("#booking-form")
    # Each of party and date redraws the time field with that day's free times for that party.
    form.locator('input[name="party_size"]').fill("4")
    form.locator('input[name="party_size"]').press("Tab")
    host_tablet.wait_for_load_state("networkidle")
    if form.locator('input[name="day"]').input_value() != when.date().isoformat():
        form.locator('input[name="day"]').fill(when.date().isoformat())
        form.locator('input[name="day"]').press("Tab")
        host_tablet.wait_for_load_state("networkidle")
    expect(form.locator('select[name="time"] option').first).to_be_attached()
    form.locator('select[name="time"]').select_option(when.strftime("%H:%M"))
    form.locator('input[name="name"]').fill("Nadia Brandt")
    form.locator('input[name="phone"]').fill("06 4455 6677")
    form.locator('input[name="allergies"]').fill("Peanuts")
    form.locator('input[name="notes"]').fill("Anniversary")
    form.get_by_role("button", name="Book").tap()
    host_tablet.wait_for_url("**/reservations?day=*&booked=*")
    row = host_tablet.locator(".book-table tr", has_text="Nadia Brandt")
    expect(row).to_contain_text("⚠ Peanuts")
    expect(host_tablet.locator(".slot.has")).to_have_count(1)
    screenshot(host_tablet, "reservations-book")

    # The run sheet on paper: the back link is left off.
    host_tablet.emulate_media(media="print")
    host_tablet.goto(f"{live_server}/reservations/run-sheet")
    expect(host_tablet.locator("table").first).to_contain_text("Nadia Brandt")
    expect(host_tablet.locator(".no-print")).to_be_hidden()
    screenshot(host_tablet, "reservations-run-sheet-print")
    host_tablet.emulate_media(media="screen")

    host_tablet.goto(f"{live_server}/floor")
    hold = host_tablet.locator(".table-hold", has_text="Nadia Brandt")
    expect(hold).to_contain_text(f"{when:%H:%M} · 4p Nadia Brandt")
    screenshot(host_tablet, "reservations-floor-hold")
    hold.tap()
    sheet = host_tablet.locator("#sheet")
    expect(sheet.locator(".hold-warning")).to_contain_text("Held for Nadia Brandt")
    expect(sheet.locator('input[name="confirm_hold"]')).to_be_visible()
    screenshot(host_tablet, "reservations-walk-in-warning")
    sheet.get_by_role("link", name="Seat the reservation").tap()
    host_tablet.wait_for_url("**/reservations/*")
    screenshot(host_tablet, "reservations-detail")
    host_tablet.locator('select[name="server_id"]').select_option(label="Lena Brooks")
    host_tablet.get_by_role("button", name="Seat 4 at").tap()
    host_tablet.wait_for_url("**/floor")

    log_in(kitchen, live_server, "3333")
    kitchen.goto(f"{live_server}/kds")
    kitchen.locator(".kds-picker .tile", has_text="Cold").click()
    expect(kitchen.locator("#kds-status")).to_have_class("kds-status live", timeout=LIVE_MS)

    log_in(server_tablet, live_server, "1111")
    server_tablet.goto(f"{live_server}/floor")
    table = server_tablet.locator(".table.mine")
    expect(table).to_have_count(1)
    expect(table).to_contain_text("4")
    table.tap()
    server_tablet.wait_for_url("**/checks/*")
    server_tablet.locator(".cat", has_text="Salads").first.tap()
    server_tablet.locator(".item-grid.active .item", has_text="Niçoise Salad").first.tap()
    panel = server_tablet.locator("#check-panel")
    expect(panel.locator(".line", has_text="Niçoise Salad")).to_be_visible()
    panel.locator(".btn-send").tap()
    card = kitchen.locator(".ticket", has_text="Niçoise Salad")
    expect(card).to_be_visible(timeout=LIVE_MS)
    expect(card).to_contain_text("ALLERGY: Peanuts")
    screenshot(kitchen, "reservations-kds-allergy")


def test_a_walk_in_waits_sees_table_ready_on_their_phone_and_is_seated(
    host_tablet: Page, guest_phone: Page, live_server: str
) -> None:
    log_in(host_tablet, live_server, "5555")
    host_tablet.goto(f"{live_server}/waitlist")
    aside = host_tablet.locator(".book-side form")
    aside.locator('input[name="party_size"]').fill("2")
    aside.locator('input[name="name"]').fill("Owen Park")
    aside.locator('input[name="phone"]').fill("06 9988 7766")
    aside.get_by_role("button", name="Add to the list").tap()
    host_tablet.wait_for_url("**/waitlist?joined=*")
    card = host_tablet.locator(".wait-card", has_text="Owen Park")
    expect(card).to_contain_text("quoted 0 min")
    link = card.locator(".status-link a").first.get_attribute("href")
    assert link is not None
    assert link.startswith("/w/")
    screenshot(host_tablet, "reservations-waitlist")

    guest_phone.goto(f"{live_server}{link}")
    expect(guest_phone.locator("h1")).to_have_text("Hello Owen Park")
    expect(guest_phone.locator(".big")).to_contain_text("About 0 minutes")
    card.get_by_role("button", name="Table ready").tap()
    host_tablet.wait_for_url("**/waitlist")
    expect(host_tablet.locator(".wait-card", has_text="Owen Park")).to_contain_text("Table ready")
    guest_phone.reload()
    expect(guest_phone.locator(".big")).to_have_text("Your table is ready!")
    screenshot(guest_phone, "reservations-guest-ready")

    card = host_tablet.locator(".wait-card", has_text="Owen Park")
    card.locator('select[name="table_id"]').select_option(label="2 (2)")
    card.locator('select[name="server_id"]').select_option(label="Lena Brooks")
    card.get_by_role("button", name="Seat").tap()
    host_tablet.wait_for_url("**/waitlist")
    expect(host_tablet.locator(".wait-card", has_text="Owen Park")).to_have_count(0)
    guest_phone.reload()
    expect(guest_phone.locator(".big")).to_have_text("Enjoy your meal.")
    host_tablet.goto(f"{live_server}/floor")
    expect(host_tablet.locator('.table[data-name="2"]')).to_have_attribute("data-state", "seated")
