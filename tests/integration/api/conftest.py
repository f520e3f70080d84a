"""Fixtures for the JSON API: bearer tokens, and the app in the test's own event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.lib.settings import Settings
from app.staff.services import create_api_token
from tests.support.lifespan import serving


@pytest.fixture
async def settings(settings: Settings) -> Settings:
    """No background workers: tests deliver the outbox when they mean to."""
    settings.run_workers = False
    return settings


@pytest.fixture
async def api(app: Any, demo: None) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the running app (lifespan in this loop), without credentials."""
    async with serving(app) as client:
        yield client


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
