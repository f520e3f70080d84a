"""Settling on a tablet: unsent items are named before the guest pays, an item is comped or discounted on its own,
a split table keeps its headcount, and "Table cleared" waits for the last check."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import MANAGER_PIN, TABLET, log_in, screenshot


def _ring_in(tablet: Page, seat: str, name: str) -> None:
    tablet.locator(f'#seat-chips label:has(input[value="{seat}"])').click()
    grid = tablet.locator(".item-grid", has=tablet.locator(f'.item-name:text-is("{name}")'))
    tablet.locator(f'button.cat[data-cat="{grid.get_attribute("data-cat")}"]').click()
    tablet.locator("button.item", has=tablet.locator(f'.item-name:text-is("{name}")')).click()
    expect(tablet.locator("#check-panel .line-name", has_text=name)).to_have_count(1)


def _seat(tablet: Page, url: str, table: str, covers: int) -> None:
    tablet.goto(f"{url}/floor")
    tablet.locator(f'a.table[data-name="{table}"]').click()
    tablet.locator(f'button.cover[value="{covers}"]').click()
    tablet.wait_for_url(re.compile(r".*/checks/\d+$"))


def _money(text: str) -> int:
    match = re.search(r"€([\d,]+)\.(\d\d)", text)
    assert match, text
    return int(match.group(1).replace(",", "")) * 100 + int(match.group(2))


def test_unsent_dessert_is_named_before_payment_then_an_item_is_comped_and_another_discounted(
    tablet: Page, live_server: str
) -> None:
    assert tablet.viewport_size == TABLET
    log_in(tablet, live_server, "1111")
    _seat(tablet, live_server, "3", 2)
    _ring_in(tablet, "1", "Spaghetti Carbonara")
    _ring_in(tablet, "2", "Mushroom Risotto")
    tablet.locator("button.btn-send").click()
    expect(tablet.locator("#check-panel .line-state", has_text="sent")).to_have_count(2)
    _ring_in(tablet, "1", "Tiramisu")
    tablet.locator("a.btn-pay").click()

    alert = tablet.get_by_role("alert", name="Items not sent to the kitchen")
    expect(alert).to_contain_text("1 item never went to the kitchen: Tiramisu")
    expect(alert.get_by_role("button", name="Send to the kitchen")).to_be_visible()
    expect(alert.get_by_role("button", name="Void it")).to_be_visible()
    screenshot(tablet, "settle-unsent-dessert-1024x768")
    tablet.get_by_role("button", name="Card", exact=True).click()
    expect(tablet.locator("#flash")).to_contain_text("never went to the kitchen: Tiramisu")
    expect(tablet.locator(".payment")).to_have_count(0)
    alert.get_by_role("button", name="Send to the kitchen").click()
    expect(tablet.locator("#flash")).to_contain_text("Sent 1 item to the kitchen")
    expect(tablet.get_by_role("alert", name="Items not sent to the kitchen")).to_have_count(0)

    total = _money(tablet.locator("tr.grand td").inner_text())
    carbonara = tablet.locator(".bill-line", has_text="Spaghetti Carbonara")
    price = _money(carbonara.locator(".amount").inner_text())
    carbonara.get_by_text("Comp or discount").click()
    comp = carbonara.locator(".comp-form")
    comp.get_by_label("Reason", exact=True).select_option("Food quality")
    comp.get_by_label("Manager PIN").fill(MANAGER_PIN)
    screenshot(tablet, "settle-comp-one-item-1024x768")
    version = tablet.locator("#settle").get_attribute("data-version") or ""
    comp.get_by_role("button", name="Comp item").click()
    expect(tablet.locator("#settle")).not_to_have_attribute("data-version", version)
    expect(tablet.locator("#flash")).to_contain_text("omp")
    carbonara = tablet.locator(".bill-line", has_text="Spaghetti Carbonara")
    expect(carbonara).to_contain_text("Comp · Food quality")
    expect(tablet.locator("tr.grand td")).not_to_have_text(re.compile(re.escape(f"{total / 100:.2f}")))
    assert _money(tablet.locator("tr.grand td").inner_text()) <= total - price, "the item and its tax come off"

    risotto = tablet.locator(".bill-line", has_text="Mushroom Risotto")
    risotto.get_by_text("Comp or discount").click()
    discount = risotto.locator(".discount-form")
    discount.get_by_label("Discount", exact=True).fill("15")
    discount.get_by_label("Reason", exact=True).select_option("Loyalty")
    discount.get_by_label("Manager PIN").fill(MANAGER_PIN)
    discount.get_by_role("button", name="Discount item").click()
    expect(tablet.locator("#flash")).to_contain_text("Discount given")
    risotto = tablet.locator(".bill-line", has_text="Mushroom Risotto")
    expect(risotto.locator(".tag-discount")).to_contain_text("Loyalty")
    screenshot(tablet, "settle-item-comped-and-discounted-1024x768")
    tablet.get_by_role("button", name="Card", exact=True).click()
    expect(tablet.locator("#flash")).to_contain_text("Check closed")


def test_a_split_four_top_stays_four_covers_and_is_cleared_only_after_its_last_check(
    tablet: Page, live_server: str
) -> None:
    log_in(tablet, live_server, "1111")
    _seat(tablet, live_server, "4", 4)
    # Seat 4 orders nothing: that guest stays on the first check.
    for seat, name in (("1", "Spaghetti Carbonara"), ("2", "Mushroom Risotto"), ("3", "Tiramisu")):
        _ring_in(tablet, seat, name)
    tablet.locator("button.btn-send").click()
    expect(tablet.locator("#check-panel .line-state", has_text="sent")).to_have_count(3)
    tablet.locator("a.btn-pay").click()
    tablet.locator("a.btn", has_text="Split").click()
    tablet.locator("button", has_text="By seat").click()
    expect(tablet.locator(".split-column")).to_have_count(3)

    tablet.goto(f"{live_server}/floor")
    meta = tablet.locator('a.table[data-name="4"] .table-meta')
    expect(meta).to_contain_text(re.compile(r"^\s*4p"))
    screenshot(tablet, "floor-split-four-top-four-covers-1024x768")

    tablet.locator('a.table[data-name="4"]').click()
    tablet.get_by_role("link", name=re.compile(r"Open check #\d+ \(1 cover\)")).first.click()
    tablet.wait_for_url(re.compile(r".*/checks/\d+$"))
    tablet.locator("a.btn-pay").click()
    tablet.get_by_role("button", name="Card", exact=True).click()
    expect(tablet.locator("#flash")).to_contain_text("Check closed")
    expect(tablet.get_by_role("button", name="Table 4 cleared")).to_have_count(0)
    expect(tablet.locator(".pay")).to_contain_text("open; clear the table once the last check is paid")
    screenshot(tablet, "paid-split-check-table-not-cleared-yet-1024x768")

    while tablet.locator(".family-tab.status-open").count():
        tablet.locator(".family-tab.status-open").first.click()
        expect(tablet.locator("#settle .due")).to_contain_text("Due")
        tablet.get_by_role("button", name="Card", exact=True).click()
        expect(tablet.locator("#flash")).to_contain_text("Check closed")
    tablet.get_by_role("button", name="Table 4 cleared").click()
    expect(tablet.locator("#flash")).to_contain_text("free again")
