"""The menu's and the floor plan's revisions count every committed change to their tables, made by anyone; on
PostgreSQL the count is taken as the writer commits, so two writers never deadlock over it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

WATCHED = [
    ("menu", "menu_category"),
    ("menu", "menu_item"),
    ("menu", "modifier_group"),
    ("menu", "menu_item_modifier_group"),
    ("floor", "floor"),
    ("floor", "dining_table"),
]


async def _revision(runtime: Any, subject: str) -> int:
    async with runtime.db.write_engine.connect() as conn:
        found = await conn.scalar(text("SELECT revision FROM cache_revision WHERE subject = :s"), {"s": subject})
    return int(found or 0)


async def _touch(conn: AsyncConnection, table: str, row: str = "min") -> None:
    """Change one row of `table` without changing anything it holds."""
    await conn.execute(text(f"UPDATE {table} SET id = id WHERE id = (SELECT {row}(id) FROM {table})"))


@pytest.mark.parametrize(("subject", "table"), WATCHED)
async def test_a_committed_change_to_a_watched_table_counts(runtime: Any, demo: None, subject: str, table: str) -> None:
    before = {s: await _revision(runtime, s) for s in ("menu", "floor")}
    assert before[subject] > 0, "the demo's own rows were counted as they went in"
    async with runtime.db.write_engine.begin() as conn:
        await _touch(conn, table)
    other = "floor" if subject == "menu" else "menu"
    assert await _revision(runtime, subject) == before[subject] + 1
    assert await _revision(runtime, other) == before[other], "the other subject did not change"


async def test_inserts_and_deletes_count_and_a_rolled_back_change_does_not(runtime: Any, demo: None) -> None:
    start = await _revision(runtime, "floor")
    async with runtime.db.write_engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO floor (id, name, sort_order, width, height) VALUES (900, 'Garden', 9, 800, 600)")
        )
    assert await _revision(runtime, "floor") == start + 1
    async with runtime.db.write_engine.connect() as conn:
        await conn.begin()
        await conn.execute(text("DELETE FROM floor WHERE id = 900"))
        await conn.rollback()
    assert await _revision(runtime, "floor") == start + 1
    async with runtime.db.write_engine.begin() as conn:
        await conn.execute(text("DELETE FROM floor WHERE id = 900"))
    assert await _revision(runtime, "floor") == start + 2


async def test_on_postgresql_two_writers_crossing_over_menu_items_do_not_deadlock(runtime: Any, demo: None) -> None:
    if runtime.db.dialect != "postgresql":
        pytest.skip("SQLite takes one writer at a time")
    start = await _revision(runtime, "menu")
    async with runtime.db.write_engine.connect() as first, runtime.db.write_engine.connect() as second:
        await first.begin()
        await second.begin()
        await first.execute(text("SET LOCAL lock_timeout = '5s'"))
        await _touch(first, "menu_item", "min")
        await _touch(second, "menu_item", "max")
        assert await _revision(runtime, "menu") == start, "nothing is counted before the writers commit"
        # The first now waits for the second's item; had the second counted its change at once, it would hold the
        # revision's row while the first waited on it, and the first's own count would close the circle.
        crossing = asyncio.create_task(_touch(first, "menu_item", "max"))
        await asyncio.sleep(0.2)
        assert not crossing.done(), "the first writer waits for the second's item"
        await second.commit()
        await asyncio.wait_for(crossing, 5)
        await first.commit()
    assert await _revision(runtime, "menu") == start + 3
