"""Fixtures for settling checks: the app running in the test's loop, and a terminal the test controls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar

from app.checks.delivery import TERMINAL_KEY
from app.checks.terminal import SimulatedTerminal
from app.lib.settings import Settings


@pytest.fixture
async def settings(settings: Settings) -> Settings:
    """The test's settings without background workers: tests drain the outbox themselves, when they mean to."""
    settings.run_workers = False
    return settings


@pytest.fixture
async def live(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """The app's lifespan (channels, outbox dispatcher) in the test's own event loop, as one process runs it."""
    started, stopping = asyncio.Event(), asyncio.Event()

    async def run() -> None:
        async with app.lifespan():
            started.set()
            await stopping.wait()

    task = asyncio.create_task(run())
    await asyncio.wait_for(started.wait(), timeout=10)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        yield client
    stopping.set()
    await task


@pytest.fixture
async def terminal(runtime: Any, settings: Any) -> SimulatedTerminal:
    """The card terminal the app talks to, scriptable: approve, decline or time out on demand."""
    simulated = SimulatedTerminal(settings.var_dir / "terminal-test")
    runtime.db.context[TERMINAL_KEY] = simulated
    return simulated
