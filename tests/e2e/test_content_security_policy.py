"""Every main page works under the Content-Security-Policy: no violation, no console error, at tablet size."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.e2e.conftest import TABLET, log_in, screenshot

# Reports every violation to the console as well, so one listener hears both; init scripts run outside the policy.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI} at ${where}`);
});
"""


@pytest.fixture
def watched(tablet: Page) -> tuple[Page, list[str]]:
    """The tablet, and every console error and uncaught exception it logs."""
    problems: list[str] = []

    def heard(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"{tablet.url}: {message.text}")

    tablet.add_init_script(REPORT_VIOLATIONS)
    tablet.on("console", heard)
    tablet.on("pageerror", lambda error: problems.append(f"{tablet.url}: uncaught {error}"))
    return tablet, problems


def _visit(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None, url
    assert response.status == 200, f"{url}: {response.status}"
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self';" in policy, url
    assert "frame-ancestors 'none'" in policy, url
    page.wait_for_load_state("networkidle")


def test_every_main_page_runs_under_the_policy_without_a_console_error(
    watched: tuple[Page, list[str]], live_server: str
) -> None:
    tablet, problems = watched
    assert tablet.viewport_size == TABLET
    log_in(tablet, live_server, "9999")
    assert problems == [], "the login and enrolment pages are clean"

    # The floor, a check with an order sent to the kitchen, its settle and split pages.
    _visit(tablet, f"{live_server}/floor")
    tablet.locator('a.table[data-name="14"]').click()
    tablet.locator('button.cover[value="2"]').click()
    tablet.wait_for_url(re.compile(r".*/checks/\d+$"))
    check_url = tablet.url
    grid = tablet.locator(".item-grid", has=tablet.locator('.item-name:text-is("Spaghetti Carbonara")'))
    tablet.locator(f'button.cat[data-cat="{grid.get_attribute("data-cat")}"]').click()
    tablet.locator("button.item", has=tablet.locator('.item-name:text-is("Spaghetti Carbonara")')).click()
    expect(tablet.locator("#check-panel .line-name", has_text="Spaghetti Carbonara")).to_have_count(1)
    tablet.locator("button.btn-send").click()
    expect(tablet.locator("#check-panel .line-state", has_text="sent")).to_have_count(1)
    tablet.locator('#entry-state input[name="course"]').first.press("Enter")
    assert tablet.url == check_url, "the order bar never submits itself"
    tablet.locator("#flash .flash-close").first.click()
    expect(tablet.locator("#flash .flash")).to_have_count(0)
    screenshot(tablet, "csp-check-1024x768")
    for path in ("/settle", "/split"):
        _visit(tablet, f"{check_url}{path}")

    # The kitchen, the back office (every tile of the landing page), the close and the reports.
    _visit(tablet, f"{live_server}/kds")
    _visit(tablet, f"{live_server}/manage")
    tiles = tablet.locator("main a[href^='/']").evaluate_all("links => links.map(link => link.getAttribute('href'))")
    assert "/manage/devices" in tiles
    for path in [*dict.fromkeys(tiles), "/closes/day", "/closes/drawers", "/closes/checkout", "/reports"]:
        _visit(tablet, f"{live_server}{path}")
        if path == "/manage/modifiers":
            edit = tablet.get_by_role("button", name="Edit").first
            if edit.count():
                edit.click()
                expect(edit).to_have_attribute("aria-expanded", "true")
    screenshot(tablet, "csp-reports-1024x768")
    assert problems == [], "\n".join(problems)
