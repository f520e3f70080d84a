"""On a tablet at 1024 x 768: a manager opens a house account, a check is charged to it, and its customer invoice
is issued and viewed, with its PDF."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import TABLET, log_in, screenshot


def _ring_in(tablet: Page, name: str) -> None:
    grid = tablet.locator(".item-grid", has=tablet.locator(f'.item-name:text-is("{name}")'))
    tablet.locator(f'button.cat[data-cat="{grid.get_attribute("data-cat")}"]').click()
    tablet.locator("button.item", has=tablet.locator(f'.item-name:text-is("{name}")')).click()
    expect(tablet.locator("#check-panel .line-name", has_text=name)).to_have_count(1)


def test_a_check_charged_to_a_house_account_gets_its_invoice(tablet: Page, live_server: str) -> None:
    assert tablet.viewport_size == TABLET
    log_in(tablet, live_server, "9999")

    tablet.goto(f"{live_server}/manage/house-accounts")
    tablet.get_by_text("+ Open a house account").click()
    form = tablet.locator("#new-house-account form")
    form.get_by_label("Account name").fill("Harbour Shipping Ltd")
    form.get_by_label("Credit limit").fill("500.00")
    form.get_by_label("Contact").fill("Accounts desk")
    form.get_by_label("VAT number").fill("GB123456789")
    form.get_by_label("Billing address").fill("1 Quay Road\nPortsmouth PO1 3AA")
    form.get_by_role("button", name="Open account").click()
    expect(tablet.locator("#house-accounts")).to_contain_text("House account Harbour Shipping Ltd opened.")
    screenshot(tablet, "house-accounts-list-1024x768")

    tablet.goto(f"{live_server}/floor")
    tablet.locator('a.table[data-name="4"]').click()
    tablet.locator('button.cover[value="2"]').click()
    tablet.wait_for_url(re.compile(r".*/checks/\d+$"))
    _ring_in(tablet, "Spaghetti Carbonara")
    _ring_in(tablet, "Mushroom Risotto")
    tablet.locator("button.btn-send").click()
    expect(tablet.locator("#check-panel .line-state", has_text="sent")).to_have_count(2)
    tablet.locator("a.btn-pay").click()

    choice = tablet.get_by_label("House account (charge account)")
    expect(choice).to_be_visible()
    tablet.get_by_role("button", name="House account", exact=True).click()
    expect(tablet.locator("#flash")).to_contain_text("Choose the house account to charge. Nothing was charged.")
    choice.select_option(label="Harbour Shipping Ltd · €500.00 left")
    screenshot(tablet, "settle-house-account-chosen-1024x768")
    tablet.get_by_role("button", name="House account", exact=True).click()
    expect(tablet.locator("#flash")).to_contain_text("Check closed.")
    expect(tablet.locator(".payment")).to_contain_text("House account")
    screenshot(tablet, "settle-charged-to-house-account-1024x768")

    tablet.get_by_role("link", name="Customer invoice…").click()
    expect(tablet.get_by_label("Company name")).to_have_value("Harbour Shipping Ltd")
    expect(tablet.get_by_label("Address")).to_have_value("1 Quay Road\nPortsmouth PO1 3AA")
    screenshot(tablet, "invoice-issue-form-1024x768")
    tablet.get_by_role("button", name="Issue invoice").click()
    tablet.wait_for_url(re.compile(r".*/invoices/\d+$"))
    expect(tablet.locator("h2")).to_contain_text("Invoice INV-000001")
    expect(tablet.locator("body")).to_contain_text("Harbour Shipping Ltd")
    expect(tablet.locator("body")).to_contain_text("VAT GB123456789")
    expect(tablet.locator("tbody tr")).to_have_count(2)
    screenshot(tablet, "invoice-view-1024x768")
    tablet.evaluate("window.print = () => { document.body.dataset.printed = 'yes'; }")
    tablet.get_by_role("link", name="Print").click()
    expect(tablet.locator("body")).to_have_attribute("data-printed", "yes")
    pdf = tablet.request.get(tablet.url + "/pdf")
    assert pdf.ok
    assert pdf.body().startswith(b"%PDF")

    tablet.goto(f"{live_server}/manage/house-accounts")
    expect(tablet.locator("table.house-accounts")).to_contain_text("Harbour Shipping Ltd")
    tablet.get_by_role("link", name="Harbour Shipping Ltd").click()
    expect(tablet.locator("table.statement")).to_contain_text("Charge · check #")
    screenshot(tablet, "house-account-statement-1024x768")
