"""A manager at a 1024 x 768 tablet drags one table onto another, by finger and by mouse: the plan shows the
overlap while dragging, and the drop is refused with a message, the table back where it stood."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import CDPSession, Locator, Page, Request, expect

from tests.e2e.conftest import log_in, screenshot


def _centre(page: Page, name: str) -> tuple[float, float]:
    box = _table(page, name).bounding_box()
    assert box is not None, name
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _table(page: Page, name: str) -> Locator:
    return page.get_by_role("button", name=f"Table {name},")


def _marked(mark: str) -> re.Pattern[str]:
    return re.compile(rf"(^|\s){mark}(\s|$)")


def _place(page: Page, name: str) -> dict[str, str | None]:
    table = _table(page, name)
    return {key: table.get_attribute(f"data-{key}") for key in ("x", "y", "width", "height", "rotation")}


def _touch_drag(
    page: Page, start: tuple[float, float], end: tuple[float, float], before_lift: Callable[[], None]
) -> None:
    """One finger down on `start`, slid to `end` and held there while `before_lift` looks, then lifted."""
    cdp: CDPSession = page.context.new_cdp_session(page)
    (x0, y0), (x1, y1) = start, end
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]})
    for step in range(1, 11):
        point = {"x": x0 + (x1 - x0) * step / 10, "y": y0 + (y1 - y0) * step / 10}
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
        page.wait_for_timeout(16)
    for _ in range(3):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x1, "y": y1}]})
        page.wait_for_timeout(50)
    before_lift()
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def _open_dining_room(tablet: Page, live_server: str) -> list[str]:
    log_in(tablet, live_server, "9999")
    tablet.goto(f"{live_server}/manage/floors")
    tablet.locator("details.floor-card", has_text="Dining Room").get_by_role("link", name="Edit plan").click()
    expect(tablet.get_by_role("application", name="Plan of Dining Room")).to_be_visible()
    saves: list[str] = []

    def saved(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/place"):
            saves.append(request.url)

    tablet.on("request", saved)
    return saves


def test_a_table_dragged_onto_another_by_finger_is_outlined_red_then_put_back(tablet: Page, live_server: str) -> None:
    saves = _open_dining_room(tablet, live_server)
    seven, eight = _table(tablet, "7"), _table(tablet, "8")
    before = _place(tablet, "7")

    def while_held() -> None:
        expect(seven).to_have_class(_marked("overlapping"))
        expect(eight).to_have_class(_marked("overlapped"))
        expect(tablet.locator("#save-state")).to_have_text("Overlaps table 8")
        screenshot(tablet, "floor-editor-overlap-while-dragging-1024x768")

    _touch_drag(tablet, _centre(tablet, "7"), _centre(tablet, "8"), while_held)
    alert = tablet.get_by_role("alert")
    expect(alert).to_contain_text("Table 7 would overlap table 8; move it to a free spot.")
    expect(tablet.locator("#save-state")).to_have_text("Not saved")
    assert _place(tablet, "7") == before, "the table went back where it stood"
    expect(seven).not_to_have_class(_marked("overlapping"))
    expect(eight).not_to_have_class(_marked("overlapped"))
    screenshot(tablet, "floor-editor-overlap-refused-1024x768")
    assert saves == [], "a refused drop sends nothing"

    tablet.reload()
    assert _place(tablet, "7") == before, "and the server still has it there"


def test_a_table_dragged_onto_another_by_mouse_is_refused_and_a_free_spot_still_saves(
    tablet: Page, live_server: str
) -> None:
    saves = _open_dining_room(tablet, live_server)
    before = _place(tablet, "9")
    start, end = _centre(tablet, "9"), _centre(tablet, "10")
    tablet.mouse.move(*start)
    tablet.mouse.down()
    tablet.mouse.move(*end, steps=12)
    expect(_table(tablet, "9")).to_have_class(_marked("overlapping"))
    expect(tablet.locator("#save-state")).to_have_text("Overlaps table 10")
    tablet.mouse.up()
    expect(tablet.get_by_role("alert")).to_contain_text("Table 9 would overlap table 10; move it to a free spot.")
    assert _place(tablet, "9") == before
    assert saves == []

    # Dragged back over and then on to open floor below the rows, it is drawn clear and saved.
    plan = tablet.get_by_role("application", name="Plan of Dining Room").bounding_box()
    assert plan is not None
    scale = plan["width"] / 1000
    nine = _centre(tablet, "9")
    tablet.mouse.move(*nine)
    tablet.mouse.down()
    tablet.mouse.move(*_centre(tablet, "10"), steps=6)
    tablet.mouse.move(plan["x"] + 935 * scale, plan["y"] + 655 * scale, steps=12)
    expect(_table(tablet, "9")).not_to_have_class(_marked("overlapping"))
    tablet.mouse.up()
    expect(tablet.locator("#save-state")).to_have_text("Saved")
    assert len(saves) == 1
    moved = _place(tablet, "9")
    assert moved != before
    tablet.reload()
    assert _place(tablet, "9") == moved
