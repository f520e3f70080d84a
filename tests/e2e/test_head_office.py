"""Head office's pages on a tablet: add a venue, publish the catalog, read the morning check, reconcile, report.

A real head office (`brigade serve`, BRIGADE_ROLE=head_office, on PostgreSQL) and a venue driven with the CLI
as an operator would: it joins with the token the page showed, sells and closes a day, and sends it up. Each page
is screenshot at 1024 x 768 and must fit the screen's width.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import SCREENSHOTS, DemoFolder, log_in, screenshot, server_env
from tests.faults.harness import ROOT, AppServer, app_env
from tests.support.services import PostgresDatabase, postgres_url, require_service


def brigade(env: dict[str, str], *args: str) -> str:
    """Run a `brigade` command; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, f"brigade {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@dataclass
class Group:
    """A head office serving on loopback, and one venue's environment (no server: the CLI sends)."""

    url: str
    venue_env: dict[str, str]
    venue_db: Path

    def closed_day(self) -> str:
        with sqlite3.connect(self.venue_db) as connection:
            return str(connection.execute("SELECT day FROM business_day WHERE status = 'closed'").fetchone()[0])


@pytest.fixture(scope="module")
def group(tmp_path_factory: pytest.TempPathFactory, demo_folder: DemoFolder) -> Iterator[Group]:
    require_service("PostgreSQL", postgres_url())
    tmp = tmp_path_factory.mktemp("head-office")
    # Off this thread: Playwright's browser runs an event loop here, and the database is made with asyncio.
    with ThreadPoolExecutor(max_workers=1) as pool:
        database = pool.submit(
            PostgresDatabase, postgres_url(), f"brigade_ho_e2e_{os.getpid()}", with_tables=False
        ).result()
    try:
        ho_env = app_env(tmp / "ho", database.url, role="head_office", pin_hash_profile="fast")
        venue_var = tmp / "north"
        # Head office gets the demo's menu, chart of accounts, warehouses and manager: the group's own. The venue
        # is the demo restaurant, copied.
        with ThreadPoolExecutor(max_workers=2) as pool:
            head_office_made = pool.submit(lambda: [brigade(ho_env, "db", "upgrade"), brigade(ho_env, "demo")])
            venue_made = pool.submit(demo_folder.copy_to, venue_var)
            head_office_made.result()
            venue_made.result()
        with AppServer(ho_env, tmp / "ho.log") as head_office:
            yield Group(head_office.url, server_env(venue_var), venue_var / "brigade.db")
    finally:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(database.drop).result()


def fits_the_screen(page: Page) -> None:
    """Nothing runs off the right edge of a 1024 px tablet."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} is {overflow} px wider than the screen"


def test_a_manager_runs_the_group_from_head_office_on_a_tablet(group: Group, tablet: Page) -> None:
    log_in(tablet, group.url, "9999")

    # Add a venue: its enrolment token is shown once, with the command to run at the venue.
    tablet.goto(f"{group.url}/manage/venues")
    expect(tablet.get_by_text("No venues yet.").first).to_be_visible()
    expect(tablet.locator("#venue-catalogs")).to_contain_text("No venues yet.")
    screenshot(tablet, "head-office-venues-empty")
    tablet.get_by_label("Code").fill("NORTH")
    tablet.get_by_label("Name", exact=True).fill("Brigade North")
    tablet.get_by_role("button", name="Add venue").click()
    token_card = tablet.locator(".enrolment-token")
    expect(token_card).to_contain_text("shown this once")
    expect(tablet.locator("#venue-catalogs")).to_contain_text("none yet")
    token = token_card.locator("code.token").first.inner_text().strip()
    assert token.startswith("brg_enrol_")
    fits_the_screen(tablet)
    screenshot(tablet, "head-office-venue-token")
    tablet.reload()
    expect(tablet.locator(".enrolment-token")).to_have_count(0)  # once

    # The venue joins with it.
    assert "NORTH" in brigade(group.venue_env, "head-office", "join", group.url, token)
    tablet.goto(f"{group.url}/manage/venues")
    expect(tablet.locator("table.grid").first).to_contain_text("enrolled")

    # The catalog: NORTH sells a dish at its own price, and the menu goes out as release 1.
    tablet.goto(f"{group.url}/manage/catalog")
    expect(tablet.get_by_text("Nothing published yet.")).to_be_visible()
    tablet.get_by_label("SKU").fill("ST-SOU")
    tablet.get_by_label("Own price").fill("7,90")
    tablet.get_by_role("button", name="Save").click()
    expect(tablet.locator("#catalog")).to_contain_text("7.90")
    tablet.get_by_label("Note").fill("NORTH's soup price")
    tablet.get_by_role("button", name="Publish release").click()
    expect(tablet.locator("#catalog .flash")).to_contain_text("Release 1 published")
    # The venue sells a day and closes it; sending it up, it takes release 1 and applies it.
    brigade(group.venue_env, "simulate", "--checks", "4", "--close", "--seed", "7")
    brigade(group.venue_env, "sync", "now")
    day = group.closed_day()
    tablet.reload()
    expect(tablet.locator("#catalog")).to_contain_text("release 1")
    fits_the_screen(tablet)
    screenshot(tablet, "head-office-catalog")
    with sqlite3.connect(group.venue_db) as connection:
        assert connection.execute("SELECT price_cents FROM menu_item WHERE sku = 'ST-SOU'").fetchone()[0] == 790

    # The morning check and the reconciliation of the venue's Z report with the group's books.
    tablet.goto(f"{group.url}/manage/books")
    expect(tablet.locator("main")).to_contain_text("NORTH")
    fits_the_screen(tablet)
    screenshot(tablet, "head-office-morning-check")
    tablet.goto(f"{group.url}/manage/books/reconcile?day={day}")
    expect(tablet.locator("main")).to_contain_text("No differences")
    fits_the_screen(tablet)
    screenshot(tablet, "head-office-reconciliation")

    # The group reports: every chart drawn, each with its title.
    tablet.goto(f"{group.url}/manage/group-reports?start={day}&end={day}")
    charts = tablet.locator("main svg")
    expect(charts.first).to_be_visible()
    assert charts.count() >= 4
    for title in ("Net sales by venue", "Average check by venue", "Average ticket time by venue and station"):
        expect(tablet.get_by_text(title).first).to_be_visible()
    fits_the_screen(tablet)
    screenshot(tablet, "head-office-group-reports")
    tablet.screenshot(path=str(SCREENSHOTS / "head-office-group-reports-full.png"), full_page=True)
