"""A manager on a tablet turns the suggested order into a purchase order, sends it, receives part of it and sees
where it stands, with the supplier's payable on the orders page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import TABLET, log_in, screenshot
from tests.e2e.test_console_clean import Console


def test_a_manager_sends_an_edited_suggestion_and_receives_part_of_it(tablet: Page, live_server: str) -> None:
    console = Console(tablet)
    log_in(tablet, live_server, "9999")
    tablet.goto(f"{live_server}/purchasing/suggest")
    assert tablet.viewport_size == TABLET
    tablet.locator("select[name=supplier]").select_option(label="Northside Wine & Spirits")
    expect(tablet.get_by_label("Packs of Gin")).to_be_visible()
    tablet.locator("select[name=location]").select_option(label="Bar")
    expect(tablet.locator("select[name=location]")).to_have_value(re.compile(r"\d+"))
    tablet.wait_for_load_state("networkidle")
    gin = tablet.get_by_label("Packs of Gin")
    expect(gin).to_have_value("0")  # the bar holds 7 l of gin, above its par on any day of delivery
    gin.fill("3")
    tablet.get_by_label("Packs of Sweet vermouth").fill("1")
    screenshot(tablet, "purchasing-suggested-order-1024x768")

    tablet.get_by_role("button", name="Send purchase order").click()
    tablet.wait_for_url(re.compile(r"/purchasing/orders/\d+$"))
    expect(tablet.locator("#po-status")).to_have_text("Sent")
    expect(tablet.locator(".po-lines")).to_contain_text("6 x 700 ml")
    number = tablet.locator("h1").inner_text().split(" ")[0]

    tablet.get_by_label("Packs received of Gin").fill("2")
    tablet.get_by_label("Invoice total for Gin").fill("196.00")
    tablet.get_by_label("Delivery note").fill("DN-88")
    tablet.get_by_role("button", name="Receive delivery").click()
    expect(tablet.locator(".flash-info")).to_contain_text("the invoice differs from the order by €4.00")
    expect(tablet.locator("#po-status")).to_have_text("Partly received")
    expect(tablet.locator(".po-receipts")).to_contain_text("price +€4.00")
    row = tablet.get_by_role("row", name=re.compile(r"^Sweet vermouth"))
    expect(row).to_contain_text("4,500")  # still to come: the whole case
    screenshot(tablet, "purchasing-partly-received-1024x768")

    tablet.goto(f"{live_server}/purchasing")
    order_row = tablet.locator(".po-orders tbody tr", has_text=number)
    expect(order_row).to_contain_text("Partly received")
    for _ in range(20):  # the ledger posts the receipt from the outbox a moment after it is booked
        if tablet.locator(".bo-summary").filter(has_text="owed to Northside").count():
            break
        tablet.wait_for_timeout(250)
        tablet.reload()
    expect(tablet.locator(".bo-summary")).to_contain_text("€196.00")
    for tab in tablet.locator(".po-tabs a").all():
        box = tab.bounding_box()
        assert box is not None
        assert box["height"] >= 44, "touch targets are at least 44 px"
    screenshot(tablet, "purchasing-orders-1024x768")

    tablet.goto(
        f"{live_server}/purchasing/orders/{order_row.locator('a').first.get_attribute('href').rsplit('/', 1)[-1]}/print"
    )  # type: ignore[union-attr]
    expect(tablet.locator("h1")).to_have_text(f"Purchase order {number}")
    expect(tablet.locator("tfoot")).to_contain_text("€342.00")
    screenshot(tablet, "purchasing-printed-order-1024x768")

    tablet.goto(f"{live_server}/purchasing/suppliers")
    expect(tablet.locator(".po-supplier").first).to_contain_text("Greenfield Produce")
    expect(tablet.locator("#suppliers")).to_contain_text("5,000 g")  # a 5 kg sack of tomatoes, in grams
    screenshot(tablet, "purchasing-suppliers-1024x768")
    assert console.problems == [], "no console errors, refused styles or failed requests on the way"
