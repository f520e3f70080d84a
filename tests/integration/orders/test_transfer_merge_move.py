"""Transfers, merges and moves change where food is billed, never what the kitchen makes."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from app.orders.models import CheckKind, CheckStatus, LineState
from app.staff.models import Staff
from tests.integration.orders.conftest import Restaurant


async def _sent_table(device: Any, restaurant: Restaurant, name: str) -> int:
    check_id = await restaurant.open_table(device, name, 2)
    await restaurant.ring_in(device, check_id, "ST-BUR", seat=1)
    await restaurant.ring_in(device, check_id, "GR-CHK", options=["Fries"], seat=2)
    await restaurant.post(device, check_id, "send")
    return check_id


async def test_transferring_a_check_to_another_table_sends_nothing_to_the_kitchen(
    server: Any, restaurant: Restaurant
) -> None:
    check_id = await _sent_table(server, restaurant, "12")
    fires_before, outbox_before = len(await restaurant.fires()), len(await restaurant.outbox())
    response = await restaurant.post(
        server, check_id, "transfer", {"to_table_id": str(await restaurant.table_id("14"))}
    )
    assert response.status_code == 200, response.text
    assert "Nothing was sent to the kitchen" in response.text
    assert (await restaurant.check(check_id)).table_id == await restaurant.table_id("14")
    assert len(await restaurant.fires()) == fires_before
    assert len(await restaurant.outbox()) == outbox_before
    entry = (await restaurant.audit("check.transfer"))[0]
    assert entry.before is not None
    assert entry.after is not None
    assert entry.before["table_id"] == await restaurant.table_id("12")
    assert entry.after["table_id"] == await restaurant.table_id("14")


async def test_a_bar_tab_moves_to_a_table(server: Any, restaurant: Restaurant) -> None:
    response = await server.post(
        "/checks", {"kind": "tab", "tab_name": "Jones", "covers": "2", "idempotency_key": "tab-jones"}
    )
    check_id = int(response.headers["hx-redirect"].rsplit("/", 1)[1])
    await restaurant.post(server, check_id, "transfer", {"to_table_id": str(await restaurant.table_id("5"))})
    check = await restaurant.check(check_id)
    assert (check.kind, check.table_id) == (CheckKind.TABLE, await restaurant.table_id("5"))


async def test_transferring_to_a_seated_table_is_refused_with_a_hint_to_merge(
    server: Any, restaurant: Restaurant
) -> None:
    first = await restaurant.open_table(server, "12", 2)
    await restaurant.open_table(server, "14", 2)
    response = await restaurant.post(server, first, "transfer", {"to_table_id": str(await restaurant.table_id("14"))})
    assert response.status_code == 409
    assert "Merge the checks instead" in response.text
    assert (await restaurant.check(first)).table_id == await restaurant.table_id("12")
    unknown = await restaurant.post(server, first, "transfer", {"to_table_id": "99999"})
    assert unknown.status_code == 404
    nothing = await restaurant.post(server, first, "transfer", {})
    assert nothing.status_code == 422
    assert await restaurant.audit("check.transfer") == []


async def test_handing_a_check_to_another_server_is_audited_and_sends_nothing(
    server: Any, restaurant: Restaurant, runtime: Any
) -> None:
    check_id = await _sent_table(server, restaurant, "12")
    async with runtime.db.read() as session:
        milo = (await session.exec(select(Staff).where(Staff.name == "Milo Grant"))).one()
        ada = (await session.exec(select(Staff).where(Staff.name == "Ada Pierce"))).one()
    host = await restaurant.post(server, check_id, "transfer", {"to_server_id": str(ada.id)})
    assert host.status_code == 422
    assert "Ada Pierce does not take orders" in host.text
    response = await restaurant.post(server, check_id, "transfer", {"to_server_id": str(milo.id)})
    assert response.status_code == 200, response.text
    assert response.headers["hx-redirect"] == "/floor"
    assert (await restaurant.check(check_id)).server_id == milo.id
    assert len(await restaurant.fires()) == 2
    assert len(await restaurant.audit("check.transfer")) == 1


async def test_another_server_needs_a_manager_to_transfer_a_check(
    server: Any, second_server: Any, restaurant: Restaurant
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    response = await restaurant.post(
        second_server, check_id, "transfer", {"to_table_id": str(await restaurant.table_id("3"))}
    )
    assert response.status_code == 403
    assert "Manager approval" in response.text
    assert (await restaurant.check(check_id)).table_id == await restaurant.table_id("12")


async def test_merging_two_tables_moves_every_line_and_sends_nothing(server: Any, restaurant: Restaurant) -> None:
    into = await _sent_table(server, restaurant, "12")
    source = await _sent_table(server, restaurant, "13")
    fires_before = len(await restaurant.fires())
    response = await restaurant.post(server, into, "merge", {"from_check_id": str(source)})
    assert response.status_code == 200, response.text
    assert len(await restaurant.lines(into)) == 4
    assert await restaurant.lines(source) == []
    merged = await restaurant.check(source)
    assert (merged.status, merged.merged_into_id) == (CheckStatus.MERGED, into)
    assert (await restaurant.check(into)).covers == 4
    assert len(await restaurant.fires()) == fires_before
    assert len(await restaurant.outbox()) == fires_before
    assert len(await restaurant.audit("check.merge")) == 1
    page = await server.get(f"/checks/{source}")
    assert "merged into" in page.text


async def test_merging_a_check_with_itself_or_a_closed_one_is_refused(server: Any, restaurant: Restaurant) -> None:
    into = await restaurant.open_table(server, "12", 2)
    source = await restaurant.open_table(server, "13", 2)
    assert (await restaurant.post(server, into, "merge", {"from_check_id": str(into)})).status_code == 422
    await restaurant.post(server, into, "merge", {"from_check_id": str(source)})
    again = await restaurant.post(server, into, "merge", {"from_check_id": str(source)})
    assert again.status_code == 409
    assert "merged into another check" in again.text
    assert len(await restaurant.audit("check.merge")) == 1


async def test_moving_items_to_another_check_keeps_them_sent_and_sends_nothing(
    server: Any, restaurant: Restaurant
) -> None:
    source = await _sent_table(server, restaurant, "12")
    target = await restaurant.open_table(server, "13", 2)
    chicken = next(line for line in await restaurant.lines(source) if line.name == "Half Chicken")
    fires_before = len(await restaurant.fires())
    response = await restaurant.post(server, source, "move", {"line_id": str(chicken.id), "to_check_id": str(target)})
    assert response.status_code == 200, response.text
    assert "1 item moved. Nothing was sent to the kitchen." in response.text
    moved = await restaurant.lines(target)
    assert [(line.name, line.state) for line in moved] == [("Half Chicken", LineState.SENT)]
    assert [line.name for line in await restaurant.lines(source)] == ["Burrata & Tomatoes"]
    assert len(await restaurant.fires()) == fires_before
    assert len(await restaurant.audit("check.move_lines")) == 1


async def test_moving_items_that_are_not_on_the_check_or_nothing_at_all_is_refused(
    server: Any, restaurant: Restaurant
) -> None:
    source = await _sent_table(server, restaurant, "12")
    target = await restaurant.open_table(server, "13", 2)
    elsewhere = await restaurant.open_table(server, "14", 2)
    await restaurant.ring_in(server, elsewhere, "ST-SOU")
    stranger = (await restaurant.lines(elsewhere))[0]
    wrong = await restaurant.post(server, source, "move", {"line_id": str(stranger.id), "to_check_id": str(target)})
    assert wrong.status_code == 422
    empty = await restaurant.post(server, source, "move", {"to_check_id": str(target)})
    assert empty.status_code == 422
    assert "Choose at least one item" in empty.text
    same = await restaurant.post(
        server, source, "move", {"line_id": str((await restaurant.lines(source))[0].id), "to_check_id": str(source)}
    )
    assert same.status_code == 422
    assert await restaurant.lines(target) == []
    assert await restaurant.audit("check.move_lines") == []
