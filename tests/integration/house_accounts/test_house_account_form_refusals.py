"""The house-account pages refuse a malformed amount with a message naming it, and change nothing."""

from __future__ import annotations

import html
from typing import Any

from sqlmodel import select

from app.house_accounts.models import CustomerAccount, CustomerAccountEntry
from tests.integration.house_accounts.test_house_accounts import open_account


async def _names_and_entries(runtime: Any) -> tuple[list[str], int]:
    async with runtime.db.read() as session:
        names = [a.name for a in (await session.exec(select(CustomerAccount))).all()]
        return names, len((await session.exec(select(CustomerAccountEntry))).all())


async def test_a_malformed_limit_or_payment_is_refused_by_name_and_books_nothing(manager: Any, runtime: Any) -> None:
    names, entries = await _names_and_entries(runtime)
    for form, message in (
        ({"name": "Blank Limit"}, "Enter the credit limit, like 500.00."),
        ({"name": "Odd Limit", "credit_limit": "lots"}, "The credit limit:"),
    ):
        refused = await manager.post("/manage/house-accounts", form)
        assert refused.status_code == 422, refused.text
        assert message in html.unescape(refused.text)
    account = await open_account(manager, runtime, "Harbour Office", "500.00")
    for form, message in (
        ({"method": "card", "reference": "R1"}, "Enter the amount received, like 500.00."),
        ({"amount": "ten", "method": "card", "reference": "R1"}, "The amount received:"),
        ({"amount": "0", "method": "card", "reference": "R1"}, "The amount received must be more than zero."),
    ):
        refused = await manager.post(f"/manage/house-accounts/{account.id}/payments", form)
        assert refused.status_code == 422, refused.text
        assert message in html.unescape(refused.text)
    assert await _names_and_entries(runtime) == ([*names, "Harbour Office"], entries)
