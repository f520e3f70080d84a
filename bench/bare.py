"""The floor under the app: publish → websocket receive through the same channels setup, no database."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

import websockets
from litestar import Litestar, WebSocket, websocket

from app.lib.settings import Settings
from app.main import channels_plugin
from bench.stats import summary

CHANNEL = "bench-bare"


def create_bare_app() -> Litestar:
    """A websocket that forwards one channel, and an endpoint that publishes to it, on the app's channels."""
    settings = Settings()
    channels = channels_plugin(settings)

    @websocket("/ws")
    async def relay(socket: WebSocket[Any, Any, Any]) -> None:
        await socket.accept()
        async with channels.start_subscription([CHANNEL]) as subscriber:
            await socket.send_text("ready")

            async def forward() -> None:
                async for message in subscriber.iter_events():
                    await socket.send_text(message.decode() if isinstance(message, bytes) else str(message))

            async def until_closed() -> None:
                while (await socket.receive())["type"] != "websocket.disconnect":
                    pass

            # the relay ends when the listener goes, so the server can shut down
            tasks = [asyncio.create_task(forward()), asyncio.create_task(until_closed())]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                task.cancel()

    @websocket("/publish")
    async def publish(socket: WebSocket[Any, Any, Any]) -> None:
        await socket.accept()
        while True:
            text = await socket.receive_text()
            await channels.wait_published(text, channels=[CHANNEL])

    return Litestar(route_handlers=[relay, publish], plugins=[channels])


async def measure(base_ws: str, count: int = 500, rate_per_s: float = 200.0) -> dict[str, float]:
    """Publish `count` stamped messages and time each until a subscriber's websocket receives it."""
    latencies: list[float] = []
    async with websockets.connect(f"{base_ws}/ws") as listener, websockets.connect(f"{base_ws}/publish") as sender:
        assert await listener.recv() == "ready"
        received: dict[int, float] = {}

        async def listen() -> None:
            while len(received) < count:
                raw = await listener.recv()
                received[json.loads(raw)["n"]] = time.perf_counter()

        task = asyncio.create_task(listen())
        sent: dict[int, float] = {}
        for n in range(count):
            sent[n] = time.perf_counter()
            await sender.send(json.dumps({"n": n}))
            await asyncio.sleep(1 / rate_per_s)
        await asyncio.wait_for(task, timeout=30)
        latencies = [(received[n] - sent[n]) * 1000 for n in range(count)]
    return summary(latencies)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(create_bare_app(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
    os._exit(0)
