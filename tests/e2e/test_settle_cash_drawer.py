"""The settle page says, next to Cash, that no drawer is open to take it, and where a manager opens one."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import TABLET, log_in, screenshot


def test_with_no_drawer_open_the_settle_page_says_so_beside_cash_until_a_manager_opens_one(
    tablet: Page, live_server: str
) -> None:
    assert tablet.viewport_size == TABLET
    log_in(tablet, live_server, "1111")
    tablet.goto(f"{live_server}/floor")
    tablet.locator('a.table[data-name="4"]').click()
    tablet.locator('button.cover[value="2"]').click()
    tablet.wait_for_url(re.compile(r".*/checks/\d+$"))
    grid = tablet.locator(".item-grid", has=tablet.locator('.item-name:text-is("Spaghetti Carbonara")'))
    tablet.locator(f'button.cat[data-cat="{grid.get_attribute("data-cat")}"]').click()
    tablet.locator("button.item", has=tablet.locator('.item-name:text-is("Spaghetti Carbonara")')).click()
    tablet.locator("button.btn-send").click()
    expect(tablet.locator("#check-panel .line-state", has_text="sent")).to_have_count(1)
    settle = tablet.url + "/settle"
    tablet.goto(settle)

    notice = tablet.get_by_role("status").filter(has_text="No cash drawer is open")
    expect(notice).to_have_text("No cash drawer is open — a manager opens one on Close → Cash drawers.")
    expect(tablet.get_by_role("button", name="Cash", exact=True)).to_have_accessible_description(
        re.compile("No cash drawer is open")
    )
    box = notice.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= TABLET["width"], "the notice fits the tablet"
    screenshot(tablet, "settle-no-cash-drawer-1024x768")

    log_in(tablet, live_server, "9999")
    tablet.goto(live_server + "/closes/drawers")
    tablet.get_by_role("button", name="Open drawer").click()
    expect(tablet.locator("#drawers")).to_contain_text("Main")
    tablet.goto(settle)
    expect(tablet.get_by_role("button", name="Cash", exact=True)).to_be_visible()
    expect(tablet.get_by_text("No cash drawer is open")).to_have_count(0)
