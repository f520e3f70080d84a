"""The promotions page refuses a form naming a menu choice that is no id, in one message format, and saves nothing."""

from __future__ import annotations

import html
from typing import Any

import pytest
from sqlmodel import select

from app.promotions.models import Promotion


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"category_id": "cocktails"}, "Category: unknown category; reload the page."),
        ({"item_ids": ["12", "mojito"]}, "Item: unknown item; reload the page."),
        ({"weekdays": ["0", "monday"]}, "Weekday: unknown weekday; reload the page."),
        ({"kind": "set_menu", "menu_mains": "9" * 13}, "Dish: unknown dish; reload the page."),
    ],
)
async def test_a_promotion_with_a_malformed_choice_is_refused_and_nothing_is_saved(
    manager: Any, runtime: Any, changes: dict[str, Any], message: str
) -> None:
    form = {"name": "Happy hour", "kind": "percent", "percent": "30", "start": "17:00", "end": "19:00", **changes}
    refused = await manager.post("/manage/promotions", form)
    assert refused.status_code == 422, refused.text
    assert message in html.unescape(refused.text)
    async with runtime.db.read() as session:
        assert (await session.exec(select(Promotion))).all() == []
