"""A server logs in on a tablet with the PIN pad."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import TABLET, log_in, screenshot


def test_a_server_logs_in_with_pin_1111_on_a_tablet(tablet: Page, live_server: str) -> None:
    tablet.goto(f"{live_server}/login")
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
