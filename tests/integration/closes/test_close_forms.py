"""The end-of-day pages' forms are typed: a missing or malformed field is refused by its label, nothing changes."""

from __future__ import annotations

from typing import Any

import pytest

from app.closes.models import DrawerSession, PostingMapping, ServerCheckout, StaffHours, TipPoolRule
from tests.integration.closes.arrange import key, rows


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("/closes/drawers", {"name": "Bar", "float": "lots"}, "The float"),
        ("/closes/checkout", {"staff_id": "the new one"}, "Server must be a whole number."),
        ("/closes/checkout", {"staff_id": "0"}, "Server must be at least 1."),
        ("/closes/tips/hours", {"hours": "7.5"}, "The person is required."),
        ("/closes/tips/hours", {"staff_id": "1", "hours": "7.5", "day": "yesterday"}, "Day must be a date like"),
        (
            "/closes/tips/rule",
            {"name": "Pool", "method": "role_percent", "percent_server": "150"},
            "The server share must be at most 100.",
        ),
        (
            "/closes/tips/rule",
            {"name": "Pool", "method": "role_percent", "percent_cook": "a fifth"},
            "The cook share must be a whole number.",
        ),
        (
            "/closes/mappings",
            {"kind": "stock", "subject": "1", "stock_location_id": "cellar"},
            "Stock location must be a whole number.",
        ),
    ],
)
async def test_a_malformed_field_is_refused_by_its_label_and_changes_nothing(
    manager: Any, runtime: Any, path: str, data: dict[str, Any], message: str
) -> None:
    before = [
        len(await rows(runtime, model))
        for model in (DrawerSession, ServerCheckout, TipPoolRule, StaffHours, PostingMapping)
    ]
    response = await manager.post(path, {"idempotency_key": key(), **data})
    assert response.status_code == 422, response.text
    assert message in response.text
    after = [
        len(await rows(runtime, model))
        for model in (DrawerSession, ServerCheckout, TipPoolRule, StaffHours, PostingMapping)
    ]
    assert after == before
