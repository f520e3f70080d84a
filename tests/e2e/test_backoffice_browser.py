"""A manager reads the books and the stockroom on a tablet."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import TABLET, log_in, screenshot


def test_a_manager_reads_a_balanced_trial_balance_on_a_tablet(tablet: Page, live_server: str) -> None:
    log_in(tablet, live_server, "9999")
    tablet.goto(f"{live_server}/accounting/trial-balance")
    assert tablet.viewport_size == TABLET
    expect(tablet.locator("#trial-balance")).to_contain_text("balanced")
    expect(tablet.locator("#trial-balance")).to_contain_text("Inventory")
    for tab in tablet.locator(".bo-tabs a").all():
        box = tab.bounding_box()
        assert box is not None
        assert box["height"] >= 44, "touch targets are at least 44 px"
    screenshot(tablet, "trial-balance-1024x768")


def test_a_manager_sees_stock_levels_and_a_low_item_after_a_count(tablet: Page, live_server: str) -> None:
    log_in(tablet, live_server, "9999")
    tablet.goto(f"{live_server}/inventory/count")
    tablet.locator("input[aria-label='Counted Eggs']").fill("12")
    tablet.locator("button", has_text="Post count").click()
    expect(tablet.locator("#count")).to_contain_text("Count posted: 1 item(s) counted")
    tablet.goto(f"{live_server}/inventory")
    expect(tablet.locator(".flash-warn")).to_contain_text("Eggs at Kitchen")
    expect(tablet.locator("tr.low", has_text="Eggs")).to_be_visible()
    screenshot(tablet, "stock-levels-1024x768")
    tablet.goto(f"{live_server}/inventory/valuation")
    expect(tablet.locator(".bo-summary")).to_contain_text("total stock value")
    screenshot(tablet, "stock-valuation-1024x768")
