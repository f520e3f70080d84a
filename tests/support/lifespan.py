"""An app served in the test's own event loop, as one server process runs it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

BASE_URL = "http://testserver.local"


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app's lifespan (channels, outbox dispatcher, workers) and a client on it.

    The lifespan is entered and left in one task, as a server does: a fixture's setup and teardown run in
    different tasks.
    """
    started, stopping = asyncio.Event(), asyncio.Event()

    async def run() -> None:
        async with app.lifespan():
            started.set()
            await stopping.wait()

    task = asyncio.create_task(run())
    await asyncio.wait_for(started.wait(), timeout=10)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
            yield client
    finally:
        stopping.set()
        await task
