"""Kitchen tests publish on the app's channels without running its lifespan; close them after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar import Litestar


@pytest.fixture(autouse=True)
async def _close_channels(app: Litestar) -> AsyncIterator[None]:
    yield
    close = getattr(app.state.runtime.channels, "close_backend", None)
    if close is not None:
        await close()
