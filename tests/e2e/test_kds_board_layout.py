"""The Fry and Expo boards at 1920 x 1080 in the middle of a rush, read as a cook reads them from two metres: columns
across the whole screen, the oldest ticket top left, large item lines, notes and allergies that cannot be missed, the
timer colour across each card's header, and pages (by touch or bump bar keys) when there are more tickets than fit."""

from __future__ import annotations

import re
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import KDS, TABLET, LiveServer, log_in, screenshot

LIVE_MS = 5000
RED = "rgb(214, 45, 32)"
YELLOW = "rgb(242, 194, 0)"
GREEN = "rgb(30, 125, 70)"


@dataclass(frozen=True)
class Line:
    """An item as the server rings it in."""

    item: str
    quantity: int = 1
    note: str = ""
    choices: tuple[str, ...] = ()


# Fourteen tables order a minute apart, the first 14 minutes ago (Fry turns yellow at 6 minutes, red at 10); the
# fryer's starters and the sides (mains) are separate tickets. Table 10 is a large party: taller than a column.
RUSH: list[tuple[str, list[Line]]] = [
    ("1", [Line("Fried Calamari", 2, choices=("Aioli",)), Line("Fries")]),
    ("2", [Line("Fish & Chips", note="NUT ALLERGY - fresh oil"), Line("Onion Rings")]),
    ("3", [Line("Ham Croquettes (4)", 3)]),
    (
        "4",
        [
            Line("Falafel (6)", choices=("Sriracha mayo",)),
            Line("Sweet Potato Fries", 2, choices=("Ketchup", "Mayonnaise")),
            Line("Mashed Potatoes"),
            Line("Creamed Spinach", note="no nutmeg"),
            Line("Seasonal Vegetables"),
            Line("Fish & Chips", 2, choices=("Aioli",)),
            Line("Onion Rings", 2),
            Line("Fries", 3),
        ],
    ),
    ("5", [Line("Fries", 2)]),
    ("6", [Line("Fried Calamari", choices=("Aioli", "Ketchup")), Line("Onion Rings")]),
    ("7", [Line("Fish & Chips", 2, note="gluten free batter")]),
    ("8", [Line("Sweet Potato Fries"), Line("Ham Croquettes (4)")]),
    ("9", [Line("Seasonal Vegetables", 2), Line("Mashed Potatoes", 2), Line("Creamed Spinach")]),
    (
        "10",
        [
            Line("Falafel (6)", 2),
            Line("Fried Calamari", 2, choices=("Aioli",)),
            Line("Ham Croquettes (4)", 2),
            Line("Fish & Chips", 4, choices=("Ketchup",)),
            Line("Fish & Chips", 1, note="coeliac - no batter, grilled"),
            Line("Sweet Potato Fries", 3, choices=("Sriracha mayo",)),
            Line("Fries", 4, choices=("Mayonnaise", "Ketchup")),
            Line("Onion Rings", 3),
            Line("Mashed Potatoes", 4),
            Line("Creamed Spinach", 2),
            Line("Seasonal Vegetables", 3, note="no butter, dairy allergy"),
            Line("Sweet Potato Fries", 1, note="well done"),
            Line("Falafel (6)", 1, choices=("Aioli",)),
            Line("Fried Calamari", 1, note="no lemon"),
            Line("Fries", 2, note="no salt"),
            Line("Ham Croquettes (4)", 1),
        ],
    ),
    ("11", [Line("Fried Calamari"), Line("Fries"), Line("Onion Rings")]),
    ("12", [Line("Fish & Chips")]),
    ("13", [Line("Ham Croquettes (4)", 2), Line("Fries", choices=("Mayonnaise",))]),
    ("14", [Line("Onion Rings", 3, note="extra crispy")]),
]


def _database(server: LiveServer) -> sqlite3.Connection:
    return sqlite3.connect(server.var_dir / "brigade.db", timeout=10)


def _ids(server: LiveServer, sql: str) -> dict[str, str]:
    with closing(_database(server)) as db:
        return {str(name): str(id_) for id_, name in db.execute(sql)}


class Tablet:
    """A server's tablet ringing orders in through the requests its buttons send (the menu's ids read once)."""

    def __init__(self, page: Page, server: LiveServer) -> None:
        self.page = page
        self.server = server
        page.goto(f"{server}/floor")
        token = re.search(r'"x-csrftoken":\s*"([^"]+)"', page.locator("body").get_attribute("hx-headers") or "")
        assert token, "the page carries no CSRF token"
        self.csrf = token.group(1)
        self.tables = _ids(server, "SELECT id, name FROM dining_table")
        self.items = _ids(server, "SELECT id, name FROM menu_item")
        self.choices = _ids(
            server,
            "SELECT modifier.id, modifier.name FROM modifier"
            " JOIN modifier_group ON modifier_group.id = modifier.group_id WHERE modifier_group.name = 'Dip'",
        )

    def _post(self, path: str, fields: list[tuple[str, str]]) -> str:
        response = self.page.request.post(
            f"{self.server}{path}",
            data=urlencode([*fields, ("idempotency_key", uuid.uuid4().hex)]),
            headers={"x-csrftoken": self.csrf, "content-type": "application/x-www-form-urlencoded"},
        )
        assert response.ok, f"{path}: {response.status} {response.text()[:300]}"
        return response.url

    def _version(self, check_id: str) -> str:
        with closing(_database(self.server)) as db:
            (version,) = db.execute("SELECT version FROM guest_check WHERE id = ?", (check_id,)).fetchone()
        return str(version)

    def fire(self, table: str, lines: list[Line]) -> None:
        """Seat the table, ring the lines in and send them."""
        landed = self._post("/checks", [("kind", "table"), ("table_id", self.tables[table]), ("covers", "2")])
        found = re.search(r"/checks/(\d+)$", landed)
        assert found, f"seating table {table} went to {landed}"
        check_id = found.group(1)
        for line in lines:
            fields = [("menu_item_id", self.items[line.item]), ("quantity", str(line.quantity)), ("note", line.note)]
            fields += [("modifier_id", self.choices[choice]) for choice in line.choices]
            self._post(f"/checks/{check_id}/lines", [*fields, ("version", self._version(check_id))])
        self._post(f"/checks/{check_id}/send", [("version", self._version(check_id))])


def _wait_until_routed(server: LiveServer) -> None:
    """Every fire has become station tickets."""
    deadline = time.monotonic() + 15
    while True:
        with closing(_database(server)) as db:
            (fires,) = db.execute("SELECT COUNT(*) FROM kitchen_fire").fetchone()
            (routed,) = db.execute("SELECT COUNT(DISTINCT fire_id) FROM kitchen_ticket").fetchone()
        if fires and routed == fires:
            return
        assert time.monotonic() < deadline, f"only {routed} of {fires} fires reached the kitchen"
        time.sleep(0.2)


def _fired_minutes_ago(server: LiveServer, minutes_by_check: list[int]) -> None:
    """Set each table's tickets back in time, as if the tables had ordered over the last quarter of an hour."""
    with closing(_database(server)) as db, db:
        checks = [row[0] for row in db.execute("SELECT DISTINCT check_id FROM kitchen_ticket ORDER BY check_id")]
        assert len(checks) == len(minutes_by_check)
        now = datetime.now(UTC).replace(tzinfo=None)
        for check_id, minutes in zip(checks, minutes_by_check, strict=True):
            at = (now - timedelta(minutes=minutes)).isoformat(sep=" ")
            db.execute("UPDATE kitchen_ticket SET fired_at = ? WHERE check_id = ?", (at, check_id))


def _open_tickets(server: LiveServer, station: str) -> int:
    with closing(_database(server)) as db:
        (count,) = db.execute(
            "SELECT COUNT(*) FROM kitchen_ticket JOIN station ON station.id = kitchen_ticket.station_id"
            " WHERE station.name = ? AND kitchen_ticket.state = 'open'",
            (station,),
        ).fetchone()
    return int(count)


@pytest.fixture(scope="module")
def rush(browser: Browser, live_server: LiveServer) -> LiveServer:
    """Fourteen tables' fried food on the boards."""
    context = browser.new_context(viewport=TABLET, has_touch=True)
    page = context.new_page()
    log_in(page, live_server, "1111")
    tablet = Tablet(page, live_server)
    for table, lines in RUSH:
        tablet.fire(table, lines)
    context.close()
    _wait_until_routed(live_server)
    _fired_minutes_ago(live_server, [len(RUSH) - index for index in range(len(RUSH))])
    return live_server


@pytest.fixture
def server_tablet(browser: Browser) -> Iterator[Page]:
    """A server's tablet, its own cookies."""
    context = browser.new_context(viewport=TABLET, has_touch=True)
    yield context.new_page()
    context.close()


def _open_board(page: Page, server: LiveServer, station: str) -> None:
    log_in(page, server, "3333")
    page.goto(f"{server}/kds")
    page.locator(".kds-picker .tile", has_text=station).click()
    expect(page.locator("#kds-status")).to_have_class("kds-status live", timeout=LIVE_MS)
    expect(page.locator(".ticket")).to_have_count(_open_tickets(server, station))


# Where each card stands (one rectangle per column: a card too tall for a column continues in the next), its fire
# time, whether the page shown offers it to the cook's touch, and how its header and item lines are drawn.
CARDS_JS = """() => [...document.querySelectorAll('#board .ticket')].map(card => {
    const style = el => getComputedStyle(el);
    const box = r => ({left: r.left, right: r.right, top: r.top, bottom: r.bottom});
    return {
        id: card.id,
        table: card.getAttribute('aria-label'),
        fired: Number(card.dataset.fired),
        shown: !card.inert,
        rects: [...card.getClientRects()].map(box),
        header: style(card.querySelector('.ticket-head')).backgroundColor,
        names: [...card.querySelectorAll('.tline .name')].map(n => parseFloat(style(n).fontSize)),
        quantities: [...card.querySelectorAll('.tline .qty')].map(q => parseFloat(style(q).fontSize)),
        weights: [...card.querySelectorAll('.tline .qty')].map(q => Number(style(q).fontWeight)),
    };
})"""


def _cards(page: Page) -> list[dict[str, Any]]:
    cards: list[dict[str, Any]] = page.evaluate(CARDS_JS)
    return cards


def _shown(page: Page) -> list[dict[str, Any]]:
    """The cards on the page shown, in the order a cook reads them: down each column, then the next column."""
    shown = [card for card in _cards(page) if card["shown"]]
    for card in shown:
        card["on_screen"] = [r for r in card["rects"] if r["right"] > 0 and r["left"] < KDS["width"]]
    return sorted(shown, key=lambda card: (round(card["on_screen"][0]["left"]), card["on_screen"][0]["top"]))


def _assert_columns_fill_the_screen(shown: list[dict[str, Any]]) -> None:
    left = min(rect["left"] for card in shown for rect in card["on_screen"])
    right = max(rect["right"] for card in shown for rect in card["on_screen"])
    assert right - left >= 0.9 * KDS["width"], f"the cards span {right - left:.0f} px of {KDS['width']}"
    columns = {round(rect["left"]) for card in shown for rect in card["on_screen"]}
    assert len(columns) >= 5, f"{len(columns)} columns at 1920 px"


def _assert_nothing_cut_off(page: Page, shown: list[dict[str, Any]]) -> None:
    """Every piece of a card on the page shown lies wholly on the screen, below the all-day strip."""
    top = page.locator("[data-board-viewport]").evaluate("v => v.getBoundingClientRect().top")
    for card in shown:
        for rect in card["on_screen"]:
            assert rect["left"] >= 0, f"{card['table']} is cut at the left"
            assert rect["right"] <= KDS["width"], f"{card['table']} is cut at the right"
            assert rect["top"] >= top, f"{card['table']} is cut at the top"
            assert rect["bottom"] <= KDS["height"], f"{card['table']} is cut at the bottom"


def test_the_rush_fills_the_screen_oldest_first_in_large_type_and_pages_through_the_rest(
    kds_screen: Page, rush: LiveServer
) -> None:
    _open_board(kds_screen, rush, "Fry")
    total = _open_tickets(rush, "Fry")
    label = kds_screen.locator("[data-page-label]")
    expect(kds_screen.get_by_role("navigation", name="Pages")).to_be_visible()
    expect(label).to_have_text(re.compile(rf"^Page 1 of [2-9] · {total} tickets$"))
    pages = int(re.findall(r"of (\d+)", label.inner_text())[0])
    screenshot(kds_screen, "kds-layout-01-fry-rush-page-1-1920x1080")

    # five or more columns across the whole screen, the oldest ticket at the top left, each column read downwards
    shown = _shown(kds_screen)
    _assert_columns_fill_the_screen(shown)
    _assert_nothing_cut_off(kds_screen, shown)
    assert shown[0]["table"] == "Table 1"
    assert [card["fired"] for card in shown] == sorted(card["fired"] for card in shown)

    # item lines readable from two metres, the quantity bold
    for card in shown:
        assert card["names"], card["table"]
        assert min(card["names"]) >= 24, card["table"]
        assert min(card["quantities"]) >= 24, card["table"]
        assert min(card["weights"]) >= 700, card["table"]

    # the timer colour fills the header: red past 10 minutes, yellow past 6, green before
    headers = {card["table"]: card["header"] for card in _cards(kds_screen)}
    assert headers["Table 1"] == RED
    assert headers["Table 6"] == YELLOW
    assert headers["Table 14"] == GREEN
    table_1 = kds_screen.get_by_role("article", name="Table 1", exact=True)
    expect(table_1.locator(".ticket-head")).to_have_css("color", "rgb(255, 255, 255)")

    # modifiers, notes and allergies stand apart from the item lines
    allergy = kds_screen.get_by_role("article", name="Table 2", exact=True).locator(".note")
    expect(allergy).to_have_text("Allergy NUT ALLERGY - fresh oil")
    expect(allergy).to_have_css("background-color", "rgb(21, 25, 30)")
    expect(allergy).to_have_css("color", "rgb(255, 212, 0)")
    note = kds_screen.locator(".ticket", has_text="no nutmeg").locator(".note")
    expect(note).to_have_css("background-color", "rgb(179, 20, 11)")
    expect(note).to_have_css("color", "rgb(255, 255, 255)")
    modifier = table_1.locator(".mod", has_text="Aioli")
    expect(modifier).to_have_css("font-weight", "700")
    expect(modifier).to_have_css("color", "rgb(11, 74, 158)")
    assert modifier.evaluate("m => parseFloat(getComputedStyle(m).fontSize)") >= 22

    # the next pages show the rest, by touch; every ticket is on a page, the newest on the last
    seen = {card["id"] for card in shown}
    previous_page = kds_screen.get_by_role("button", name="Previous page")
    next_page = kds_screen.get_by_role("button", name="Next page")
    expect(previous_page).to_be_disabled()
    assert (next_page.bounding_box() or {"height": 0})["height"] >= 48
    for number in range(2, pages + 1):
        next_page.click()
        expect(label).to_have_text(f"Page {number} of {pages} · {total} tickets")
        shown = _shown(kds_screen)
        _assert_nothing_cut_off(kds_screen, shown)
        if number < pages:
            _assert_columns_fill_the_screen(shown)
        seen |= {card["id"] for card in shown}
        screenshot(kds_screen, f"kds-layout-0{number}-fry-rush-page-{number}-1920x1080")
    expect(next_page).to_be_disabled()
    assert len(seen) == total
    assert "Table 14" in {card["table"] for card in _shown(kds_screen)}

    # the big party continues at the top of the next column, under its table's name
    party = kds_screen.locator(".ticket", has=kds_screen.locator(".tline", has_text="coeliac")).first
    assert party.evaluate("card => card.getClientRects().length") >= 2
    expect(party.locator(".cont")).to_have_attribute("data-cont", "Table 10 · continued")

    # and by the bump bar's keys
    kds_screen.keyboard.press("Home")
    expect(label).to_have_text(f"Page 1 of {pages} · {total} tickets")
    kds_screen.keyboard.press("PageDown")
    expect(label).to_have_text(f"Page 2 of {pages} · {total} tickets")
    kds_screen.keyboard.press("ArrowLeft")
    expect(label).to_have_text(f"Page 1 of {pages} · {total} tickets")
    assert _shown(kds_screen)[0]["table"] == "Table 1"


def test_expo_reads_the_same_way_with_each_order_waiting_for_its_stations(kds_screen: Page, rush: LiveServer) -> None:
    _open_board(kds_screen, rush, "Expo")
    total = _open_tickets(rush, "Expo")
    expect(kds_screen.locator("[data-page-label]")).to_have_text(re.compile(rf"^Page 1 of [2-9] · {total} tickets$"))
    shown = _shown(kds_screen)
    _assert_columns_fill_the_screen(shown)
    _assert_nothing_cut_off(kds_screen, shown)
    assert shown[0]["table"] == "Table 1"
    assert [card["fired"] for card in shown] == sorted(card["fired"] for card in shown)
    assert all(min(card["names"]) >= 24 for card in shown)
    # expo's own thresholds: yellow at 12 minutes, red at 20
    headers = {card["table"]: card["header"] for card in _cards(kds_screen)}
    assert headers["Table 1"] == YELLOW
    assert headers["Table 14"] == GREEN
    table_1 = kds_screen.get_by_role("article", name="Table 1", exact=True)
    expect(table_1.locator(".part")).to_have_text("Fry …")
    expect(table_1.get_by_role("button", name="Waiting for stations")).to_be_disabled()
    screenshot(kds_screen, "kds-layout-04-expo-rush-page-1-1920x1080")


def test_bumps_recalls_and_new_tickets_keep_the_pages_right(
    kds_screen: Page, server_tablet: Page, rush: LiveServer
) -> None:
    _open_board(kds_screen, rush, "Fry")
    label = kds_screen.locator("[data-page-label]")
    next_page = kds_screen.get_by_role("button", name="Next page")
    total = _open_tickets(rush, "Fry")

    # a new table's ticket lands on the last page: the count and the next-page button say so
    log_in(server_tablet, rush, "1111")
    Tablet(server_tablet, rush).fire("15", [Line("Fries", 5)])
    expect(label).to_have_text(re.compile(rf"^Page 1 of \d · {total + 1} tickets$"), timeout=LIVE_MS)
    expect(next_page).to_have_class(re.compile(r"\bhas-new\b"))
    kds_screen.keyboard.press("End")
    newest = kds_screen.get_by_role("article", name="Table 15", exact=True)
    assert newest.evaluate("card => !card.inert")
    expect(newest.locator(".ticket-head")).to_have_css("background-color", GREEN)
    expect(next_page).not_to_have_class(re.compile(r"\bhas-new\b"))

    # the cook bumps from the front page until everything fits: the pager goes, the open count is back
    kds_screen.keyboard.press("Home")
    bumped = []
    while kds_screen.get_by_role("navigation", name="Pages").is_visible():
        first = _shown(kds_screen)[0]
        bumped.append(first["table"])
        kds_screen.locator(f"#{first['id']}").get_by_role("button", name="Bump", exact=True).click()
        expect(kds_screen.locator(f"#{first['id']}")).to_have_count(0, timeout=LIVE_MS)
    remaining = kds_screen.locator(".ticket").count()
    expect(kds_screen.locator(".kds-count")).to_have_text(f"{remaining} open")
    assert bumped[0] == "Table 1"
    shown = _shown(kds_screen)
    assert len(shown) == remaining
    assert shown[-1]["table"] == "Table 15"
    screenshot(kds_screen, "kds-layout-05-fry-after-bumps-one-page-1920x1080")

    # recall puts the last bumped ticket back in its place, oldest first, and the board pages again if needed
    kds_screen.get_by_role("button", name="Recall last").click()
    expect(kds_screen.locator(".ticket")).to_have_count(remaining + 1, timeout=LIVE_MS)
    shown = _shown(kds_screen)
    assert shown[0]["table"] == bumped[-1]
    assert [card["fired"] for card in shown] == sorted(card["fired"] for card in shown)
