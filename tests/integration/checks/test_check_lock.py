"""The check's row lock on PostgreSQL: its writers wait for each other, never for a row that only refers to it.

Two card payments on one check at once each write their payment (which takes a share of the check's key) and then
lock the check. Had the lock been FOR UPDATE, each would have waited for the other's share until PostgreSQL broke one
of them off with "deadlock detected", and a tablet would have seen an error page.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.orders.services import get_check_for_update
from tests.integration.checks.arrange import ring_in

SHARE_THE_KEY = text("SELECT id FROM guest_check WHERE id = :check_id FOR KEY SHARE")
WRITE_THE_CHECK = text("UPDATE guest_check SET note = note WHERE id = :check_id")
SHORT_WAIT = text("SET LOCAL lock_timeout = '300ms'")


async def test_a_checks_lock_waits_for_its_writers_but_not_for_a_row_referring_to_it(
    server: Any, runtime: Any, backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("row locks are PostgreSQL's: SQLite lets one writer in at a time")
    check_id = (await ring_in(runtime, items=[(1, "PA-CAR")])).check_id
    params = {"check_id": check_id}

    async with runtime.db.write() as referring:
        # what inserting a payment or a line of the check holds until its transaction ends
        await referring.exec(SHARE_THE_KEY, params=params)
        async with runtime.db.write() as locking:
            await locking.exec(SHORT_WAIT)
            check = await get_check_for_update(locking, check_id)
            assert check.id == check_id

    async def lock_with_a_short_wait() -> None:
        async with runtime.db.write() as locking:
            await locking.exec(SHORT_WAIT)
            await get_check_for_update(locking, check_id)

    async with runtime.db.write() as writer:
        await writer.exec(WRITE_THE_CHECK, params=params)
        with pytest.raises(DBAPIError, match="lock timeout"):
            await lock_with_a_short_wait()
