"""Manager pages deliver nothing in the background: their tests run the app without its workers."""

from __future__ import annotations

import pytest

from app.lib.settings import Settings


@pytest.fixture
async def settings(settings: Settings) -> Settings:
    """The suite's settings with the outbox dispatcher and print worker left off."""
    settings.run_workers = False
    return settings
