"""A manager's tablet through a check paid in cash and the reports, with the browser console watched: no errors,
no failed requests (the site icon included), no htmx selector without a match."""

from __future__ import annotations

import re

from playwright.sync_api import ConsoleMessage, Page, Request, Response, expect

from tests.e2e.conftest import log_in, screenshot

TABLE = "5"
DISH = "Spaghetti Carbonara"


class Console:
    """What went wrong in the page: console errors and warnings, failed or refused requests."""

    def __init__(self, page: Page) -> None:
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text}")

    def _failed(self, request: Request) -> None:
        self.problems.append(f"failed: {request.method} {request.url} ({request.failure})")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.problems.append(f"{response.status}: {response.request.method} {response.url}")


def _chart_text_px(page: Page) -> list[float]:
    """The size each chart label is drawn at on this screen: its font size times its chart's scale."""
    sizes: list[float] = page.evaluate(
        """() => Array.from(document.querySelectorAll("svg.chart text")).map(
            (text) => parseFloat(getComputedStyle(text).fontSize) * text.ownerSVGElement.getScreenCTM().a)"""
    )
    return sizes


def test_the_settle_page_and_the_reports_leave_the_console_clean_and_read_at_tablet_size(
    tablet: Page, live_server: str
) -> None:
    console = Console(tablet)
    log_in(tablet, live_server, "9999")
    tablet.goto(f"{live_server}/closes/drawers")
    tablet.get_by_role("button", name="Open drawer").click()
    expect(tablet.locator("#drawers")).to_contain_text("float €200.00")

    tablet.goto(f"{live_server}/floor")
    tablet.locator(f'a.table[data-name="{TABLE}"]').click()
    tablet.locator('button.cover[value="2"]').click()
    tablet.wait_for_url(re.compile(r".*/checks/\d+$"))
    grid = tablet.locator(".item-grid", has=tablet.locator(f'.item-name:text-is("{DISH}")'))
    tablet.locator(f'button.cat[data-cat="{grid.get_attribute("data-cat")}"]').click()
    tablet.locator("button.item", has=tablet.locator(f'.item-name:text-is("{DISH}")')).click()
    expect(tablet.locator("#check-panel .line-name", has_text=DISH)).to_have_count(1)
    tablet.get_by_role("button", name=re.compile(r"^Send")).click()
    expect(tablet.locator("#check-panel .line-state", has_text="sent")).to_have_count(1)

    tablet.get_by_role("link", name="Pay / Split").click()
    expect(tablet.locator("#settle")).to_be_visible()
    tablet.wait_for_load_state("networkidle")
    tablet.get_by_role("button", name=re.compile(r"^Exact ")).click()
    expect(tablet.locator("#flash")).to_contain_text("Check closed")
    tablet.wait_for_load_state("networkidle")
    screenshot(tablet, "settle-paid-in-cash-console-clean-1024x768")

    # The close posts through the outbox a moment after the check closes; the reports read the posting.
    for _ in range(50):
        tablet.goto(f"{live_server}/reports")
        if tablet.locator(".bo-summary .tile", has_text="Net sales").get_by_text("€17.50").count():
            break
        tablet.wait_for_timeout(200)
    for path, heading in (("/reports", "Net sales by hour"), ("/reports/z", "Z report")):
        tablet.goto(f"{live_server}{path}")
        expect(tablet.get_by_text(heading).first).to_be_visible()
        tablet.wait_for_load_state("networkidle")
        sizes = _chart_text_px(tablet)
        assert sizes, path
        assert min(sizes) >= 13.5, f"chart text on {path} is drawn at {min(sizes):.1f} px"
        if path == "/reports":
            hours = tablet.get_by_role("img", name="Net sales by hour")
            expect(hours.locator("text.v")).to_have_count(1)
            expect(hours.locator("text.v")).to_have_text("17.50")
            screenshot(tablet, "reports-charts-1024x768")
    assert console.problems == []
    icon = tablet.request.get(f"{live_server}/favicon.ico")
    assert icon.status == 200, "browsers that ask the root for the icon get it too"
