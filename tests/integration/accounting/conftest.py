"""Books with the standard chart in place, and a few ways to post to them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.accounting.chart import seed_chart
from app.accounting.services import PostingLine, post_entry

DAY = dt.date(2025, 3, 14)


@pytest.fixture
async def books(runtime: Any) -> Any:
    """An empty journal over the standard chart (sales tax at 9 % and 21 %)."""
    async with runtime.db.write() as session:
        await seed_chart(session, sales_tax_rates_bp=[900, 2100])
    return runtime


async def post_sale(
    runtime: Any, source_id: str, *, cash: int = 1090, food: int = 1000, tax: int = 90, day: dt.date = DAY
) -> Any:
    """A cash sale of food with 9 % tax: cash in, revenue and tax payable out."""
    async with runtime.db.write() as session:
        return await post_entry(
            session,
            date=day,
            description=f"Sale {source_id}",
            lines=[
                PostingLine("1010", cash, "cash taken"),
                PostingLine("4010", -food, "food", {"category": "starters"}),
                PostingLine("2101", -tax, "tax 9 %"),
            ],
            source_type="sale",
            source_id=source_id,
        )
