"""A head office (the test's app, on the backend under test) and a venue on SQLite that can join it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar

from app.lib.settings import Settings
from app.main import create_app
from tests.support.services import SqliteTemplate


@pytest.fixture
async def settings(settings: Settings) -> Settings:
    """Every app of these tests is a head office, unless it is the venue below."""
    return settings.model_copy(update={"role": "head_office"})


@pytest.fixture
async def venue_app(tmp_path: Path, sqlite_template: SqliteTemplate, settings: Settings) -> AsyncIterator[Litestar]:
    """A venue on its own SQLite file, run without background workers (tests send when they choose)."""
    venue_settings = settings.model_copy(
        update={
            "role": "venue",
            "database_url": sqlite_template.fresh(tmp_path / "venue.db"),
            "redis_url": None,
            "var_dir": tmp_path / "venue-var",
            "run_workers": False,
        }
    )
    application = create_app(venue_settings)
    yield application
    await application.state.runtime.db.dispose()


@pytest.fixture
async def venue(venue_app: Litestar) -> Any:
    """The venue's runtime (database, settings)."""
    return venue_app.state.runtime


@pytest.fixture
def to_head_office(app: Litestar) -> httpx.AsyncBaseTransport:
    """The venue's road to head office: straight into the head office app."""
    return httpx.ASGITransport(app=app)


@pytest.fixture
async def api(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A client on head office's venue endpoints, as a venue's sender is."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://head-office.test") as client:
        yield client
