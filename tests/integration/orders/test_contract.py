"""The public service functions the checks and kitchen domains call, held to what they promise."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from app.lib.errors import Conflict, InvalidInput, StaleVersion
from app.orders import floor_queries, seating, services
from app.orders.calculations import TableState
from app.orders.models import Check, CheckKind, CheckStatus, LineState
from app.staff.models import Staff
from tests.integration.orders.conftest import Restaurant


async def _staff(runtime: Any, name: str) -> Staff:
    async with runtime.db.read() as session:
        return (await session.exec(select(Staff).where(Staff.name == name))).one()


async def test_open_check_get_check_for_update_and_bump_version(runtime: Any, restaurant: Restaurant) -> None:
    lena = await _staff(runtime, "Lena Brooks")
    table = await restaurant.table_id("12")
    async with runtime.db.write() as session:
        check = await seating.open_check(session, table_id=table, covers=4, server=lena, kind=CheckKind.TABLE)
        check_id = check.id or 0
    async with runtime.db.write() as session:
        locked = await services.get_check_for_update(session, check_id)
        assert (locked.number, locked.version, locked.server_id) == (check_id, 1, lena.id)
        await services.bump_version(session, locked, 1)
    assert await restaurant.version(check_id) == 2
    with pytest.raises(StaleVersion, match="changed on another tablet") as stale:
        async with runtime.db.write() as session:
            await services.bump_version(session, await services.get_check_for_update(session, check_id), 1)
    assert stale.value.detail == {"check_id": check_id, "version": 2}
    assert await restaurant.version(check_id) == 2


async def test_a_split_check_may_share_its_table(runtime: Any, restaurant: Restaurant) -> None:
    lena = await _staff(runtime, "Lena Brooks")
    table = await restaurant.table_id("12")
    async with runtime.db.write() as session:
        first = await seating.open_check(session, table_id=table, covers=2, server=lena, kind="table")
    with pytest.raises(Conflict):
        async with runtime.db.write() as session:
            await seating.open_check(session, table_id=table, covers=2, server=lena, kind="table")
    async with runtime.db.write() as session:
        split = await seating.open_check(
            session, table_id=table, covers=1, server=lena, kind="table", split_from_id=first.id
        )
    assert split.split_from_id == first.id


async def test_move_lines_is_what_a_split_calls_and_it_never_fires(
    server: Any, runtime: Any, restaurant: Restaurant
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-BUR", seat=1)
    await restaurant.ring_in(server, check_id, "ST-SOU", seat=2)
    await restaurant.post(server, check_id, "send")
    lena = await _staff(runtime, "Lena Brooks")
    soup = (await restaurant.lines(check_id))[1]
    async with runtime.db.write() as session:
        split = await seating.open_check(
            session,
            table_id=await restaurant.table_id("12"),
            covers=1,
            server=lena,
            kind="table",
            split_from_id=check_id,
        )
        moved = await seating.move_lines(
            session,
            line_ids=[soup.id or 0],
            from_check_id=check_id,
            to_check_id=split.id or 0,
            actor=lena,
            audit_action="check.split_by_seat",
        )
    assert [(line.name, line.state) for line in moved] == [("Soup of the Day", LineState.SENT)]
    assert len(await restaurant.fires()) == 1
    assert len(await restaurant.audit("check.split_by_seat")) == 1


async def test_mark_kitchen_ready_shows_ready_until_the_next_fire(
    server: Any, runtime: Any, restaurant: Restaurant
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-BUR", seat=1)
    await restaurant.post(server, check_id, "send")
    async with runtime.db.write() as session:
        await seating.mark_kitchen_ready(session, check_id)
    table = await restaurant.table_id("12")

    async def state() -> TableState:
        async with runtime.db.read() as session:
            return (await floor_queries.table_views(session, table_ids=[table]))[0].state

    assert await state() == TableState.READY
    await restaurant.ring_in(server, check_id, "GR-CHK", options=["Fries"], seat=2)
    await restaurant.post(server, check_id, "send")
    assert await state() == TableState.FIRED


async def test_clear_table_frees_a_paid_table_and_refuses_an_open_one(
    server: Any, runtime: Any, restaurant: Restaurant
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    lena = await _staff(runtime, "Lena Brooks")
    with pytest.raises(Conflict, match="still open"):
        async with runtime.db.write() as session:
            await seating.clear_table(session, check_id, lena)
    async with runtime.db.write() as session:
        check = await session.get(Check, check_id)
        assert check is not None
        check.status = CheckStatus.CLOSED
        session.add(check)
    table = await restaurant.table_id("12")
    async with runtime.db.read() as session:
        assert (await floor_queries.table_views(session, table_ids=[table]))[0].state == TableState.PAID
    async with runtime.db.write() as session:
        await seating.clear_table(session, check_id, lena)
    async with runtime.db.read() as session:
        assert (await floor_queries.table_views(session, table_ids=[table]))[0].state == TableState.FREE
    assert (await restaurant.check(check_id)).table_cleared_at is not None


async def test_seating_a_paid_table_that_was_not_cleared_clears_it(
    server: Any, runtime: Any, restaurant: Restaurant
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    async with runtime.db.write() as session:
        check = await session.get(Check, check_id)
        assert check is not None
        check.status = CheckStatus.CLOSED
        session.add(check)
    again = await restaurant.open_table(server, "12", 3)
    assert again != check_id
    assert (await restaurant.check(check_id)).table_cleared_at is not None


async def test_open_check_refuses_a_server_who_does_not_take_orders(runtime: Any, restaurant: Restaurant) -> None:
    cook = await _staff(runtime, "Ravi Okafor")
    with pytest.raises(InvalidInput, match="does not take orders"):
        async with runtime.db.write() as session:
            await seating.open_check(session, table_id=None, covers=1, server=cook, kind="takeout")
