"""Course pacing on a 1024 x 768 tablet: pace the mains from the check, see when they fire, push them back."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in, screenshot


def test_a_server_paces_the_mains_and_sees_when_they_fire(tablet: Page, live_server: str) -> None:
    log_in(tablet, live_server, "1111")
    tablet.goto(f"{live_server}/floor")
    tablet.locator('.table[data-name="14"]').tap()
    tablet.locator('.covers-grid button[value="2"]').tap()
    tablet.wait_for_url("**/checks/*")
    panel = tablet.locator("#check-panel")
    tablet.locator(".cat", has_text="Starters").tap()
    tablet.locator(".item-grid.active .item", has_text="Soup of the Day").first.tap()
    expect(panel.locator(".line", has_text="Soup of the Day")).to_be_visible()
    tablet.locator(".cat", has_text="Pasta").tap()
    tablet.locator(".item-grid.active .item", has_text="Spaghetti Carbonara").first.tap()
    expect(panel.locator(".line", has_text="Carbonara")).to_be_visible()

    mains = panel.locator(".course-mains")
    mains.locator("summary", has_text="Pace").tap()
    form = mains.locator(".pace-form")
    expect(form).to_be_visible()
    form.get_by_label("some minutes after the course before is fired").check()
    form.get_by_label("Minutes to wait, or to eat the course before").fill("10")
    screenshot(tablet, "pacing-01-pace-mains-1024x768")
    box = form.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 1024, "the pace form stays on the screen"
    form.get_by_role("button", name="Pace mains").tap()

    expect(mains.locator(".course-pacing")).to_have_text("Fires 10 min after starters are fired")
    expect(panel.locator(".line.state-held")).to_have_count(1)
    panel.locator(".btn-send").tap()
    expect(tablet.locator("#flash")).to_contain_text("Sent to the kitchen: Starters.")
    expect(mains.locator(".course-pacing")).to_have_text(re.compile(r"^Fires at \d\d:\d\d · 10 min after starters"))
    mains.get_by_role("button", name="Push Mains back 5 minutes").tap()
    expect(mains.locator(".course-pacing")).to_contain_text("(+5 min)")
    screenshot(tablet, "pacing-02-mains-fire-at-1024x768")
