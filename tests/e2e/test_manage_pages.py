"""A manager at a 1024 x 768 tablet: the floor plan editor by touch, and the menu pages."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import CDPSession, Page, expect

from tests.e2e.conftest import TABLET, log_in, screenshot


def _touch_drag(page: Page, start: tuple[float, float], end: tuple[float, float], steps: int = 10) -> None:
    """One finger down at `start`, sliding to `end`, resting there, lifted: the browser's own touch path."""
    cdp: CDPSession = page.context.new_cdp_session(page)
    (x0, y0), (x1, y1) = start, end
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]})
    for step in range(1, steps + 1):
        x = x0 + (x1 - x0) * step / steps
        y = y0 + (y1 - y0) * step / steps
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
        page.wait_for_timeout(16)
    # A finger that rests before lifting starts no fling, which would swallow the next tap.
    for _ in range(3):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x1, "y": y1}]})
        page.wait_for_timeout(50)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def _centre(page: Page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _geometry(page: Page, table_id: str) -> dict[str, int]:
    table = page.locator(f"#ed-table-{table_id}")
    return {key: int(table.get_attribute(f"data-{key}") or 0) for key in ("x", "y", "width", "height", "rotation")}


def _saved(page: Page) -> None:
    expect(page.locator("#save-state")).to_have_text("Saved")
    page.wait_for_load_state("networkidle")


def test_a_manager_drags_resizes_and_rotates_a_table_by_touch_and_finds_it_there_after_reload(
    tablet: Page, live_server: str
) -> None:
    log_in(tablet, live_server, "9999")
    tablet.goto(f"{live_server}/manage/floors")
    tablet.locator("#new-floor summary").tap()
    tablet.locator("#new-floor input[name=name]").fill("Terrace")
    tablet.locator("#new-floor button[type=submit]").tap()
    expect(tablet.locator(".notice")).to_contain_text("Added Terrace")
    screenshot(tablet, "manage-floors-1024x768")
    terrace = tablet.locator("details.floor-card", has_text="Terrace")
    terrace.locator("summary a", has_text="Edit plan").tap()
    expect(tablet.locator("#plan-editor")).to_be_visible()

    add = tablet.locator("form.add-table")
    add.locator("input[name=name]").fill("T1")
    add.locator(".shape-option", has_text="Rectangle").tap()
    expect(add.locator("input[name=seats]")).to_have_value("6")
    add.locator("button[type=submit]").tap()
    expect(tablet.locator(".notice")).to_contain_text("Added table T1")
    table = tablet.locator(".ed-table", has_text="T1")
    table_id = table.get_attribute("data-id") or ""
    placed = _geometry(tablet, table_id)
    assert placed == {"x": 20, "y": 20, "width": 160, "height": 80, "rotation": 0}
    screenshot(tablet, "floor-editor-new-table-1024x768")

    plan = tablet.locator("#plan-editor").bounding_box()
    assert plan is not None
    scale = plan["width"] / 1000
    start = _centre(tablet, f"#ed-table-{table_id} .ed-shape")
    _touch_drag(tablet, start, (start[0] + 300 * scale, start[1] + 200 * scale))
    _saved(tablet)
    moved = _geometry(tablet, table_id)
    assert abs(moved["x"] - 320) <= 10
    assert abs(moved["y"] - 220) <= 10
    assert (moved["width"], moved["height"]) == (160, 80)
    expect(tablet.locator("#table-form input[name=x]")).to_have_value(str(moved["x"]))

    handle = _centre(tablet, f"#ed-table-{table_id} .ed-handle-dot")
    _touch_drag(tablet, handle, (handle[0] + 80 * scale, handle[1] + 40 * scale))
    _saved(tablet)
    resized = _geometry(tablet, table_id)
    assert abs(resized["width"] - 240) <= 10
    assert abs(resized["height"] - 120) <= 10
    assert (resized["x"], resized["y"]) == (moved["x"], moved["y"])

    tablet.locator("button[data-rotate='15']").tap()
    tablet.locator("button[data-rotate='15']").tap()
    _saved(tablet)
    assert _geometry(tablet, table_id)["rotation"] == 30
    expect(tablet.locator("#table-form input[name=rotation]")).to_have_value("30")
    screenshot(tablet, "floor-editor-after-drag-resize-rotate-1024x768")
    left_at = _geometry(tablet, table_id)

    tablet.reload()
    tablet.wait_for_load_state("networkidle")
    assert _geometry(tablet, table_id) == left_at
    transform = tablet.locator(f"#ed-table-{table_id}").get_attribute("transform") or ""
    assert "rotate(30" in transform
    expect(tablet.locator("#inspector h2").first).to_have_text("Table T1")
    screenshot(tablet, "floor-editor-after-reload-1024x768")


def test_dragging_a_table_off_the_plan_keeps_it_inside(tablet: Page, live_server: str) -> None:
    log_in(tablet, live_server, "9999")
    tablet.goto(f"{live_server}/manage/floors")
    tablet.locator("#new-floor summary").tap()
    tablet.locator("#new-floor input[name=name]").fill("Garden")
    tablet.locator("#new-floor input[name=width]").fill("800")
    tablet.locator("#new-floor input[name=height]").fill("400")
    tablet.locator("#new-floor button[type=submit]").tap()
    tablet.locator("details.floor-card", has_text="Garden").locator("summary a").tap()
    tablet.locator("form.add-table .shape-option", has_text="Round").tap()
    tablet.locator("form.add-table button[type=submit]").tap()
    expect(tablet.locator(".notice")).to_contain_text("Added table")
    table_id = tablet.locator(".ed-table").first.get_attribute("data-id") or ""
    start = _centre(tablet, f"#ed-table-{table_id} .ed-shape")
    _touch_drag(tablet, start, (start[0] + 2000, start[1] + 2000))
    _saved(tablet)
    corner = _geometry(tablet, table_id)
    assert corner["x"] + corner["width"] == 800
    assert corner["y"] + corner["height"] == 400

    tablet.locator("#table-form input[name=x]").fill("900")
    tablet.locator("#table-form input[name=x]").press("Tab")
    expect(tablet.locator("#flash .flash-error")).to_contain_text("outside the plan")
    expect(tablet.locator("#save-state")).to_have_text("Not saved")
    assert _geometry(tablet, table_id) == corner, "a refused move puts the table back"
    screenshot(tablet, "floor-editor-refused-move-1024x768")


def test_the_menu_pages_at_tablet_size(tablet: Page, live_server: str) -> None:
    log_in(tablet, live_server, "9999")
    tablet.goto(f"{live_server}/manage")
    assert tablet.viewport_size == TABLET
    expect(tablet.locator(".tile", has_text="Floors & tables")).to_be_visible()
    expect(tablet.locator(".tile", has_text="86 board")).to_be_visible()
    screenshot(tablet, "manage-landing-1024x768")

    tablet.goto(f"{live_server}/manage/menu")
    expect(tablet.locator("#menu .menu-section").first).to_be_visible()
    screenshot(tablet, "menu-items-1024x768")

    new_item = tablet.locator("#new-item")
    new_item.locator("summary").tap()
    new_item.locator("input[name=sku]").fill("ST-SPC")
    new_item.locator("input[name=name]").fill("Chef's Soup Special")
    new_item.locator("input[name=price]").fill("abc")
    new_item.locator("select[name=category_id]").select_option(label="Starters")
    new_item.locator("button[type=submit]").tap()
    expect(tablet.locator("#flash .flash-error")).to_contain_text("Enter an amount like 12.50")
    screenshot(tablet, "menu-item-bad-price-1024x768")

    tablet.locator("#flash .flash-close").tap()
    new_item.locator("input[name=price]").fill("8.50")
    new_item.locator("select[name=group_ids]").first.select_option(label="Heat (must choose 1\u20131)")
    new_item.locator("button[type=submit]").tap()
    expect(tablet.locator(".notice")).to_contain_text("Added Chef's Soup Special")
    row = tablet.locator("tr", has_text="Chef's Soup Special")
    expect(row).to_contain_text("€8.50")
    expect(row).to_contain_text("Heat")

    row.locator("button", has_text="Edit").tap()
    form = tablet.locator("tr.editing form")
    expect(form.locator("input[name=price]")).to_have_value("8.50")
    form.locator("input[name=price]").fill("9.25")
    screenshot(tablet, "menu-item-edit-1024x768")
    form.locator("button[type=submit]").tap()
    expect(tablet.locator("tr", has_text="Chef's Soup Special")).to_contain_text("€9.25")

    tablet.goto(f"{live_server}/manage/menu/categories")
    tablet.locator("details.category .summary-name", has_text=re.compile(r"^Starters$")).tap()
    screenshot(tablet, "menu-categories-1024x768")

    tablet.goto(f"{live_server}/manage/modifiers")
    tablet.locator("details.group .summary-name", has_text=re.compile(r"^Temperature$")).tap()
    screenshot(tablet, "menu-modifiers-1024x768")

    tablet.goto(f"{live_server}/manage/taxes")
    screenshot(tablet, "menu-taxes-1024x768")

    tablet.goto(f"{live_server}/manage/86")
    tile = tablet.locator(".tile-86", has_text="Chef's Soup Special")
    tile.locator("input[name=reason]").fill("Soup ran out")
    tile.locator("button", has_text="86").tap()
    expect(tablet.locator(".out-list")).to_contain_text("Chef's Soup Special")
    expect(tablet.locator(".tile-86.out", has_text="Chef's Soup Special")).to_contain_text("Soup ran out")
    tablet.locator(".tile-86.out", has_text="Chef's Soup Special").scroll_into_view_if_needed()
    screenshot(tablet, "menu-86-board-1024x768")
    tablet.locator(".tile-86.out", has_text="Chef's Soup Special").locator("button").tap()
    expect(tablet.locator(".notice")).to_contain_text("back on sale")


def test_a_cook_reaches_the_86_board_but_not_the_menu(tablet: Page, live_server: str) -> None:
    log_in(tablet, live_server, "3333")
    tablet.goto(f"{live_server}/manage")
    tiles: Any = tablet.locator(".tile")
    expect(tiles).to_have_count(1)
    expect(tiles).to_have_text("86 boardWhat the kitchen has run out of")
    response = tablet.goto(f"{live_server}/manage/menu")
    assert response is not None
    assert response.status == 403
