"""A plain dish is rung in with one INSERT … SELECT; the line it writes is the line the item's read would have built.

Each request below is rung in twice on the same check, once by each path, and the two lines must agree on every
column but their id.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from app.menu.models import Course
from app.orders import lines
from app.orders.lines import LineRequest
from app.orders.models import CheckLine, LineState
from app.staff.models import Staff
from tests.integration.orders.conftest import Restaurant

SAME = [c for c in CheckLine.model_fields if c not in {"id", "added_at"}]


async def _ring_in(runtime: Any, check_id: int, request: LineRequest, *, plain: bool) -> tuple[CheckLine, bool]:
    """Ring `request` in by one path; the line, and whether the one-statement path wrote it."""
    async with runtime.db.write() as session:
        actor = (await session.exec(select(Staff).where(Staff.name == "Lena Brooks"))).one()
        check = await lines._editable_check(session, check_id, actor, None, None)
        written = await lines._ring_in_plain(session, check, request, actor) if plain else None
        line = written or await lines._ring_in(session, check, request, actor)
        return line, written is not None


async def _slowly(runtime: Any, check_id: int, request: LineRequest, monkeypatch: pytest.MonkeyPatch) -> CheckLine:
    async def never(*_args: Any) -> None:
        return None

    with monkeypatch.context() as patch:
        patch.setattr(lines, "_ring_in_plain", never)
        line, _ = await _ring_in(runtime, check_id, request, plain=False)
    return line


@pytest.mark.parametrize(
    "request_",
    [
        LineRequest(menu_item_id=0),
        LineRequest(menu_item_id=0, quantity=3, seat=2, note="  no salt  "),
        LineRequest(menu_item_id=0, course=Course.STARTERS),
        LineRequest(menu_item_id=0, hold=True),
    ],
    ids=["plain", "seat-quantity-note", "course-asked", "held"],
)
async def test_a_plain_dish_is_the_same_line_by_either_path(
    server: Any, restaurant: Restaurant, runtime: Any, request_: LineRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_id = await restaurant.open_table(server, "12", 4)
    request = LineRequest(**{**request_.__dict__, "menu_item_id": await restaurant.item_id("PA-CAR")})
    fast, plain = await _ring_in(runtime, check_id, request, plain=True)
    assert plain, "a dish that asks nothing goes in one statement"
    slow = await _slowly(runtime, check_id, request, monkeypatch)
    assert {c: getattr(fast, c) for c in SAME} == {c: getattr(slow, c) for c in SAME}
    assert abs((fast.added_at - slow.added_at).total_seconds()) < 5


async def test_a_dish_rung_into_a_held_course_waits_with_it_by_either_path(
    server: Any, restaurant: Restaurant, runtime: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_id = await restaurant.open_table(server, "12", 4)
    item = await restaurant.item_id("PA-CAR")
    held, _ = await _ring_in(runtime, check_id, LineRequest(menu_item_id=item, hold=True), plain=True)
    joining = LineRequest(menu_item_id=item, seat=1)
    fast, plain = await _ring_in(runtime, check_id, joining, plain=True)
    slow = await _slowly(runtime, check_id, joining, monkeypatch)
    assert plain
    assert held.state is fast.state is slow.state is LineState.HELD


async def test_a_dish_the_one_statement_cannot_take_is_left_to_the_read(
    server: Any, restaurant: Restaurant, runtime: Any
) -> None:
    """A dish that asks a question (a Negroni: which ice), one not on the menu and a malformed request are not
    written by the one statement: the read that follows takes them, or refuses them with its own message."""
    check_id = await restaurant.open_table(server, "12", 4)
    carbonara, negroni = await restaurant.item_id("PA-CAR"), await restaurant.item_id("CK-NEG")
    async with runtime.db.write() as session:
        actor = (await session.exec(select(Staff).where(Staff.name == "Lena Brooks"))).one()
        check = await lines._editable_check(session, check_id, actor, None, None)
        for request in (
            LineRequest(menu_item_id=negroni),
            LineRequest(menu_item_id=999_999),
            LineRequest(menu_item_id=carbonara, quantity=0),
            LineRequest(menu_item_id=carbonara, seat=-1),
        ):
            assert await lines._ring_in_plain(session, check, request, actor) is None, request
    assert await restaurant.lines(check_id) == []
