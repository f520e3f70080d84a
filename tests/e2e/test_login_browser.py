"""A server logs in on a tablet with the PIN pad."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import TABLET, enrol, log_in, screenshot, tap_pin


def test_a_server_logs_in_with_pin_1111_on_a_tablet(tablet: Page, live_server: str) -> None:
    enrol(tablet, live_server)
    assert tablet.viewport_size == TABLET
    keys = tablet.locator("button.key")
    for index in range(keys.count()):
        box = keys.nth(index).bounding_box()
        assert box is not None
        assert box["height"] >= 44, "touch targets are at least 44 px"
        assert box["width"] >= 44, "touch targets are at least 44 px"
    screenshot(tablet, "login-pinpad-1024x768")
    log_in(tablet, live_server, "1111")
    expect(tablet.locator(".topbar .who")).to_contain_text("Lena Brooks")
    screenshot(tablet, "after-login-1024x768")


def test_a_wrong_pin_says_so_on_the_pad(tablet: Page, live_server: str) -> None:
    log_in(tablet, live_server, "0001")
    expect(tablet.locator(".pin-message")).to_have_text("Wrong PIN.")
    screenshot(tablet, "wrong-pin-1024x768")


def test_a_new_tablet_is_enrolled_with_the_managers_pin_before_staff_pins_work(
    tablet: Page, live_server: str, browser: Browser
) -> None:
    tablet.goto(f"{live_server}/login")
    expect(tablet.get_by_text("This device is not enrolled — a manager enters their PIN to enrol it")).to_be_visible()
    screenshot(tablet, "enrol-device-1024x768")
    tablet.get_by_label("Device name").fill("Patio tablet")
    tap_pin(tablet, "1111")
    tablet.get_by_role("button", name="Enrol").click()
    expect(tablet.get_by_role("alert")).to_contain_text("not a manager")
    tablet.get_by_role("button", name="Clear").click()
    tap_pin(tablet, "9999")
    tablet.get_by_role("button", name="Enrol").click()
    expect(tablet.get_by_text("Patio tablet")).to_be_visible()
    expect(tablet.get_by_label("Device name")).to_have_count(0)
    tap_pin(tablet, "9999")
    tablet.get_by_role("button", name="Enter").click()
    tablet.goto(f"{live_server}/manage/devices")
    row = tablet.get_by_role("row").filter(has_text="Patio tablet")
    expect(row).to_contain_text("Nora Vance")
    expect(row).to_contain_text("127.0.0.1")
    screenshot(tablet, "devices-1024x768")

    # A second browser on the same tablet stand: revoking the patio tablet logs it out, the PIN pad asks again.
    other = browser.new_context(viewport=TABLET, has_touch=True).new_page()
    log_in(other, live_server, "9999")
    other.goto(f"{live_server}/manage/devices")
    other.once("dialog", lambda dialog: dialog.accept())
    other.get_by_role("button", name="Revoke Patio tablet").click()
    expect(other.get_by_role("row").filter(has_text="Patio tablet")).to_contain_text("revoked")
    tablet.goto(f"{live_server}/floor")
    expect(tablet.get_by_text("revoked — a manager enters their PIN to enrol it again")).to_be_visible()
    other.context.close()
