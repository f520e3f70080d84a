"""Voids after send: a reason always, a manager's PIN in the same flow for a server, a void ticket for the kitchen."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from app.orders.models import FireKind, LineState
from app.staff.models import PinAttempt, Staff
from tests.integration.orders.conftest import Restaurant


async def _sent_burrata(server: Any, restaurant: Restaurant, quantity: int = 1) -> tuple[int, int]:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-BUR", seat=1, quantity=quantity)
    await restaurant.post(server, check_id, "send")
    return check_id, (await restaurant.lines(check_id))[0].id or 0


async def _staff_id(runtime: Any, name: str) -> int:
    async with runtime.db.read() as session:
        return (await session.exec(select(Staff.id).where(Staff.name == name))).one() or 0


async def test_a_server_voiding_after_send_without_a_manager_pin_is_asked_for_one_and_nothing_changes(
    server: Any, restaurant: Restaurant
) -> None:
    check_id, line_id = await _sent_burrata(server, restaurant)
    response = await restaurant.post(server, check_id, f"lines/{line_id}/void", {"reason": "Guest changed their mind"})
    assert response.status_code == 403
    assert response.headers["hx-retarget"] == "#sheet"
    assert "Manager approval" in response.text
    assert "A manager&#39;s PIN is needed to void Burrata &amp; Tomatoes after send." in response.text
    assert 'name="reason" value="Guest changed their mind"' in response.text
    assert 'name="manager_pin"' in response.text
    assert (await restaurant.lines(check_id))[0].state == LineState.SENT
    assert [f.kind for f in await restaurant.fires(check_id)] == [FireKind.NEW]


async def test_a_manager_pin_in_the_same_flow_voids_and_tells_the_kitchen(
    server: Any, restaurant: Restaurant, runtime: Any
) -> None:
    check_id, line_id = await _sent_burrata(server, restaurant)
    response = await restaurant.post(
        server, check_id, f"lines/{line_id}/void", {"reason": "Guest changed their mind", "manager_pin": "9999"}
    )
    assert response.status_code == 200, response.text
    assert "Burrata &amp; Tomatoes voided; the kitchen is told." in response.text
    line = (await restaurant.lines(check_id))[0]
    nora, lena = await _staff_id(runtime, "Nora Vance"), await _staff_id(runtime, "Lena Brooks")
    assert (line.state, line.void_reason, line.voided_by, line.void_approved_by) == (
        LineState.VOIDED,
        "Guest changed their mind",
        lena,
        nora,
    )
    fires = await restaurant.fires(check_id)
    assert [f.kind for f in fires] == [FireKind.NEW, FireKind.VOID]
    assert [(fl.line_id, fl.quantity_num) for fl in await restaurant.fire_lines(fires[1].id or 0)] == [(line_id, 1)]
    assert [m.payload for m in await restaurant.outbox()] == [{"fire_id": fires[0].id}, {"fire_id": fires[1].id}]
    entries = await restaurant.audit("line.void_after_send")
    assert len(entries) == 1
    assert (entries[0].actor_id, entries[0].approver_id, entries[0].reason) == (lena, nora, "Guest changed their mind")


async def test_a_wrong_manager_pin_is_refused_counted_and_changes_nothing(
    server: Any, restaurant: Restaurant, runtime: Any
) -> None:
    check_id, line_id = await _sent_burrata(server, restaurant)
    response = await restaurant.post(
        server, check_id, f"lines/{line_id}/void", {"reason": "Kitchen error", "manager_pin": "8080"}
    )
    assert response.status_code == 403
    assert response.headers["hx-retarget"] == "#flash", "said on the pad it was typed on, not on a second pad"
    assert "Manager approval" not in response.text
    assert "That PIN is not right. Nothing was changed." in response.text
    assert (await restaurant.lines(check_id))[0].state == LineState.SENT
    async with runtime.db.read() as session:
        failures = (await session.exec(select(PinAttempt).where(col(PinAttempt.success).is_(False)))).all()
    assert len(failures) == 1
    assert len(await restaurant.audit("approval.pin_refused")) == 1


async def test_a_pin_of_someone_without_the_permission_does_not_approve_a_void(
    server: Any, restaurant: Restaurant
) -> None:
    check_id, line_id = await _sent_burrata(server, restaurant)
    response = await restaurant.post(
        server, check_id, f"lines/{line_id}/void", {"reason": "Kitchen error", "manager_pin": "2222"}
    )
    assert response.status_code == 403
    assert "Theo Marsh cannot approve this" in response.text
    assert (await restaurant.lines(check_id))[0].state == LineState.SENT
    assert len(await restaurant.fires(check_id)) == 1


async def test_five_wrong_manager_pins_make_the_tablet_wait(server: Any, restaurant: Restaurant) -> None:
    check_id, line_id = await _sent_burrata(server, restaurant)
    for _ in range(5):
        await restaurant.post(server, check_id, f"lines/{line_id}/void", {"reason": "x", "manager_pin": "8080"})
    response = await restaurant.post(server, check_id, f"lines/{line_id}/void", {"reason": "x", "manager_pin": "9999"})
    assert response.status_code == 403
    assert "Too many wrong PINs" in response.text
    assert (await restaurant.lines(check_id))[0].state == LineState.SENT


async def test_a_manager_voids_after_send_without_a_second_pin(
    server: Any, manager: Any, restaurant: Restaurant
) -> None:
    check_id, line_id = await _sent_burrata(server, restaurant)
    response = await restaurant.post(manager, check_id, f"lines/{line_id}/void", {"reason": "Took too long"})
    assert response.status_code == 200, response.text
    assert [f.kind for f in await restaurant.fires(check_id)] == [FireKind.NEW, FireKind.VOID]


async def test_a_void_after_send_needs_a_reason(server: Any, manager: Any, restaurant: Restaurant) -> None:
    check_id, line_id = await _sent_burrata(server, restaurant)
    response = await restaurant.post(manager, check_id, f"lines/{line_id}/void", {"reason": "  "})
    assert response.status_code == 422
    assert "give a reason for the void" in response.text
    too_long = await restaurant.post(manager, check_id, f"lines/{line_id}/void", {"reason": "r" * 201})
    assert too_long.status_code == 422
    assert (await restaurant.lines(check_id))[0].state == LineState.SENT
    assert len(await restaurant.fires(check_id)) == 1


async def test_voiding_part_of_a_line_leaves_the_rest_and_tells_the_kitchen_how_many(
    server: Any, manager: Any, restaurant: Restaurant
) -> None:
    check_id, line_id = await _sent_burrata(server, restaurant, quantity=3)
    response = await restaurant.post(
        manager, check_id, f"lines/{line_id}/void", {"reason": "Rung in by mistake", "quantity": "1"}
    )
    assert response.status_code == 200, response.text
    lines = await restaurant.lines(check_id)
    assert [(line.quantity_num, line.state, line.origin_line_id) for line in lines] == [
        (2, LineState.SENT, None),
        (1, LineState.VOIDED, line_id),
    ]
    void = (await restaurant.fires(check_id))[-1]
    assert [(fl.line_id, fl.quantity_num) for fl in await restaurant.fire_lines(void.id or 0)] == [(line_id, 1)]
    over = await restaurant.post(manager, check_id, f"lines/{line_id}/void", {"reason": "x", "quantity": "3"})
    assert over.status_code == 422
    assert "between 1 and 2" in over.text


async def test_a_voided_line_cannot_be_voided_again(server: Any, manager: Any, restaurant: Restaurant) -> None:
    check_id, line_id = await _sent_burrata(server, restaurant)
    await restaurant.post(manager, check_id, f"lines/{line_id}/void", {"reason": "Kitchen error"})
    again = await restaurant.post(manager, check_id, f"lines/{line_id}/void", {"reason": "Kitchen error"})
    assert again.status_code == 409
    assert len(await restaurant.fires(check_id)) == 2


async def test_the_line_sheet_offers_a_manager_pin_to_a_server_and_not_to_a_manager(
    server: Any, manager: Any, restaurant: Restaurant
) -> None:
    check_id, line_id = await _sent_burrata(server, restaurant)
    for_server = await server.get(f"/checks/{check_id}/lines/{line_id}", htmx=True)
    assert 'name="manager_pin"' in for_server.text
    for_manager = await manager.get(f"/checks/{check_id}/lines/{line_id}", htmx=True)
    assert "Void after send" in for_manager.text
    assert 'name="manager_pin"' not in for_manager.text
