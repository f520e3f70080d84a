"""Gift cards on a tablet: a server sells a card, the guest pays for it, and it pays part of another table's check."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import TABLET, log_in, screenshot


def _seat(tablet: Page, url: str, table: str, covers: int) -> None:
    tablet.goto(f"{url}/floor")
    tablet.locator(f'a.table[data-name="{table}"]').click()
    tablet.locator(f'button.cover[value="{covers}"]').click()
    tablet.wait_for_url(re.compile(r".*/checks/\d+$"))


def test_a_card_sold_and_paid_for_pays_part_of_another_check_and_shows_what_it_has_left(
    tablet: Page, live_server: str
) -> None:
    assert tablet.viewport_size == TABLET
    log_in(tablet, live_server, "1111")
    _seat(tablet, live_server, "4", 1)
    tablet.locator("a.btn-pay").click()
    tablet.get_by_role("link", name="Gift card").click()
    tablet.get_by_role("button", name="€50.00").click()
    expect(tablet.locator("#flash")).to_contain_text("for €50.00 is on the check")
    card = tablet.locator(".gc-card")
    expect(card).to_contain_text("Not paid yet")
    expect(card.locator(".gc-qr svg")).to_be_visible()
    number = re.sub(r"\s", "", card.locator(".gc-number").inner_text())
    assert len(number) == 16
    screenshot(tablet, "gift-card-sold-1024x768")

    tablet.get_by_role("link", name="Back to the check").click()
    expect(tablet.locator(".bill-line", has_text="Gift card")).to_contain_text("€50.00")
    tablet.get_by_label("Amount").fill("50.00")
    tablet.get_by_role("button", name="Card", exact=True).click()
    expect(tablet.locator("#flash")).to_contain_text("Check closed")
    tablet.get_by_role("link", name="Gift card").click()
    expect(tablet.locator(".gc-card")).to_contain_text("Active")
    expect(tablet.locator(".gc-card")).to_contain_text("Balance €50.00")
    screenshot(tablet, "gift-card-active-1024x768")

    _seat(tablet, live_server, "6", 2)
    grid = tablet.locator(".item-grid", has=tablet.locator('.item-name:text-is("Spaghetti Carbonara")'))
    tablet.locator(f'button.cat[data-cat="{grid.get_attribute("data-cat")}"]').click()
    tablet.locator("button.item", has=tablet.locator('.item-name:text-is("Spaghetti Carbonara")')).click()
    expect(tablet.locator("#check-panel .line-name", has_text="Spaghetti Carbonara")).to_have_count(1)
    tablet.locator("button.btn-send").click()
    expect(tablet.locator("#check-panel .line-state", has_text="sent")).to_have_count(1)
    tablet.locator("a.btn-pay").click()

    tablet.get_by_label("Amount").fill("10.00")
    tablet.get_by_label("Gift card number").fill(" ".join(number[i : i + 4] for i in range(0, 16, 4)))
    screenshot(tablet, "gift-card-pay-1024x768")
    tablet.get_by_role("button", name="Gift card", exact=True).click()
    expect(tablet.locator("#flash")).to_contain_text(f"Gift card •••• {number[-4:]} has €40.00 left.")
    expect(tablet.locator(".payment", has_text="Gift card")).to_contain_text("€10.00")
    screenshot(tablet, "gift-card-paid-part-1024x768")

    due = tablet.get_by_label("Amount").input_value()
    left = 4000 - round(float(due) * 100)
    tablet.get_by_label("Gift card number").fill(number)
    tablet.get_by_role("button", name="Gift card", exact=True).click()
    expect(tablet.locator("#flash")).to_contain_text("Check closed.")
    expect(tablet.locator("#flash")).to_contain_text(f"has €{left // 100}.{left % 100:02d} left.")
    expect(tablet.locator(".payment", has_text="Gift card")).to_have_count(2)
    screenshot(tablet, "gift-card-paid-rest-1024x768")

    tablet.goto(f"{live_server}/gift-cards")
    tablet.get_by_label("Card number").fill(number)
    tablet.get_by_role("button", name="Look up").click()
    expect(tablet.locator(".gc-left")).to_contain_text(f"€{left // 100}.{left % 100:02d}")
    expect(tablet.locator(".gc-result tbody tr")).to_have_count(3)
    screenshot(tablet, "gift-card-balance-1024x768")
