"""Kitchen screens over websockets on a real server: routing to boards, full board on connect, bump, recall, expo."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from sqlmodel import select
from websockets.exceptions import InvalidStatus

from app.kitchen.models import KitchenTicket, KitchenTicketLine, TicketState
from app.lib import outbox
from app.orders.models import Check
from tests.integration.kitchen.support import (
    Order,
    board_socket,
    drain_messages,
    fire,
    log_in,
    next_message,
    open_check,
    routed,
    serve,
    station_id,
)


async def ticket_at(runtime: Any, fire_id: int, station: int) -> KitchenTicket:
    async with runtime.db.read() as session:
        return (
            await session.exec(
                select(KitchenTicket).where(KitchenTicket.fire_id == fire_id, KitchenTicket.station_id == station)
            )
        ).one()


async def grill_ticket_of_two(runtime: Any) -> tuple[KitchenTicket, list[KitchenTicketLine]]:
    """A rib-eye and a burger fired and routed: the Grill's ticket and its lines."""
    fire_id = await fire(runtime, await open_check(runtime), [Order("GR-RIB"), Order("GR-BUR")])
    await routed(runtime, fire_id)
    ticket = await ticket_at(runtime, fire_id, await station_id(runtime, "Grill"))
    async with runtime.db.read() as session:
        lines = (await session.exec(select(KitchenTicketLine).where(KitchenTicketLine.ticket_id == ticket.id))).all()
    return ticket, list(lines)


async def test_a_fire_reaches_the_grill_fry_and_expo_boards_and_not_the_others(
    app: Litestar, runtime: Any, demo: None
) -> None:
    grill, fry, cold, expo = [await station_id(runtime, n) for n in ("Grill", "Fry", "Cold", "Expo")]
    async with serve(app) as url:
        cook = await log_in(url, "3333")
        async with (
            board_socket(url, cook, grill) as grill_ws,
            board_socket(url, cook, fry) as fry_ws,
            board_socket(url, cook, cold) as cold_ws,
            board_socket(url, cook, expo) as expo_ws,
        ):
            for ws in (grill_ws, fry_ws, cold_ws, expo_ws):
                first = await next_message(ws)
                assert first["type"] == "board"
                assert 'class="ticket' not in first["html"]
            scene = await open_check(runtime, table="12")
            fire_id = await fire(
                runtime,
                scene,
                [Order("GR-RIB", 2, seat=1, note="<b>no salt</b>", modifiers=["Medium rare"]), Order("FR-CAL")],
            )

            grill_card = await next_message(grill_ws, "card")
            fry_card = await next_message(fry_ws, "card")
            expo_card = await next_message(expo_ws, "card")
            assert await drain_messages(cold_ws) == []
        await cook.aclose()

    grill_ticket = await ticket_at(runtime, fire_id, grill)
    assert grill_card["id"] == f"ticket-{grill_ticket.id}"
    assert grill_card["open"] is True
    html = grill_card["html"]
    assert "Table 12" in html
    assert "Rib-eye 300 g" in html
    assert "Medium rare" in html
    assert "Lena Brooks" in html
    assert "S1" in html
    assert "Mains" in html
    # notes are the guest's words, never markup
    assert "&lt;b&gt;no salt&lt;/b&gt;" in html
    assert "<b>no salt</b>" not in html
    assert "Fried Calamari" in fry_card["html"]
    assert "Rib-eye" not in fry_card["html"]
    assert "Rib-eye 300 g" in expo_card["html"]
    assert "Fried Calamari" in expo_card["html"]
    assert "Grill …" in expo_card["html"]
    assert "Fry …" in expo_card["html"]


async def test_a_screen_that_reconnects_first_gets_its_whole_board(app: Litestar, runtime: Any, demo: None) -> None:
    grill = await station_id(runtime, "Grill")
    async with serve(app) as url:
        cook = await log_in(url, "3333")
        first_fire = await fire(runtime, await open_check(runtime, table="4"), [Order("GR-RIB")])
        async with board_socket(url, cook, grill) as ws:
            board = await next_message(ws)
            if "Table 4" not in board["html"]:
                await next_message(ws, "card")
        # while the screen is away, more food is fired
        second_fire = await fire(runtime, await open_check(runtime, table="5"), [Order("GR-BUR")])
        await routed(runtime, second_fire)
        async with board_socket(url, cook, grill) as ws:
            board = await next_message(ws)
        await cook.aclose()

    assert board["type"] == "board"
    first = await ticket_at(runtime, first_fire, grill)
    second = await ticket_at(runtime, second_fire, grill)
    assert board["html"].count(f'id="ticket-{first.id}"') == 1
    assert board["html"].count(f'id="ticket-{second.id}"') == 1
    assert "Brigade Burger" in board["all_day"]
    assert "Rib-eye 300 g" in board["all_day"]


async def test_a_push_delivered_twice_carries_the_same_card_id_and_version(
    app: Litestar, runtime: Any, demo: None
) -> None:
    grill = await station_id(runtime, "Grill")
    async with serve(app) as url:
        cook = await log_in(url, "3333")
        async with board_socket(url, cook, grill) as ws:
            await next_message(ws, "board")
            fire_id = await fire(runtime, await open_check(runtime), [Order("GR-RIB")])
            card = await next_message(ws, "card")
            ticket = await ticket_at(runtime, fire_id, grill)
            # the same push again, as after a redelivery
            async with runtime.db.write() as session:
                await outbox.enqueue(session, "kds.push", {"tickets": [ticket.id]})
            again = await next_message(ws, "card")
        await cook.aclose()

    assert (again["id"], again["version"]) == (card["id"], card["version"])
    assert again["html"] == card["html"]


async def test_bump_recall_and_expo_ready_turn_the_table_ready(app: Litestar, runtime: Any, demo: None) -> None:
    grill, fry, expo = [await station_id(runtime, n) for n in ("Grill", "Fry", "Expo")]
    async with serve(app) as url:
        cook = await log_in(url, "3333")
        scene = await open_check(runtime, table="12")
        fire_id = await fire(runtime, scene, [Order("GR-RIB"), Order("FR-CAL")])
        async with board_socket(url, cook, grill) as grill_ws, board_socket(url, cook, expo) as expo_ws:
            await next_message(grill_ws, "board")
            await next_message(expo_ws, "board")
            await routed(runtime, fire_id)
            await drain_messages(grill_ws)
            await drain_messages(expo_ws)
            grill_ticket = await ticket_at(runtime, fire_id, grill)
            fry_ticket = await ticket_at(runtime, fire_id, fry)
            expo_ticket = await ticket_at(runtime, fire_id, expo)

            early = await cook.post(f"/kds/tickets/{expo_ticket.id}/bump", headers={"hx-request": "true"})
            assert early.status_code == 409
            assert "Fry, Grill still working on it" in early.text

            bumped = await cook.post(f"/kds/tickets/{grill_ticket.id}/bump", headers={"hx-request": "true"})
            assert bumped.status_code == 200
            gone = await next_message(grill_ws, "card")
            assert (gone["id"], gone["open"]) == (f"ticket-{grill_ticket.id}", False)
            progress = await next_message(expo_ws, "card")
            assert "Grill ✓" in progress["html"]
            assert "Fry …" in progress["html"]

            recalled = await cook.post(f"/kds/{grill}/recall", headers={"hx-request": "true"})
            assert recalled.json() == {"recalled": grill_ticket.id}
            back = await next_message(grill_ws, "card")
            assert back["open"]
            assert back["version"] > gone["version"]

            await cook.post(f"/kds/tickets/{grill_ticket.id}/bump", headers={"hx-request": "true"})
            await cook.post(f"/kds/tickets/{fry_ticket.id}/bump", headers={"hx-request": "true"})
            ready_card = None
            while ready_card is None or "Ready — run it" not in ready_card["html"]:
                ready_card = await next_message(expo_ws, "card")
            async with runtime.db.read() as session:
                assert (await session.get(Check, scene.check_id)).kitchen_ready_at is None  # type: ignore[union-attr]

            ready = await cook.post(f"/kds/tickets/{expo_ticket.id}/bump", headers={"hx-request": "true"})
            assert ready.status_code == 200
            # pushes queued earlier may still arrive first; the screen keeps the newest version
            done = await next_message(expo_ws, "card")
            while done["open"]:
                assert done["version"] <= ready_card["version"] + 1
                done = await next_message(expo_ws, "card")
            assert done["id"] == f"ticket-{expo_ticket.id}"
            assert done["version"] > ready_card["version"]
        await cook.aclose()

    async with runtime.db.read() as session:
        check = await session.get(Check, scene.check_id)
        expo_row = await session.get(KitchenTicket, expo_ticket.id)
    assert check is not None
    assert check.kitchen_ready_at is not None
    assert expo_row is not None
    assert expo_row.state is TicketState.BUMPED


async def test_bumping_every_item_bumps_the_ticket_and_a_second_bump_is_refused(
    app: Litestar, runtime: Any, demo: None
) -> None:
    async with serve(app) as url:
        cook = await log_in(url, "3333")
        ticket, lines = await grill_ticket_of_two(runtime)
        first = await cook.post(f"/kds/items/{lines[0].id}/bump", headers={"hx-request": "true"})
        twice = await cook.post(f"/kds/items/{lines[0].id}/bump", headers={"hx-request": "true"})
        last = await cook.post(f"/kds/items/{lines[1].id}/bump", headers={"hx-request": "true"})
        again = await cook.post(f"/kds/tickets/{ticket.id}/bump", headers={"hx-request": "true"})
        await cook.aclose()

    assert first.status_code == 200
    assert twice.status_code == 409
    assert "Rib-eye 300 g was already bumped" in twice.text
    assert last.status_code == 200
    assert again.status_code == 409
    assert "already bumped" in again.text
    async with runtime.db.read() as session:
        row = await session.get(KitchenTicket, ticket.id)
    assert row is not None
    assert row.state is TicketState.BUMPED


async def test_recall_with_nothing_bumped_says_so(app: Litestar, runtime: Any, demo: None) -> None:
    grill = await station_id(runtime, "Grill")
    async with serve(app) as url:
        cook = await log_in(url, "3333")
        response = await cook.post(f"/kds/{grill}/recall", headers={"hx-request": "true"})
        missing = await cook.post("/kds/tickets/999999/bump", headers={"hx-request": "true"})
        await cook.aclose()
    assert response.status_code == 409
    assert "Grill has no bumped ticket to recall" in response.text
    assert missing.status_code == 404


async def test_a_server_cannot_open_a_kitchen_screen_or_bump(app: Litestar, runtime: Any, demo: None) -> None:
    grill = await station_id(runtime, "Grill")
    async with serve(app) as url:
        server = await log_in(url, "1111")
        with pytest.raises(InvalidStatus) as refused:
            async with board_socket(url, server, grill):
                pass
        bump = await server.post("/kds/tickets/1/bump", headers={"hx-request": "true"})
        await server.aclose()
    assert refused.value.response.status_code == 403
    assert bump.status_code == 403


async def test_a_kitchen_screen_from_another_origin_is_refused(app: Litestar, runtime: Any, demo: None) -> None:
    grill = await station_id(runtime, "Grill")
    async with serve(app) as url:
        cook = await log_in(url, "3333")
        with pytest.raises(InvalidStatus) as refused:
            async with board_socket(url, cook, grill, origin="http://evil.example"):
                pass
        await cook.aclose()
    assert refused.value.response.status_code == 403


async def test_a_screen_without_a_session_is_refused(app: Litestar, runtime: Any, demo: None) -> None:
    import httpx

    grill = await station_id(runtime, "Grill")
    async with serve(app) as url:
        anonymous = httpx.AsyncClient(base_url=url)
        with pytest.raises(InvalidStatus) as refused:
            async with board_socket(url, anonymous, grill):
                pass
        await anonymous.aclose()
    assert refused.value.response.status_code in (401, 403)


async def test_the_board_page_renders_whole_and_as_a_fragment(app: Litestar, runtime: Any, demo: None) -> None:
    grill = await station_id(runtime, "Grill")
    async with serve(app) as url:
        cook = await log_in(url, "3333")
        await routed(
            runtime,
            await fire(
                runtime, await open_check(runtime, table="8"), [Order("GR-RIB", note="<script>alert(1)</script>")]
            ),
        )
        page = await cook.get(f"/kds/{grill}")
        fragment = await cook.get(f"/kds/{grill}", headers={"hx-request": "true"})
        index = await cook.get("/kds")
        unknown = await cook.get("/kds/99999")
        await cook.aclose()
    assert page.status_code == 200
    assert 'data-ws="/kds/ws/' in page.text
    assert "kds.js" in page.text
    assert "Table 8" in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert(1)" not in page.text
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "Table 8" in fragment.text
    assert index.status_code == 200
    assert "Grill" in index.text
    assert "1 open ticket" in index.text
    assert unknown.status_code == 404


@contextlib.asynccontextmanager
async def _grill_screen(app: Litestar, runtime: Any, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Any, Any]]:
    """The cook logged in and the Grill's screen connected, with heartbeats and session checks a few tenths of a
    second apart; yields the cook's client and the screen's socket, its board already read."""
    import kds.controllers

    monkeypatch.setattr(kds.controllers, "HEARTBEAT_SECONDS", 0.1)
    monkeypatch.setattr(kds.controllers, "SESSION_CHECK_SECONDS", 0.2)
    grill = await station_id(runtime, "Grill")
    async with serve(app) as url:
        cook = await log_in(url, "3333")
        try:
            async with board_socket(url, cook, grill) as ws:
                await next_message(ws, "board")
                yield cook, ws
        finally:
            await cook.aclose()


async def test_a_screen_whose_login_ends_is_disconnected(
    app: Litestar, runtime: Any, demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from websockets.exceptions import ConnectionClosed

    async with _grill_screen(app, runtime, monkeypatch) as (cook, ws):
        await cook.post("/logout", headers={"hx-request": "true"})
        with pytest.raises(ConnectionClosed) as closed:
            await _read_until_closed(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


async def test_a_screen_whose_login_is_alive_stays_connected_through_its_session_checks(
    app: Litestar, runtime: Any, demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _grill_screen(app, runtime, monkeypatch) as (_cook, ws):
        # Ten heartbeats take five session checks: the screen is still fed after each of them.
        for _ in range(10):
            await next_message(ws, "heartbeat")


async def _read_until_closed(ws: Any) -> None:
    while True:
        await next_message(ws)


async def test_a_cooks_bump_recall_and_reprint_take_the_kitchens_turn_at_the_writer(
    app: Litestar, runtime: Any, demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On SQLite, writers waiting for the one writer go in turn: a cook's action goes before the floor's requests.
    from app.lib.db import Database, Turn

    turns: list[Turn] = []
    write = Database.write

    @contextlib.asynccontextmanager
    async def spying(self: Database, *, turn: Turn = Turn.REQUEST) -> AsyncIterator[Any]:
        turns.append(turn)
        async with write(self, turn=turn) as session:
            yield session

    grill = await station_id(runtime, "Grill")
    async with serve(app) as url:
        cook = await log_in(url, "3333")
        ticket, (line, _burger) = await grill_ticket_of_two(runtime)
        monkeypatch.setattr(Database, "write", spying)
        asked: dict[str, list[Turn]] = {}
        for path in (f"/kds/items/{line.id}/bump", f"/kds/tickets/{ticket.id}/bump", f"/kds/{grill}/recall"):
            turns.clear()
            answered = await cook.post(path, headers={"hx-request": "true"})
            assert answered.status_code == 200, answered.text
            # the workers delivering the changed cards write too, at their own turn
            asked[path] = [turn for turn in turns if turn is not Turn.DELIVERY]
        await cook.aclose()
    assert asked == {
        f"/kds/items/{line.id}/bump": [Turn.KITCHEN],
        f"/kds/tickets/{ticket.id}/bump": [Turn.KITCHEN],
        f"/kds/{grill}/recall": [Turn.KITCHEN],
    }
