"""A happy hour at tablet size: the manager sets it up on its page, the server sees its price on the line as the
item is rung in, on the settle page, and the guest check and the receipt printed for the guest carry it."""

from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import TABLET, LiveServer, log_in, screenshot


def _printed(server: LiveServer, needle: str, times: int = 1) -> str:
    """What the bar's receipt printer (a file spool in the demo) has printed, once `needle` is on it `times`."""
    spool = Path(server.var_dir) / "spool" / "bar.bin"
    deadline = time.monotonic() + 20
    while True:
        text = spool.read_bytes().decode("cp858", errors="replace") if spool.exists() else ""
        if text.count(needle) >= times or time.monotonic() > deadline:
            return text
        time.sleep(0.2)


def test_a_happy_hour_price_is_on_the_line_the_settle_page_and_the_receipt(
    tablet: Page, live_server: LiveServer
) -> None:
    assert tablet.viewport_size == TABLET
    log_in(tablet, live_server, "9999")
    tablet.goto(f"{live_server}/manage/promotions")
    tablet.locator("#new-promotion summary").click()
    form = tablet.locator("#new-promotion form")
    form.get_by_role("textbox", name="Name").fill("Happy hour")
    form.locator('select[name="kind"]').select_option("percent")
    form.get_by_role("textbox", name="Percent off").fill("50")
    form.locator('select[name="category_id"]').select_option(label="Cocktails")
    # every day, all day: the rule runs whenever the test does
    screenshot(tablet, "promotions-new-happy-hour-1024x768")
    form.get_by_role("button", name="Add promotion").click()
    expect(tablet.locator("#promotions .flash")).to_contain_text("Added Happy hour.")
    row = tablet.locator("#promotions details.editor", has_text="Happy hour")
    expect(row).to_contain_text("-50 %")
    expect(row).to_contain_text("Every day, all day")
    expect(row.locator(".pill", has_text="running now")).to_be_visible()
    screenshot(tablet, "promotions-list-1024x768")

    tablet.context.clear_cookies()
    log_in(tablet, live_server, "1111")
    tablet.goto(f"{live_server}/floor")
    tablet.locator('a.table[data-name="5"]').click()
    tablet.locator('button.cover[value="2"]').click()
    tablet.wait_for_url(re.compile(r".*/checks/\d+$"))
    grid = tablet.locator(".item-grid", has=tablet.locator('.item-name:text-is("Espresso Martini")'))
    tablet.locator(f'button.cat[data-cat="{grid.get_attribute("data-cat")}"]').click()
    tablet.locator("button.item", has=tablet.locator('.item-name:text-is("Espresso Martini")')).click()
    line = tablet.locator("#check-panel li", has=tablet.locator('.line-name:text-is("Espresso Martini")'))
    expect(line.locator(".line-promo")).to_have_text(re.compile(r"Happy hour\s*\u2212€6\.25"))
    expect(line.locator(".line-amount")).to_contain_text("€6.25")
    expect(line.locator(".line-amount s")).to_have_text("€12.50")
    screenshot(tablet, "promotion-on-the-line-1024x768")

    tablet.locator("button.btn-send").click()
    expect(tablet.locator("#check-panel .line-state", has_text="sent")).to_have_count(1)
    tablet.locator("a.btn-pay").click()
    bill_line = tablet.locator(".bill-line", has_text="Espresso Martini")
    expect(bill_line.locator(".tag-promo")).to_contain_text("Happy hour")
    expect(tablet.locator("table.totals")).to_contain_text("Promotions")
    screenshot(tablet, "promotion-on-the-settle-page-1024x768")
    # the guest check brought to the table, then the receipt, both carry it
    tablet.get_by_role("button", name="Print check").click()
    guest_check = _printed(live_server, "Happy hour -€6.25")
    assert "Espresso Martini" in guest_check
    assert "Happy hour -€6.25" in guest_check, guest_check
    assert "Promotions (Happy hour)" in guest_check, guest_check
    tablet.get_by_role("button", name="Card", exact=True).click()
    expect(tablet.locator("#flash")).to_contain_text("Check closed")
    tablet.get_by_role("button", name="Print receipt").click()
    expect(tablet.locator("#flash")).to_contain_text(re.compile("eceipt"))
    printed = _printed(live_server, "Happy hour -€6.25", times=2)
    assert printed.count("Happy hour -€6.25") == 2, printed
    assert printed.count("Promotions (Happy hour)") == 2, printed
