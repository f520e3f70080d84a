"""Send, hold, fire a course, rush: every fire is a KitchenFire with its lines and one outbox row."""

from __future__ import annotations

import asyncio
from typing import Any

from app.menu.models import Course
from app.orders.models import FireKind, LineState
from tests.integration.orders.conftest import Restaurant, key


async def _table_12_with_drinks_starters_and_mains(server: Any, restaurant: Restaurant) -> int:
    check_id = await restaurant.open_table(server, "12", 4)
    await restaurant.ring_in(server, check_id, "CK-NEG", options=["With ice"], seat=1)
    await restaurant.ring_in(server, check_id, "BR-PIL", options=["50 cl"], seat=2)
    await restaurant.ring_in(server, check_id, "ST-BUR", seat=1)
    await restaurant.ring_in(server, check_id, "ST-SOU", seat=2)
    await restaurant.ring_in(server, check_id, "GR-LAM", options=["Medium rare", "Fries"], seat=3)
    await restaurant.ring_in(server, check_id, "GR-CHK", options=["Mashed potatoes"], seat=4)
    return check_id


async def test_holding_mains_then_send_fires_only_drinks_and_starters(server: Any, restaurant: Restaurant) -> None:
    check_id = await _table_12_with_drinks_starters_and_mains(server, restaurant)
    held = await restaurant.post(server, check_id, "courses/mains/hold")
    assert held.status_code == 200, held.text
    sent = await restaurant.post(server, check_id, "send")
    assert sent.status_code == 200, sent.text
    assert "Sent to the kitchen: Drinks, Starters." in sent.text

    fires = await restaurant.fires(check_id)
    assert [(f.kind, f.course) for f in fires] == [(FireKind.NEW, Course.DRINKS), (FireKind.NEW, Course.STARTERS)]
    lines = {line.name: line for line in await restaurant.lines(check_id)}
    assert lines["Negroni"].state == LineState.SENT
    assert lines["Burrata & Tomatoes"].fire_id == fires[1].id
    assert lines["Lamb Chops"].state == LineState.HELD
    assert lines["Half Chicken"].state == LineState.HELD
    assert {fl.line_id for fl in await restaurant.fire_lines(fires[0].id or 0)} == {
        lines["Negroni"].id,
        lines["Pilsner (draft)"].id,
    }
    outbox = await restaurant.outbox()
    assert [m.payload for m in outbox] == [{"fire_id": f.id} for f in fires]
    assert [m.dedupe_key for m in outbox] == [f"kitchen.fire:{f.id}" for f in fires]


async def test_firing_mains_later_sends_only_mains_and_records_the_fire_time(
    server: Any, restaurant: Restaurant
) -> None:
    check_id = await _table_12_with_drinks_starters_and_mains(server, restaurant)
    await restaurant.post(server, check_id, "courses/mains/hold")
    await restaurant.post(server, check_id, "send")
    fired = await restaurant.post(server, check_id, "courses/mains/fire")
    assert fired.status_code == 200, fired.text
    assert "Mains fired." in fired.text
    fires = await restaurant.fires(check_id)
    assert fires[-1].kind == FireKind.NEW
    assert fires[-1].course == Course.MAINS
    mains = [fl.line_id for fl in await restaurant.fire_lines(fires[-1].id or 0)]
    names = {line.id: line.name for line in await restaurant.lines(check_id)}
    assert sorted(names[i] for i in mains) == ["Half Chicken", "Lamb Chops"]
    assert len(await restaurant.outbox()) == 3
    assert "fired" in (await server.get(f"/checks/{check_id}/panel")).text


async def test_items_added_to_a_held_course_wait_with_it(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "GR-CHK", options=["Fries"], seat=1)
    await restaurant.post(server, check_id, "courses/mains/hold")
    await restaurant.ring_in(server, check_id, "PA-CAR", seat=2)
    states = {line.name: line.state for line in await restaurant.lines(check_id)}
    assert states == {"Half Chicken": LineState.HELD, "Spaghetti Carbonara": LineState.HELD}
    refused = await restaurant.post(server, check_id, "send")
    assert refused.status_code == 422
    assert "Mains is on hold" in refused.text
    assert await restaurant.fires(check_id) == []


async def test_lines_added_after_send_fire_as_an_addition(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "SD-COL", options=["No ice"], seat=1)
    await restaurant.post(server, check_id, "send")
    await restaurant.ring_in(server, check_id, "SD-LEM", seat=2)
    await restaurant.post(server, check_id, "send")
    assert [f.kind for f in await restaurant.fires(check_id)] == [FireKind.NEW, FireKind.ADDITION]


async def test_a_double_submitted_send_fires_once_and_answers_the_same(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-BUR", seat=1)
    body = {"version": str(await restaurant.version(check_id)), "idempotency_key": key()}
    first = await server.post(f"/checks/{check_id}/send", body)
    second = await server.post(f"/checks/{check_id}/send", body)
    assert first.status_code == second.status_code == 200
    assert first.text == second.text
    assert len(await restaurant.fires(check_id)) == 1
    assert len(await restaurant.outbox()) == 1


async def test_two_sends_with_one_key_at_the_same_moment_fire_once(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-BUR", seat=1)
    body = {"version": str(await restaurant.version(check_id)), "idempotency_key": key()}
    responses = await asyncio.gather(*(server.post(f"/checks/{check_id}/send", body) for _ in range(3)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.text for r in responses}) == 1
    assert len(await restaurant.fires(check_id)) == 1


async def test_the_same_key_with_a_different_body_is_refused(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    reused = key()
    version = str(await restaurant.version(check_id))
    first = await server.post(
        f"/checks/{check_id}/lines",
        {"menu_item_id": str(await restaurant.item_id("ST-BUR")), "version": version, "idempotency_key": reused},
    )
    assert first.status_code == 200
    other = await server.post(
        f"/checks/{check_id}/lines",
        {"menu_item_id": str(await restaurant.item_id("ST-SOU")), "version": version, "idempotency_key": reused},
    )
    assert other.status_code == 422
    assert "already sent with different details" in other.text
    assert [line.name for line in await restaurant.lines(check_id)] == ["Burrata & Tomatoes"]


async def test_a_request_without_an_idempotency_key_is_refused(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-BUR", seat=1)
    response = await server.post(f"/checks/{check_id}/send", {"version": str(await restaurant.version(check_id))})
    assert response.status_code == 422
    assert "idempotency key" in response.text
    assert await restaurant.fires(check_id) == []


async def test_firing_an_empty_course_is_refused_and_sends_nothing(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-BUR", seat=1)
    response = await restaurant.post(server, check_id, "courses/dessert/fire")
    assert response.status_code == 422
    assert "Nothing to fire in Dessert" in response.text
    assert await restaurant.fires(check_id) == []
    assert (await restaurant.lines(check_id))[0].state == LineState.PENDING


async def test_sending_with_nothing_new_is_refused(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    response = await restaurant.post(server, check_id, "send")
    assert response.status_code == 422
    assert "Nothing to send" in response.text


async def test_an_unknown_course_or_action_is_refused(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    assert (await restaurant.post(server, check_id, "courses/brunch/fire")).status_code == 422
    assert (await restaurant.post(server, check_id, "courses/mains/explode")).status_code == 404


async def test_rushing_a_sent_course_tells_the_kitchen_once(server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-BUR", seat=1)
    await restaurant.post(server, check_id, "send")
    rushed = await restaurant.post(server, check_id, "courses/starters/rush")
    assert rushed.status_code == 200, rushed.text
    fires = await restaurant.fires(check_id)
    assert [f.kind for f in fires] == [FireKind.NEW, FireKind.RUSH]
    assert (await restaurant.lines(check_id))[0].rush is True
    again = await restaurant.post(server, check_id, "courses/starters/rush")
    assert again.status_code == 422
    assert len(await restaurant.outbox()) == 2


async def test_rushing_an_unsent_course_marks_its_lines_without_a_kitchen_message(
    server: Any, restaurant: Restaurant
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-BUR", seat=1)
    await restaurant.post(server, check_id, "courses/starters/rush")
    assert await restaurant.fires(check_id) == []
    await restaurant.post(server, check_id, "send")
    line = (await restaurant.lines(check_id))[0]
    assert line.rush is True
    assert line.state == LineState.SENT


async def test_sending_firing_and_voiding_take_the_kitchens_turn_at_the_writer(
    server: Any, restaurant: Restaurant, monkeypatch: Any
) -> None:
    # On SQLite, writers waiting for the one writer go in turn: a request sending food to the kitchen goes before
    # the other requests waiting, since its wait is the cooks' wait.
    from contextlib import asynccontextmanager

    from app.lib.db import Database, Turn

    turns: list[Turn] = []
    write = Database.write

    @asynccontextmanager
    async def spying(self: Database, *, turn: Turn = Turn.REQUEST) -> Any:
        turns.append(turn)
        async with write(self, turn=turn) as session:
            yield session

    check_id = await _table_12_with_drinks_starters_and_mains(server, restaurant)
    monkeypatch.setattr(Database, "write", spying)
    asked: dict[str, list[Turn]] = {}
    for action in ("courses/mains/hold", "send", "courses/mains/fire", "courses/mains/rush"):
        turns.clear()
        answered = await restaurant.post(server, check_id, action)
        assert answered.status_code == 200, answered.text
        # the workers delivering the fires write too, at their own turn
        asked[action] = [turn for turn in turns if turn is not Turn.DELIVERY]
    lines = {line.name: line for line in await restaurant.lines(check_id)}
    turns.clear()
    voided = await restaurant.post(
        server, check_id, f"lines/{lines['Lamb Chops'].id}/void", {"reason": "Kitchen error", "manager_pin": "9999"}
    )
    assert "voided; the kitchen is told." in voided.text
    asked["void"] = [turn for turn in turns if turn is not Turn.DELIVERY]
    assert asked == {
        "courses/mains/hold": [Turn.REQUEST],
        "send": [Turn.KITCHEN],
        "courses/mains/fire": [Turn.KITCHEN],
        "courses/mains/rush": [Turn.KITCHEN],
        "void": [Turn.REQUEST, Turn.KITCHEN],  # the manager's PIN is checked (and counted) first
    }
