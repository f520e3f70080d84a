"""Fixtures for house accounts and invoices: the app without background workers (tests deliver the outbox)."""

from __future__ import annotations

import pytest

from app.lib.settings import Settings


@pytest.fixture
async def settings(settings: Settings) -> Settings:
    """No background workers: tests post the outbox when they mean to."""
    settings.run_workers = False
    return settings
