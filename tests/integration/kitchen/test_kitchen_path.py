"""A fire's way to the screens: cards rendered once, in the routing transaction, and published only once it commits."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlmodel import col, select

from app.kitchen.events import KitchenTicketsChanged
from app.kitchen.models import KitchenTicket
from app.lib.outbox import OutboxMessage
from kds.live import PUSH_TOPIC, Publisher
from tests.integration.kitchen.support import Order, fire, open_check, routed


def record_publishes(runtime: Any, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    published: list[tuple[str, dict[str, Any]]] = []
    publish = runtime.channels.try_publish

    async def recording(data: str, channel: str) -> bool:
        published.append((channel, json.loads(data)))
        ok: bool = await publish(data, channel)
        return ok

    monkeypatch.setattr(runtime.channels, "try_publish", recording)
    return published


async def pushes(runtime: Any) -> list[OutboxMessage]:
    async with runtime.db.read() as session:
        return list(
            (
                await session.exec(
                    select(OutboxMessage).where(OutboxMessage.topic == PUSH_TOPIC).order_by(col(OutboxMessage.id))
                )
            ).all()
        )


async def failed_delivery(runtime: Any, topic: str, within: float = 10.0) -> OutboxMessage:
    """The message of `topic` once a delivery of it has failed (the app's own dispatcher may be the one trying)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        await runtime.dispatcher.drain()
        async with runtime.db.read() as session:
            message = (await session.exec(select(OutboxMessage).where(OutboxMessage.topic == topic))).one()
        if message.last_error is not None:
            return message
        assert loop.time() < deadline, f"no delivery of {topic} failed"
        await asyncio.sleep(0.05)


async def test_a_fired_order_publishes_each_card_once_as_the_database_has_it(
    runtime: Any, demo: None, live: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = record_publishes(runtime, monkeypatch)
    scene = await open_check(runtime, table="12")
    fire_id = await fire(
        runtime, scene, [Order("GR-RIB", 2, seat=1, modifiers=["Medium rare"]), Order("FR-CAL"), Order("GR-BUR")]
    )

    await routed(runtime, fire_id)
    await runtime.dispatcher.drain()

    async with runtime.db.read() as session:
        tickets = (await session.exec(select(KitchenTicket).where(KitchenTicket.fire_id == fire_id))).all()
        # what a delivery would render from the committed rows
        fresh = await Publisher(runtime.channels, runtime.settings).card_messages(session, [t.id or 0 for t in tickets])
    assert len(tickets) == 3  # Grill, Fry, Expo
    cards = [(channel, message) for channel, message in published if message["type"] == "card"]
    assert sorted(message["id"] for _channel, message in cards) == sorted(f"ticket-{t.id}" for t in tickets)
    assert sorted(cards, key=lambda c: c[1]["id"]) == sorted(
        ((channel, message) for channel, messages in fresh.items() for message in messages), key=lambda c: c[1]["id"]
    )
    assert all(push.delivered_at is not None for push in await pushes(runtime))


async def test_cards_of_a_routing_that_rolls_back_are_never_published(
    runtime: Any, demo: None, live: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = record_publishes(runtime, monkeypatch)

    async def kitchen_falls_over(_session: Any, _event: KitchenTicketsChanged) -> None:
        raise RuntimeError("the routing transaction fails after the cards were rendered")

    runtime.bus.subscribe(KitchenTicketsChanged, kitchen_falls_over)
    scene = await open_check(runtime, table="12")
    fire_id = await fire(runtime, scene, [Order("GR-RIB"), Order("FR-CAL")])

    fire_message = await failed_delivery(runtime, "kitchen.fire")

    async with runtime.db.read() as session:
        tickets = (await session.exec(select(KitchenTicket).where(KitchenTicket.fire_id == fire_id))).all()
    assert tickets == []
    assert published == []
    assert await pushes(runtime) == []
    # the fire is owed still, to be routed again
    assert fire_message.delivered_at is None
    assert "the routing transaction fails" in (fire_message.last_error or "")
