"""A manager ends a simulated service day on a tablet: checkouts, the drawer count, the close, the Z report, reports."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import TABLET, DemoFolder, log_in, screenshot, server_env
from tests.support.servers import free_port


@pytest.fixture(scope="module")
def served_day(tmp_path_factory: pytest.TempPathFactory, demo_folder: DemoFolder) -> Iterator[str]:
    """A server whose demo restaurant has served a simulated day (30 checks), not yet closed."""
    var = tmp_path_factory.mktemp("close-day-var")
    env = server_env(var)
    demo_folder.copy_to(var)
    brigade = [sys.executable, "-m", "app"]
    subprocess.run([*brigade, "simulate", "--checks", "30"], env=env, check=True, capture_output=True, timeout=300)
    port = free_port()
    log = (var / "server.log").open("w")
    process = subprocess.Popen([*brigade, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"server did not start: {(var / 'server.log').read_text()}") from None
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)
    log.close()


def test_a_manager_checks_everyone_out_counts_the_drawer_and_closes_the_day(tablet: Page, served_day: str) -> None:
    log_in(tablet, served_day, "9999")
    assert tablet.viewport_size == TABLET
    tablet.goto(f"{served_day}/closes/day")
    blockers = tablet.locator("#blockers")
    expect(blockers).to_contain_text("Drawer Main is still open; count it")
    expect(blockers).to_contain_text("has not checked out")
    screenshot(tablet, "close-day-blocked-1024x768")
    tablet.locator("button", has_text="Close").last.click()
    expect(tablet.locator(".flash-error")).to_contain_text("cannot close yet")

    while tablet.locator("a", has_text="Check out").count():
        tablet.locator("a", has_text="Check out").first.click()
        tablet.locator("input[name=cash_tips]").fill("4.50")
        tablet.locator("#checkout button", has_text="Check out").click()
        expect(tablet.locator("#checkout .flash")).to_contain_text("Checked out")
        tablet.goto(f"{served_day}/closes/day")
    screenshot(tablet, "close-day-checkouts-1024x768")

    tablet.goto(f"{served_day}/closes/drawers")
    expected = tablet.locator(".drawer.open .bo-facts dd").first.inner_text()
    counted = f"{float(expected.replace('€', '').replace(',', '')) - 5:.2f}"
    tablet.locator(".drawer.open input[name=counted]").fill(counted)
    tablet.locator(".drawer.open button", has_text="Count and close").click()
    expect(tablet.locator("#drawers .flash")).to_contain_text("short by 5.00")
    screenshot(tablet, "close-day-drawer-counted-1024x768")

    tablet.goto(f"{served_day}/closes/day")
    expect(tablet.locator(".ok")).to_contain_text("The day can close")
    tablet.locator("button", has_text="Close").last.click()
    expect(tablet.locator("#day .flash")).to_contain_text("is closed")
    screenshot(tablet, "close-day-closed-1024x768")

    tablet.locator("a", has_text="Z report").last.click()
    expect(tablet.locator(".z-paper")).to_contain_text("Net sales")
    expect(tablet.locator(".z-paper")).to_contain_text("-€5.00")
    expect(tablet.locator(".bo-head")).to_contain_text("closed and locked")
    screenshot(tablet, "z-report-1024x768")


def test_the_reports_draw_their_charts_on_a_tablet(tablet: Page, served_day: str) -> None:
    log_in(tablet, served_day, "9999")
    for path, name, text in (
        ("/reports", "report-sales", "Net sales by hour"),
        ("/reports/adjustments", "report-adjustments", "By reason"),
        ("/reports/kitchen", "report-ticket-times", "Average, fire to bump"),
        ("/reports/stock", "report-stock", "Value by location"),
    ):
        tablet.goto(f"{served_day}{path}")
        expect(tablet.locator("figure").first).to_be_visible()
        expect(tablet.locator("body")).to_contain_text(text)
        assert tablet.locator("svg.chart").count() >= 1
        screenshot(tablet, f"{name}-1024x768")
