"""Fixtures for the JSON API: bearer tokens, and the app in the test's own event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.lib.settings import Settings
from app.staff.services import create_api_token


@pytest.fixture
async def settings(settings: Settings) -> Settings:
    """No background workers: tests deliver the outbox when they mean to."""
    settings.run_workers = False
    return settings


@pytest.fixture
async def api(app: Any, demo: None) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the running app (lifespan in this loop), without credentials."""
    started, stopping = asyncio.Event(), asyncio.Event()

    async def run() -> None:
        async with app.lifespan():
            started.set()
            await stopping.wait()

    task = asyncio.create_task(run())
    await asyncio.wait_for(started.wait(), timeout=10)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as client:
        yield client
    stopping.set()
    await task


async def _token(runtime: Any, scopes: str) -> dict[str, str]:
    async with runtime.db.write() as session:
        token = await create_api_token(session, name=f"ERP {scopes}", scopes=scopes)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def reader(runtime: Any, demo: None) -> dict[str, str]:
    """Headers of an integration allowed to read."""
    return await _token(runtime, "read")


@pytest.fixture
async def writer(runtime: Any, demo: None) -> dict[str, str]:
    """Headers of an integration allowed to read and write."""
    return await _token(runtime, "read,write")
